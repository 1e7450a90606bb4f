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
 * schedules fire scheduleTarget) and the provider simulators. Then it calls the handlers' default exports, so the HTTP
 * API, the queue intake and the workflows run exactly the deployed wiring (functions/shared/deps/*).
 */
import './polyfills';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { EventEntry } from '../functions/core/events';
import { ROUTES, routeKey, type HttpFunctionKey } from '../functions/contract/routes.js';
import { startDynalite } from './dynalite';
import { createAsyncInvoker, type DestinationRecord } from './lambda-async';
import { MAX_JSON_NESTING, jsonNesting } from './simulators/common';
import { isPutEvents, startEventBridgeSimulator, type PutEventsEntry } from './simulators/eventbridge';
import { matchingRules, rulesOfServerless, type BusEvent, type FunctionRule } from './simulators/event-patterns';
import { startSecretsManagerSimulator } from './simulators/secrets-manager';
import { startSnsSimulator } from './simulators/sns';
import { startAccountSimulator, type AccountFixture } from './simulators/account';
import { startLambdaSimulator } from './simulators/lambda';
import { startSageMakerSimulator, type ClusterEventRecordDetail, type ClusterStateChangeDetail } from './simulators/sagemaker';
import { startSchedulerSimulator } from './simulators/scheduler';
import { startStepFunctionsSimulator } from './simulators/step-functions';
import { startTirSimulator } from './simulators/tir';
import { localSettings } from './settings';
import { LocalWorkflows, lambdaContext, type LambdaHandler } from './workflows';

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
   * at once). `hyperPodTimings` (sagemakerTimingsOf) turns HyperPod's magnitudes into these at the time scale.
   */
  sagemakerTimings?: { deleteAfterMs?: number; rollbackMs?: number; minimumWaitMs?: number };
  log?: (line: string) => void;
}

export interface RunningStack {
  apiUrl: string;
  endpoints: Record<string, string>;
  eventsFile: string;
  close(): Promise<void>;
}

export const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const STAGE_PREFIX = 'gpu-cluster-provisioner-local';
/** The principal every local HTTP request comes from (no SigV4 locally); configured as the deployment's admin. */
const LOCAL_PRINCIPAL = `arn:aws:iam::${ACCOUNT}:user/local`;

/**
 * The small AWS account the pre-flight plan reads locally (quotas, subnets, roles, scripts, EKS, training plans), and
 * the capacity the SageMaker simulator starts with (`capacity`: a few nodes of each big GPU type, per region where a
 * demo needs it; the story of each example is told in the file).
 */
const ACCOUNT_FIXTURE = JSON.parse(readFileSync(new URL('./account.json', import.meta.url), 'utf8')) as AccountFixture & {
  capacity: { everyRegion: Record<string, number>; regions: Record<string, Record<string, number>> };
};
const SAGEMAKER_CAPACITY = ACCOUNT_FIXTURE.capacity.everyRegion;

const listen = (server: Server, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });

/** A body for the local intake endpoints (one SQS message or EventBridge entry at most: 256 KiB). */
const LOCAL_INTAKE_MAX_BYTES = 256 * 1024;

/**
 * The body, or `undefined` once it passes `limit` bytes: reading stops there (a declared Content-Length over the limit
 * stops it at once), so nothing past the limit is buffered; the caller answers 413 and the connection is closed.
 */
const readBody = (req: IncomingMessage, limit: number): Promise<string | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const stop = () => {
      req.off('data', onData);
      req.pause();
      resolve(undefined);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > DRAIN_MAX_BYTES) stop();
      // Past the limit and below the drain cap: read and dropped, so the client has sent it all when the 413 comes
      // (answering mid-upload would meet a client still writing: EPIPE instead of the answer).
      else over = true;
    };
    req.on('data', onData);
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    if (Number(req.headers['content-length']) > DRAIN_MAX_BYTES) stop();
  });

/** Bodies over the limit are drained up to this size before the 413; larger ones are cut off. */
const DRAIN_MAX_BYTES = 8 * 1024 * 1024;

