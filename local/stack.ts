/**
 * The whole provisioner on loopback, on the code that deploys.
 *
 * The stack sets the environment the deployment gives the functions (table, bus, state machine ARNs, scheduler
 * settings) and points every AWS SDK client at a loopback peer through the standard AWS_ENDPOINT_URL_<SERVICE>
 * variables: dynalite (DynamoDB), the Step Functions simulator (the shipped ASL run by aws-local-stepfunctions, task
 * states bound to the task handlers), the EventBridge simulator (every event appended to $DATA_DIR/events.ndjson;
 * each event routed to every function whose serverless.yml rule pattern matches it, invoked asynchronously as Lambda
 * does, retries and on-failure destination included: ./lambda-async.ts), the SNS and Secrets Manager simulators
 * (notifications), the Scheduler simulator (one-time
 * schedules fire scheduleTarget) and the provider simulators. Then it calls the handlers serverless.yml names (./handlers.ts),
 * so the HTTP API, the queue intake and the workflows run exactly the deployed wiring (functions/wiring/*).
 */
import './polyfills';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ENV } from '../functions/contract/environment.js';
import { startBus } from './bus';
import { startHousekeeping, startSchedules } from './clock';
import { startDynalite } from './dynalite';
import { applyEnvironment, localEnvironment } from './environment';
import { SERVERLESS_YML, createHandlerLoader } from './handlers';
import { openHttpFront } from './http-front';
import { ACCOUNT, LOCAL_PRINCIPAL, REGION, STAGE_PREFIX } from './identity';
import { ACCOUNT_FIXTURE, startProviders } from './providers';
import { startAccountSimulator } from './simulators/account';
import { startLambdaSimulator } from './simulators/lambda';
import { startSecretsManagerSimulator } from './simulators/secrets-manager';
import { startSnsSimulator } from './simulators/sns';
import { startWorkflows } from './workflow-wiring';

export { REGION } from './identity';

export interface StackOptions {
  port: number;
  dataDir: string;
  /** Keep nothing on disk (DynamoDB in memory). */
  memory?: boolean;
  /** Multiplies the workflows' retry and wait intervals and the schedules' delays (default 0.02). */
  timeScale?: number;
  /** Simulated provisioning time of a cluster, in ms (default 5000). */
  readyAfterMs?: number;
  /**
   * The SageMaker simulator's other timings, in ms (docs/cli.md "Local stack"): deletion (default 2000), RollingBack ->
   * Failed (default 100), and how long a group with MinInstanceCount waits for its minimum (default 0: it rolls back
   * at once); `launchAfterMs` when the instances are launched or the shortage is known (default: at ready). local/start.ts
   * turns HyperPod's magnitudes into these at the time scale (LOCAL_HYPERPOD_TIMINGS=real).
   */
  sagemakerTimings?: { deleteAfterMs?: number; rollbackMs?: number; minimumWaitMs?: number; launchAfterMs?: number };
  log?: (line: string) => void;
}

export interface RunningStack {
  apiUrl: string;
  endpoints: Record<string, string>;
  eventsFile: string;
  close(): Promise<void>;
}