/** A path segment decoded, or as it came when it is no valid percent-encoding (`%ZZ`): the handler then answers 404. */
const pathSegment = (raw: string): string => {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
};

const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
};

/** An API Gateway HTTP API (payload v2) event for a local request. No SigV4 locally: the caller is a fixed principal. */
const apiGatewayEvent = (req: IncomingMessage, url: URL, routeKey: string, body: string, pathParameters?: Record<string, string>) => {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
  const query = Object.fromEntries(url.searchParams.entries());
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(pathParameters ? { pathParameters } : {}),
    requestContext: {
      accountId: ACCOUNT,
      apiId: 'local',
      domainName: url.host,
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      authorizer: {
        iam: {
          accessKey: 'LOCAL',
          accountId: ACCOUNT,
          callerId: 'local',
          principalOrgId: null,
          userArn: LOCAL_PRINCIPAL,
          userId: 'local',
          cognitoIdentity: null,
        },
      },
    },
    ...(body ? { body } : {}),
    isBase64Encoded: false,
  };
};

export const startStack = async (options: StackOptions): Promise<RunningStack> => {
  const log = options.log ?? (() => undefined);
  const scale = options.timeScale ?? 0.02;
  mkdirSync(options.dataDir, { recursive: true });
  const eventsFile = join(options.dataDir, 'events.ndjson');
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };

  try {
    // The HTTP port first: a taken port is the likeliest failure, and it should fail before anything else starts.
    const http = createServer();
    // CONNECT (a proxy's tunnel request) is no method of the API: Node hands it to 'connect', which would otherwise
    // close the socket without an answer.
    http.on('connect', (_req: IncomingMessage, socket: import('node:stream').Duplex) => {
      socket.end('HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, POST, DELETE\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    // Until every part is up, a request gets a prompt 503 (Retry-After) instead of a hang.
    const starting = (_req: IncomingMessage, res: ServerResponse) =>
      send(res, 503, { code: 'Starting', message: 'The local stack is starting; retry in a moment' }, { 'retry-after': '1' });
    http.on('request', starting);
    await listen(http, options.port);
    closers.push(
      () =>
        new Promise((resolve) => {
          http.closeAllConnections();
          http.close(() => resolve());
        }),
    );
    const apiUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

    const db = await startDynalite(options.memory ? {} : { path: join(options.dataDir, 'dynamo') });
    closers.push(() => db.close());

    const external = { sagemaker: process.env.AWS_ENDPOINT_URL_SAGEMAKER, tir: process.env.TIR_API_BASE_URL };
    let sagemakerEndpoint = external.sagemaker;
    // Set once the bus is up: HyperPod's events go to it through PutEvents (the SDK, as AWS would). Like EventBridge,
    // only the events of the regions wired to the home bus arrive (HYPERPOD_EVENT_REGIONS, default the stack's region):
    // a cluster elsewhere is polled.
    let hyperPodEvent: (detailType: string, detail: ClusterStateChangeDetail | ClusterEventRecordDetail, region: string) => void = () =>
      undefined;
    if (!sagemakerEndpoint) {
      // Like a real cloud, the simulators keep their clusters across a restart (kill -9 included) unless --memory.
      // A GPU shortage that clears: ml.p5.48xlarge has 2 nodes, so a create of more is accepted and then rolls back
      // with EC2's insufficient-capacity message (as HyperPod does); once that happens, 2 more nodes arrive a few
      // backoff rounds later (visible in --watch: just enough for the example's 4), and leave again 30 s after.
      const capacityReliefMs = Math.max(500, 5 * 30_000 * scale);
      let relief: NodeJS.Timeout | undefined;
      // Only in the stack's own region (examples/hyperpod-fallback.json asks another type, short everywhere).
      const relieve = ({ instanceType, region }: { instanceType: string; region: string }) => {
        if (instanceType !== 'ml.p5.48xlarge' || region !== REGION || relief) return;
        relief = setTimeout(() => {
          sim.setCapacity('ml.p5.48xlarge', 4, REGION);
          relief = setTimeout(() => {
            sim.setCapacity('ml.p5.48xlarge', SAGEMAKER_CAPACITY['ml.p5.48xlarge']!, REGION);
            relief = undefined;
          }, 30_000);
        }, capacityReliefMs);
      };
      // Like a real cloud, the simulators keep their clusters across a restart (kill -9 included) unless --memory.
      const sim = await startSageMakerSimulator({
        readyAfterMs: options.readyAfterMs ?? 5000,
        deleteAfterMs: options.sagemakerTimings?.deleteAfterMs ?? 2000,
        ...(options.sagemakerTimings?.rollbackMs !== undefined ? { rollbackMs: options.sagemakerTimings.rollbackMs } : {}),
        ...(options.sagemakerTimings?.minimumWaitMs !== undefined ? { minimumWaitMs: options.sagemakerTimings.minimumWaitMs } : {}),
        capacity: SAGEMAKER_CAPACITY,
        regionCapacity: ACCOUNT_FIXTURE.capacity.regions,
        defaultCapacity: 64,
        onShortage: relieve,
        // HyperPod's state-change events, put on the default bus like the service does (routed once the bus is up).
        onStateChange: (detail, { region }) => hyperPodEvent('SageMaker HyperPod Cluster State Change', detail, region),
        // Continuous mode's cluster events (a group short of capacity), on the same bus.
        onClusterEvent: (detail, { region }) => hyperPodEvent('SageMaker HyperPod Cluster Event', detail, region),
        // What DescribeTrainingPlan answers: the account of local/account.json (the pre-flight plan reads it).
        trainingPlans: ACCOUNT_FIXTURE.trainingPlans ?? [],
        // What SearchTrainingPlanOfferings answers: reserved capacity a long wait is offered (never bought).
        trainingPlanOfferings: ACCOUNT_FIXTURE.trainingPlanOfferings ?? [],
        ...(options.memory ? {} : { stateFile: join(options.dataDir, 'sagemaker-state.json') }),
      });
      // The shortage demo starts over at each start: p5 is short again, whatever a previous run had raised it to.
      sim.setCapacity('ml.p5.48xlarge', SAGEMAKER_CAPACITY['ml.p5.48xlarge']!, REGION);
      closers.push(() => sim.close());
      closers.push(async () => clearTimeout(relief));
      sagemakerEndpoint = sim.endpoint;
    }
    let tirBaseUrl = external.tir;
    if (!tirBaseUrl) {
      const sim = await startTirSimulator({
        readyAfterMs: options.readyAfterMs ?? 5000,
        deleteAfterMs: 2000,
        defaultCapacity: 32,
        // The security groups of the examples (examples/*.json), for the pre-flight plan's security group check.
        securityGroupIds: [3, 301],
        ...(options.memory ? {} : { stateFile: join(options.dataDir, 'tir-state.json') }),
      });
      closers.push(() => sim.close());
      tirBaseUrl = sim.baseUrl;
      process.env.TIR_API_KEY = sim.apiKey;
      process.env.TIR_AUTH_TOKEN = sim.authToken;
    }

    const appendEvent = (entry: Omit<PutEventsEntry, 'Time'> & { Time?: string }) => {
      const line = {
        Source: entry.Source,
        DetailType: entry.DetailType,
        Detail: entry.Detail,
        EventBusName: entry.EventBusName,
        Time: entry.Time ?? new Date().toISOString(),
      };
      appendFileSync(eventsFile, `${JSON.stringify(line)}\n`);
      log(`event  ${entry.DetailType}  ${String((entry.Detail as { requestId?: string }).requestId ?? '')}`);
    };

    // The deployment's environment, with every SDK pointed at loopback.
    const busName = STAGE_PREFIX;
    Object.assign(process.env, {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
      CLUSTERS_TABLE: `${STAGE_PREFIX}-clusters`,
      OFFERINGS_TABLE: `${STAGE_PREFIX}-offerings`,
      EVENT_BUS_NAME: busName,
      DEPLOYMENT_NAME: STAGE_PREFIX,
      PROVISION_STATE_MACHINE_ARN: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${STAGE_PREFIX}-provision-cluster`,
      DELETE_STATE_MACHINE_ARN: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${STAGE_PREFIX}-delete-cluster`,
      SCHEDULER_GROUP_NAME: STAGE_PREFIX,
      SCHEDULER_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/${STAGE_PREFIX}-scheduler`,
      SCHEDULE_TARGET_ARN: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${STAGE_PREFIX}-scheduleTarget`,
      SCHEDULER_DLQ_ARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${STAGE_PREFIX}-schedules-dlq`,
      // The deployment's allow-lists and defaults a request meets (serverless.yml params): settings of npm start, whose
      // defaults admit every example (./settings.ts).
      ...localSettings(process.env, { region: REGION, account: ACCOUNT }),
      // The one local caller (every local request is signed by it, see apiGatewayEvent) is an admin: it sees and may
      // delete every request, also those that came by the queue, the bus or a schedule, and calls the admin routes.
      ADMIN_PRINCIPALS: LOCAL_PRINCIPAL,
      // The key list cursors are sealed with: one per stack run (a cursor of an earlier run is refused).
      CURSOR_KEY: process.env.CURSOR_KEY || randomBytes(32).toString('hex'),
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      AWS_ENDPOINT_URL_SAGEMAKER: sagemakerEndpoint,
      TIR_API_BASE_URL: tirBaseUrl,
      // A request waiting this long for capacity is offered reserved capacity (30 minutes deployed; scaled here).
      RESERVED_OFFERS_AFTER_SECONDS: process.env.RESERVED_OFFERS_AFTER_SECONDS ?? String(Math.max(1, Math.round(1800 * scale))),
    });
    delete process.env.TIR_CREDENTIALS_SECRET_ARN;

    // The account the pre-flight plan reads (docs/plan.md): Service Quotas, EC2, S3, IAM and EKS on their own ports and
    // wire protocols, from local/account.json; and Lambda's Invoke, answered by the plan function's handler.
    const account = await startAccountSimulator({ fixture: ACCOUNT_FIXTURE, defaultRegion: REGION });
    closers.push(() => account.close());
    Object.assign(process.env, account.environment, {
      PLAN_FUNCTION_NAME: `${STAGE_PREFIX}-plan`,
    });
    const planFunction = await import('../functions/handlers/plan');
    const lambda = await startLambdaSimulator({
      functions: { [`${STAGE_PREFIX}-plan`]: (event) => planFunction.handler(event as never, lambdaContext('plan')) },
    });
    closers.push(() => lambda.close());
    process.env.AWS_ENDPOINT_URL_LAMBDA = lambda.endpoint;

    // Notifications (functions/core/notify.ts): SNS and Secrets Manager on loopback; any topic of the local account;
    // webhook secrets under the default prefix; loopback webhooks (over http too), which a deployment never allows.
    const sns = await startSnsSimulator({
      region: REGION,
      account: ACCOUNT,
      onPublish: (m) => log(`sns    ${m.topicArn}  ${m.attributes.type ?? ''}`),
    });
    closers.push(() => sns.close());
    const secrets = await startSecretsManagerSimulator({ region: REGION, account: ACCOUNT });
    closers.push(() => secrets.close());
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SNS: sns.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      NOTIFY_ALLOW_LOOPBACK: 'true',
    });

    // Handlers are imported after the environment is set (their dependencies are built on first use anyway).
    const [tasks, http_, sqs, schedule, table] = await Promise.all([
      Promise.all([
        import('../functions/handlers/tasks/create-cluster'),
        import('../functions/handlers/tasks/poll-cluster'),
        import('../functions/handlers/tasks/delete-cluster'),
        import('../functions/handlers/tasks/record-outcome'),
        import('../functions/handlers/tasks/park-execution'),
      ]),
      // Every HTTP function of the contract's routes, by function key (the Record type makes the list complete).
      Promise.all(
        Object.entries({
          httpSubmit: () => import('../functions/handlers/http/submit'),
          httpGet: () => import('../functions/handlers/http/get'),
          httpList: () => import('../functions/handlers/http/list'),
          httpDelete: () => import('../functions/handlers/http/delete'),
          httpReconcile: () => import('../functions/handlers/http/reconcile'),
          httpOrphans: () => import('../functions/handlers/http/orphans'),
          httpOfferings: () => import('../functions/handlers/http/offerings'),
        } satisfies Record<HttpFunctionKey, () => Promise<{ handler: unknown }>>).map(
          async ([key, load]) => [key, (await load()).handler] as const,
        ),
      ).then((entries) => new Map(entries)),
      import('../functions/handlers/sqs-submit'),
      import('../functions/handlers/schedule-target'),
      import('../functions/adapters/dynamo-table'),
    ]);
    const [reconciler, reconcileWiring, sweeper, sweepWiring] = await Promise.all([
      import('../functions/handlers/reconcile'),
      import('../functions/wiring/reconcile'),
      import('../functions/handlers/sweep'),
      import('../functions/wiring/sweep'),
    ]);
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    await table.ensureClustersTable(new DynamoDBClient({}), process.env.CLUSTERS_TABLE!);
    const { ensureOfferingsTable } = await import('../functions/adapters/offerings-dynamo');
    await ensureOfferingsTable(new DynamoDBClient({}), process.env.OFFERINGS_TABLE!);

    const invoke = (name: string, handler: LambdaHandler, event: unknown) => handler(event as never, lambdaContext(name));

    // The EventBridge rules of serverless.yml (every function's eventBridge events with a pattern), routed as deployed:
    // each event goes to every function whose rule matches, on the bus the rule is on (./simulators/event-patterns.ts).
    const rules = rulesOfServerless(readFileSync(new URL('../serverless.yml', import.meta.url), 'utf8'));
    const ruleHandlers = new Map<string, Promise<LambdaHandler>>();
    const handlerOf = (rule: FunctionRule): Promise<LambdaHandler> => {
      const known = ruleHandlers.get(rule.handler);
      if (known) return known;
      const dot = rule.handler.lastIndexOf('.');
      const loaded = import(new URL(`../${rule.handler.slice(0, dot)}.ts`, import.meta.url).href).then(
        (module: Record<string, unknown>) => module[rule.handler.slice(dot + 1)] as LambdaHandler,
      );
      ruleHandlers.set(rule.handler, loaded);
      return loaded;
    };
    const deadLetters: Array<{ queue: string; record: DestinationRecord }> = [];
    const deadLettersFile = join(options.dataDir, 'dead-letters.ndjson');
    const lambdaAsync = createAsyncInvoker({
      timeScale: scale,
      log,
      onDeadLetter: (queue, record) => {
        deadLetters.push({ queue, record });
        appendFileSync(deadLettersFile, `${JSON.stringify({ queue, record })}\n`);
        log(`dead-letter  ${queue}  ${record.requestContext.functionArn}: ${record.responsePayload.errorType}`);
      },
    });
    closers.push(async () => lambdaAsync.close());
    const busOf = (name: string): FunctionRule['bus'] | undefined =>
      name === '' || name === 'default' || name.endsWith(':event-bus/default')
        ? 'default'
        : name === busName || name.endsWith(`:event-bus/${busName}`)
          ? 'project'
          : undefined;
    const route = (entry: Omit<PutEventsEntry, 'Time'> & { Time?: string }) => {
      const onBus = busOf(entry.EventBusName ?? 'default');
      if (!onBus) return;
      const event: BusEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType,
        source: entry.Source,
        account: ACCOUNT,
        time: (entry.Time ?? new Date().toISOString()).replace(/\.\d{3}Z$/, 'Z'),
        region: REGION,
        resources: [],
        detail: entry.Detail,
      };
      for (const rule of matchingRules(rules, onBus, event))
        lambdaAsync.invoke(
          {
            functionKey: rule.functionKey,
            functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${STAGE_PREFIX}-${rule.functionKey}`,
            maximumRetryAttempts: rule.maximumRetryAttempts,
            ...(rule.onFailureQueue ? { onFailureQueue: rule.onFailureQueue } : {}),
            call: async (e) => invoke(rule.functionKey, await handlerOf(rule), e),
          },
          event,
        );
    };
    const bus = await startEventBridgeSimulator({
      onEvent: (entry) => {
        appendEvent(entry);
        route(entry);
      },
    });
    closers.push(() => bus.close());
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = bus.endpoint;
    {
      const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
      const events = new EventBridgeClient({});
      const wired = (process.env.HYPERPOD_EVENT_REGIONS || REGION).split(',').map((r) => r.trim());
      hyperPodEvent = (detailType, detail, region) => {
        if (!wired.includes(region)) return;
        events
          .send(new PutEventsCommand({ Entries: [{ Source: 'aws.sagemaker', DetailType: detailType, Detail: JSON.stringify(detail) }] }))
          .catch((err: unknown) => log(`hyperpod event not put: ${(err as Error).message}`));
      };
    }

    const workflows = new LocalWorkflows({
      handlers: {
        createCluster: tasks[0].handler as LambdaHandler,
        pollCluster: tasks[1].handler as LambdaHandler,
        deleteCluster: tasks[2].handler as LambdaHandler,
        recordOutcome: tasks[3].handler as LambdaHandler,
        parkExecution: tasks[4].handler as LambdaHandler,
      },
      publish: async (entries: EventEntry[]) => {
        for (const e of entries) {
          appendEvent(e);
          route(e);
        }
      },
      timeScale: scale,
      // The memory of short offerings is real time in the tasks' code: scale its cap like every other wait.
      settings: { shortOfferingSeconds: 600 * scale },
    });
    closers.push(() => workflows.stopAll());
    const sfn = await startStepFunctionsSimulator(workflows);
    closers.push(() => sfn.close());
    process.env.AWS_ENDPOINT_URL_SFN = sfn.endpoint;

    const scheduler = await startSchedulerSimulator({
      timeScale: scale,
      fire: async (input) => void (await invoke('scheduleTarget', schedule.handler as LambdaHandler, input)),
      onError: (err) => log(`scheduleTarget failed: ${(err as Error).message}`),
    });
    closers.push(() => scheduler.close());
    process.env.AWS_ENDPOINT_URL_SCHEDULER = scheduler.endpoint;

    // Recurring schedules of config/schedules.yml that are enabled: rate(...) runs locally (scaled); cron(...) is
    // evaluated by EventBridge Scheduler once deployed.
    const recurring =
      (
        parseYaml(readFileSync(new URL('../config/schedules.yml', import.meta.url), 'utf8')) as {
          schedules?: Array<{ name: string; expression: string; enabled?: boolean; request: object }>;
        }
      ).schedules ?? [];
    for (const entry of recurring.filter((s) => s.enabled !== false)) {
      const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(entry.expression);
      if (!rate) {
        log(`schedule ${entry.name}: ${entry.expression} runs only when deployed (local schedules support rate(...))`);
        continue;
      }
      const unitMs = rate[2]!.startsWith('minute') ? 60_000 : rate[2]!.startsWith('hour') ? 3_600_000 : 86_400_000;
      const every = Math.max(1000, Number(rate[1]) * unitMs * scale);
      const timer = setInterval(() => {
        const scheduledTime = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        invoke('scheduleTarget', schedule.handler as LambdaHandler, { schedule: entry.name, scheduledTime, request: entry.request }).catch(
          (err) => log(`schedule ${entry.name} failed: ${(err as Error).message}`),
        );
      }, every);
      closers.push(async () => clearInterval(timer));
    }

    // The contract's routes, as API Gateway matches them: a `{param}` is one path segment; a trailing slash is allowed.
    const routes = ROUTES.map((route) => ({
      method: route.method,
      pattern: new RegExp(`^${route.path.replace(/\{[A-Za-z]+\}/g, '([^/]+)')}/?$`),
      routeKey: routeKey(route),
      handler: http_.get(route.functionKey) as LambdaHandler,
    }));

    const { MAX_BODY_BYTES, payloadTooLarge } = await import('../functions/platform/middleware/http');
    // The web console (console/): its page beside the API it calls, on the same origin.
    const { serveConsole } = await import('../console/serve');
    http.off('request', starting);
    http.on('request', (req, res) => {
      void (async () => {
        let url: URL;
        try {
          url = new URL(req.url ?? '/', apiUrl);
        } catch {
          return send(res, 404, { code: 'NotFound', message: 'No such route' });
        }
        if (await serveConsole(req, res, url.pathname)) return;
        const local = url.pathname.startsWith('/_local/');
        const limit = local ? LOCAL_INTAKE_MAX_BYTES : MAX_BODY_BYTES;
        const body = await readBody(req, limit);
        if (body === undefined) {
          // What the API answers for a body it will not take; the rest of the body is never read.
          const { code, message, errors } = payloadTooLarge(`is more than ${limit} bytes`, limit);
          return send(res, 413, { code, message, errors }, { connection: 'close' });
        }
        if (local && jsonNesting(body) > MAX_JSON_NESTING) {
          const message = `must nest at most ${MAX_JSON_NESTING} levels deep`;
          return send(res, 400, { code: 'ValidationFailed', message: `The body ${message}`, errors: [{ path: '', message }] });
        }
        // EventBridge PutEvents (AWS JSON 1.1) on this port too: `aws events put-events --endpoint-url <this>`.
        if (req.method === 'POST' && url.pathname === '/' && isPutEvents(req.headers)) {
          const answer = await bus.handle(req.headers, body);
          return send(res, answer.status, answer.body, answer.headers);
        }
        // Local intake: wrap a payload into the real event shapes and call the same handlers.
        if (req.method === 'POST' && url.pathname === '/_local/sqs') {
          let payloads: unknown[];
          try {
            const parsed = JSON.parse(body) as unknown;
            payloads = Array.isArray(parsed) ? parsed : [parsed];
          } catch {
            payloads = [body];
          }
          const records = payloads.slice(0, 10).map((p) => ({
            messageId: randomUUID(),
            receiptHandle: randomUUID(),
            body: typeof p === 'string' ? p : JSON.stringify(p),
            attributes: {
              ApproximateReceiveCount: '1',
              SentTimestamp: String(Date.now()),
              SenderId: 'local',
              ApproximateFirstReceiveTimestamp: String(Date.now()),
            },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${STAGE_PREFIX}-requests`,
            awsRegion: REGION,
          }));
          const result = await invoke('sqsSubmit', sqs.handler as LambdaHandler, { Records: records });
          return send(res, 200, { messageIds: records.map((r) => r.messageId), ...(result as object) });
        }
        if (req.method === 'POST' && url.pathname === '/_local/events') {
          const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
          const out = await new EventBridgeClient({}).send(
            new PutEventsCommand({
              Entries: [{ EventBusName: busName, Source: 'local.cli', DetailType: 'Provision Cluster Requested', Detail: body }],
            }),
          );
          return send(res, out.FailedEntryCount ? 400 : 200, { entries: out.Entries });
        }
        if (req.method === 'GET' && url.pathname === '/_local/sns') {
          const topic = url.searchParams.get('topic');
          return send(res, 200, { messages: sns.messages.filter((m) => !topic || m.topicArn === topic) });
        }
        if (req.method === 'GET' && url.pathname === '/_local/dead-letters') {
          const queue = url.searchParams.get('queue');
          return send(res, 200, { messages: deadLetters.filter((d) => !queue || d.queue === queue) });
        }
        if (req.method === 'GET' && url.pathname === '/_local/events') {
          let lines: string[] = [];
          try {
            lines = readFileSync(eventsFile, 'utf8').split('\n').filter(Boolean);
          } catch {
            // no event yet
          }
          const after = Math.max(0, Number(url.searchParams.get('after') ?? 0) || 0);
          return send(res, 200, { events: lines.slice(after).map((l) => JSON.parse(l) as unknown), next: lines.length });
        }
        for (const route of routes) {
          const match = req.method === route.method ? route.pattern.exec(url.pathname) : null;
          if (!match) continue;
          const params = match[1] ? { requestId: pathSegment(match[1]) } : undefined;
          const result = (await invoke(route.routeKey, route.handler, apiGatewayEvent(req, url, route.routeKey, body, params))) as {
            statusCode: number;
            headers?: Record<string, string>;
            body?: string;
          };
          return send(res, result.statusCode, result.body ?? '', result.headers ?? {});
        }
        send(res, 404, { code: 'NotFound', message: `No route ${req.method} ${url.pathname}` });
      })().catch((err: unknown) => {
        log(`request failed: ${(err as Error).message}`);
        if (!res.headersSent) send(res, 500, { code: 'InternalError', message: 'Internal error' });
      });
    });

    // The reconciler, as deployed every 5 minutes (scaled): at start it resumes what a previous run left behind.
    const reconcileHandler = reconciler.makeHandler(() => ({ ...reconcileWiring.reconcileDeps(), graceSeconds: Math.max(1, 60 * scale) }));
    const runReconcile = async () => {
      try {
        const report = (await invoke('reconcile', reconcileHandler as LambdaHandler, {})) as {
          actions: Array<{ requestId: string; action: string }>;
        };
        for (const a of report.actions.filter((x) => x.action !== 'running' && x.action !== 'recent'))
          log(`reconcile  ${a.action}  ${a.requestId}`);
      } catch (err) {
        log(`reconcile failed: ${(err as Error).message}`);
      }
    };
    await runReconcile();
    const reconcileTimer = setInterval(() => void runReconcile(), Math.max(1000, 300_000 * scale));
    closers.push(async () => clearInterval(reconcileTimer));
    // The orphan sweeper, as deployed every hour (scaled, its grace too): at start it deletes what a previous run left.
    const sweepHandler = sweeper.makeHandler(() => ({ ...sweepWiring.sweepDeps(), graceSeconds: Math.max(1, 1800 * scale) }));
    const runSweep = async () => {
      try {
        const report = (await invoke('sweep', sweepHandler as LambdaHandler, {})) as {
          items: Array<{ finding: string; action: string; clusterName: string; requestId?: string }>;
        };
        for (const i of report.items.filter((x) => x.finding === 'orphan' || x.action === 'deleted'))
          log(`sweep  ${i.finding === 'orphan' ? 'orphan' : 'deleted'}  ${i.clusterName}  ${i.requestId ?? ''}`);
      } catch (err) {
        log(`sweep failed: ${(err as Error).message}`);
      }
    };
    await runSweep();
    const sweepTimer = setInterval(() => void runSweep(), Math.max(1000, 3_600_000 * scale));
    closers.push(async () => clearInterval(sweepTimer));

    return {
      apiUrl,
      eventsFile,
      endpoints: {
        'HTTP API': apiUrl,
        DynamoDB: `${db.endpoint} (${options.memory ? 'in memory' : join(options.dataDir, 'dynamo')})`,
        'Step Functions': sfn.endpoint,
        EventBridge: `${bus.endpoint} (and PutEvents on ${apiUrl}) -> ${eventsFile}`,
        SNS: sns.endpoint,
        'Secrets Manager': secrets.endpoint,
        Scheduler: scheduler.endpoint,
        'SageMaker HyperPod': `${sagemakerEndpoint}${external.sagemaker ? ' (external)' : ' (simulator)'}`,
        'E2E TIR': `${tirBaseUrl}${external.tir ? ' (external)' : ' (simulator)'}`,
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