export const startStack = async (options: StackOptions): Promise<RunningStack> => {
  const log = options.log ?? (() => undefined);
  const scale = options.timeScale ?? 0.02;
  mkdirSync(options.dataDir, { recursive: true });
  const closers: Array<() => Promise<void>> = [];
  const defer = (close: () => Promise<void>) => void closers.push(close);
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };

  try {
    // The HTTP port first: a taken port is the likeliest failure, and it should fail before anything else starts.
    const http = await openHttpFront(options.port, defer);
    const apiUrl = http.apiUrl;

    const db = await startDynalite(options.memory ? {} : { path: join(options.dataDir, 'dynamo') });
    defer(() => db.close());

    const providers = await startProviders({ ...options, timeScale: scale }, defer);

    // The deployment's environment (functions/contract/environment.js, with the local values and the settings of
    // ./settings.ts), with every SDK pointed at loopback.
    const busName = STAGE_PREFIX;
    applyEnvironment(process.env, {
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
      ...localEnvironment({
        region: REGION,
        account: ACCOUNT,
        prefix: STAGE_PREFIX,
        principal: LOCAL_PRINCIPAL,
        timeScale: scale,
        env: { ...process.env },
        ...(providers.tirSimulator ? { tirSimulator: providers.tirSimulator } : {}),
        newKey: () => randomBytes(32).toString('hex'),
      }),
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      AWS_ENDPOINT_URL_SAGEMAKER: providers.sagemakerEndpoint,
    });

    // Every function is reached through serverless.yml's `handler:`, loaded once the environment is set.
    const serverlessYml = readFileSync(SERVERLESS_YML, 'utf8');
    const loader = createHandlerLoader(serverlessYml);

    // The account the pre-flight plan reads (docs/plan.md): Service Quotas, EC2, S3, IAM and EKS on their own ports and
    // wire protocols, from local/account.json; and Lambda's Invoke, answered by the plan function's handler.
    const account = await startAccountSimulator({ fixture: ACCOUNT_FIXTURE, defaultRegion: REGION });
    defer(() => account.close());
    applyEnvironment(process.env, account.environment);
    const planHandler = await loader.handler('plan');
    const lambda = await startLambdaSimulator({
      functions: { [process.env[ENV.planFunctionName]!]: (event) => loader.invoke('plan', event, { handler: planHandler }) },
    });
    defer(() => lambda.close());
    process.env.AWS_ENDPOINT_URL_LAMBDA = lambda.endpoint;

    // Notifications (functions/core/notify.ts): SNS and Secrets Manager on loopback; any topic of the local account;
    // webhook secrets under the default prefix; loopback webhooks (over http too), which a deployment never allows.
    const sns = await startSnsSimulator({
      region: REGION,
      account: ACCOUNT,
      onPublish: (m) => log(`sns    ${m.topicArn}  ${m.attributes.type ?? ''}`),
    });
    defer(() => sns.close());
    const secrets = await startSecretsManagerSimulator({ region: REGION, account: ACCOUNT });
    defer(() => secrets.close());
    applyEnvironment(process.env, { AWS_ENDPOINT_URL_SNS: sns.endpoint, AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint });

    // Every handler, imported now that the environment is set (their dependencies are built on first use anyway).
    await loader.preload();

    // The tables, as deployed (functions/contract/table.js).
    const [{ ensureClustersTable }, { ensureOfferingsTable }, { DynamoDBClient }] = await Promise.all([
      import('../functions/adapters/dynamo-table'),
      import('../functions/adapters/offerings-dynamo'),
      import('@aws-sdk/client-dynamodb'),
    ]);
    await ensureClustersTable(new DynamoDBClient({}), process.env[ENV.clustersTable]!);
    await ensureOfferingsTable(new DynamoDBClient({}), process.env[ENV.offeringsTable]!);

    const bus = await startBus({ dataDir: options.dataDir, busName, timeScale: scale, serverlessYml, loader, log, defer });
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = bus.simulator.endpoint;
    // Like EventBridge, only the events of the regions wired to the home bus arrive (the hyperPodEventRegions setting,
    // default the stack's region): a cluster elsewhere is polled.
    providers.onHyperPodEvent(bus.hyperPodEvents((process.env[ENV.hyperPodEventRegions] || REGION).split(',').map((r) => r.trim())));

    const sfn = await startWorkflows({ loader, bus, timeScale: scale, defer });
    process.env.AWS_ENDPOINT_URL_SFN = sfn.endpoint;

    const scheduler = await startSchedules({ loader, timeScale: scale, log, defer });
    process.env.AWS_ENDPOINT_URL_SCHEDULER = scheduler.endpoint;

    await http.serve({ loader, bus, busName, sns, log });

    await startHousekeeping({ loader, timeScale: scale, log, defer });

    return {
      apiUrl,
      eventsFile: bus.eventsFile,
      endpoints: {
        'HTTP API': apiUrl,
        DynamoDB: `${db.endpoint} (${options.memory ? 'in memory' : join(options.dataDir, 'dynamo')})`,
        'Step Functions': sfn.endpoint,
        EventBridge: `${bus.simulator.endpoint} (and PutEvents on ${apiUrl}) -> ${bus.eventsFile}`,
        SNS: sns.endpoint,
        'Secrets Manager': secrets.endpoint,
        Scheduler: scheduler.endpoint,
        'SageMaker HyperPod': `${providers.sagemakerEndpoint}${providers.external.sagemaker ? ' (external)' : ' (simulator)'}`,
        'E2E TIR': `${providers.tirBaseUrl}${providers.external.tir ? ' (external)' : ' (simulator)'}`,
        'Account (plan)': `${Object.values(account.endpoints).join(', ')} (local/account.json)`,
        Lambda: `${lambda.endpoint} (Invoke: the plan function)`,
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
};
