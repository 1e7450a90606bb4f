/**
 * The deployment, proven offline: serverless.yml is packaged once with osls (no AWS account) and the CloudFormation
 * template and function zips it produces are checked against the code they must agree with: the state machine loader,
 * the error taxonomy, the table definition, the least-privilege matrix, the recurring schedules.
 * config/schedules.js's validation is tested on its own, without packaging.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clustersTableDefinition } from '../../functions/adapters/dynamo-table';
import { ENV, VARIABLES, type EnvKey } from '../../functions/contract/environment.js';
import { ROUTES, routeKey } from '../../functions/contract/routes.js';
import { functionsOfServerless } from '../../local/simulators/event-patterns';
import { ERROR_NAMES } from '../../functions/core/errors';
import { DETAIL_TYPES, EVENT_SOURCE } from '../../functions/core/events';
import { NOTIFIED_DETAIL_TYPES } from '../../functions/core/notify';
import { parseRequest } from '../../functions/core/validate';
import {
  SCHEDULED_TIME,
  ScheduleConfigError,
  TARGET_RETRY_POLICY,
  resources as scheduleResourcesFromFile,
  scheduleResources,
  validateSchedules,
} from '../../config/schedules.js';
import { deleteCluster, provisionCluster } from '../../statemachines/definitions.js';
import { REQUEST_ID } from '../../functions/contract/request-id.js';
import { occurrenceRequestId } from '../../functions/handlers/schedule-target';
import {
  allStatements,
  asArray,
  decodeDefinition,
  findCycle,
  readZip,
  resourcesOfType,
  roleStatements,
  runNode,
  sharedPackage,
  type CfnResource,
  type CfnTemplate,
  type PackagedService,
  type Statement,
} from '../helpers/package';

// ------------------------------------------------------------------------------------------------ expectations

const SERVICE_PREFIX = 'gpu-cluster-provisioner-dev-';

/** The function keys are fixed: the state machines and other code name them. */
const FUNCTIONS: Record<string, string> = {
  createCluster: 'functions/handlers/tasks/create-cluster.handler',
  pollCluster: 'functions/handlers/tasks/poll-cluster.handler',
  deleteCluster: 'functions/handlers/tasks/delete-cluster.handler',
  recordOutcome: 'functions/handlers/tasks/record-outcome.handler',
  parkExecution: 'functions/handlers/tasks/park-execution.handler',
  clusterEvent: 'functions/handlers/cluster-event.handler',
  httpSubmit: 'functions/handlers/http/submit.handler',
  httpGet: 'functions/handlers/http/get.handler',
  httpList: 'functions/handlers/http/list.handler',
  httpDelete: 'functions/handlers/http/delete.handler',
  sqsSubmit: 'functions/handlers/sqs-submit.handler',
  eventSubmit: 'functions/handlers/event-submit.handler',
  scheduleTarget: 'functions/handlers/schedule-target.handler',
  reconcile: 'functions/handlers/reconcile.handler',
  httpReconcile: 'functions/handlers/http/reconcile.handler',
  sweep: 'functions/handlers/sweep.handler',
  httpOrphans: 'functions/handlers/http/orphans.handler',
  httpOfferings: 'functions/handlers/http/offerings.handler',
  notify: 'functions/handlers/notify.handler',
  plan: 'functions/handlers/plan.handler',
};
type TaskState = { Type: string; Resource?: unknown; Parameters?: { FunctionName?: unknown } };
/** The function a task state invokes: its Resource, or a callback task's (waitForTaskToken) FunctionName. */
const taskFunction = (state: TaskState): string | undefined => getAttTarget(state.Resource) ?? getAttTarget(state.Parameters?.FunctionName);
const TASK_FUNCTIONS = ['createCluster', 'pollCluster', 'deleteCluster', 'recordOutcome', 'parkExecution'];

/**
 * `Resource: "*"` is allowed only for these actions, each because AWS offers no narrower resource. serverless.yml
 * carries the same reason as a comment beside each such statement.
 */
const WILDCARD_RESOURCE_ALLOWED: Record<string, string> = {
  'xray:PutTraceSegments': 'X-Ray has no resource-level permissions',
  'xray:PutTelemetryRecords': 'X-Ray has no resource-level permissions',
  'xray:GetSamplingRules': 'X-Ray has no resource-level permissions (Step Functions tracing)',
  'xray:GetSamplingTargets': 'X-Ray has no resource-level permissions (Step Functions tracing)',
  'logs:CreateLogDelivery': 'CloudWatch Logs vended delivery (Step Functions logging) takes no resource ARN',
  'logs:GetLogDelivery': 'CloudWatch Logs vended delivery (Step Functions logging) takes no resource ARN',
  'logs:UpdateLogDelivery': 'CloudWatch Logs vended delivery (Step Functions logging) takes no resource ARN',
  'logs:DeleteLogDelivery': 'CloudWatch Logs vended delivery (Step Functions logging) takes no resource ARN',
  'logs:ListLogDeliveries': 'CloudWatch Logs vended delivery (Step Functions logging) takes no resource ARN',
  'logs:PutResourcePolicy': 'required by Step Functions logging to CloudWatch Logs; no resource-level permission',
  'logs:DescribeResourcePolicies': 'required by Step Functions logging to CloudWatch Logs; no resource-level permission',
  'logs:DescribeLogGroups': 'required by Step Functions logging to CloudWatch Logs; lists, no resource-level permission',
  'sagemaker:ListClusters': "lists a region's HyperPod clusters (the sweeper, the plan); no resource-level permission",
  'states:SendTaskSuccess': 'the task token names the task; no resource-level permission (waking a parked workflow)',
  'servicequotas:ListServiceQuotas': "lists a service's quotas (the plan); no resource-level permission",
  'ec2:DescribeSubnets': "EC2 Describe* actions have no resource-level permissions (the plan; the zones of a waiting request's subnets)",
  'sagemaker:SearchTrainingPlanOfferings': 'searches offerings, no resource-level permission; held to the allowed regions',
  'pricing:GetProducts': 'the Price List API has no resource-level permissions',
  'ec2:DescribeSecurityGroups': 'EC2 Describe* actions have no resource-level permissions (the plan)',
};

const TABLE = { 'Fn::GetAtt': ['ClustersTable', 'Arn'] };
const TABLE_INDEXES = { 'Fn::Sub': '${ClustersTable.Arn}/index/*' };
/** Packaged with the default params: allowedRegions = the stage's region, so one ARN of each, in us-east-1. */
const inRegion = (service: string, resource: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:${service}:us-east-1:\${AWS::AccountId}:${resource}`,
});
const HYPERPOD_CLUSTERS = inRegion('sagemaker', 'cluster/*');
const TRAINING_PLANS = inRegion('sagemaker', 'training-plan/*');
// allowedEksClusters is unset by default: the EKS grants name a cluster no EKS cluster name can match.
const EKS_CLUSTERS = inRegion('eks', 'cluster/-none-');
const EKS_ACCESS_ENTRIES = inRegion('eks', 'access-entry/-none-/*');
const EXECUTION_ROLES_DEFAULT = { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/HyperPodExecution*' };
const HYPERPOD_SERVICE_LINKED_ROLE = {
  'Fn::Sub':
    'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/hyperpod.sagemaker.amazonaws.com/AWSServiceRoleForSageMakerHyperPod',
};
/** The deployment's name, which its clusters carry as the provisioner:deployment tag. */
const DEPLOYMENT = 'gpu-cluster-provisioner-dev';
const OWN_CLUSTERS_ONLY = { StringEquals: { 'aws:ResourceTag/provisioner:deployment': DEPLOYMENT } };
const TIR_SECRET = { Ref: 'TirCredentialsSecret' };
const PROVISION_MACHINE = { Ref: 'ProvisionClusterStateMachine' };
const DELETE_MACHINE = { Ref: 'DeleteClusterStateMachine' };
const PROVISION_EXECUTIONS = {
  'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${ProvisionClusterStateMachine.Name}:*',
};
const DELETE_EXECUTIONS = {
  'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${DeleteClusterStateMachine.Name}:*',
};
const SCHEDULES = {
  'Fn::Sub': 'arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${ProvisionerScheduleGroup}/*',
};
const SCHEDULER_ROLE = { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] };
const BUS = { 'Fn::GetAtt': ['ProvisionerEventBus', 'Arn'] };
const QUEUE = { 'Fn::GetAtt': ['RequestsQueue', 'Arn'] };
const INVOCATIONS_DLQ = { 'Fn::GetAtt': ['InvocationsDeadLetterQueue', 'Arn'] };
const NOTIFICATIONS_DLQ = { 'Fn::GetAtt': ['NotificationsDeadLetterQueue', 'Arn'] };
/** Packaged with the default params notifySecretPrefix and notifySnsTopics. */
const NOTIFY_SECRETS = { 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:provisioner/notify/*' };
const NOTIFY_TOPICS = {
  'Fn::Split': [',', { 'Fn::Sub': 'arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:provisioner-notify-*' }],
};

/** An action on a resource, under a condition when the statement has one. */
type Grant = [action: string, resource: unknown, condition?: unknown];
const readWriteRecord: Grant[] = [
  ['dynamodb:GetItem', TABLE],
  ['dynamodb:UpdateItem', TABLE],
];
const PASS_SCHEDULER_ROLE: Grant = ['iam:PassRole', SCHEDULER_ROLE, { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } }];
/** DeleteCluster of this deployment's clusters, and the EKS access entries HyperPod removes with one. */
const deleteOwnClusters: Grant[] = [
  ['sagemaker:DeleteCluster', HYPERPOD_CLUSTERS, OWN_CLUSTERS_ONLY],
  ['eks:DescribeAccessEntry', EKS_ACCESS_ENTRIES],
  ['eks:DeleteAccessEntry', EKS_ACCESS_ENTRIES],
];
/** The on-failure destination of an asynchronously invoked function. */
const SEND_FAILED_INVOCATION: Grant = ['sqs:SendMessage', INVOCATIONS_DLQ];
/** The shared memory of short offerings (capacity failover): read, remember, take the probe lease, forget. */
const OFFERINGS = { 'Fn::GetAtt': ['OfferingsTable', 'Arn'] };
const offeringsMemory: Grant[] = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'].map((a) => [`dynamodb:${a}`, OFFERINGS]);
const submit: Grant[] = [
  ['dynamodb:PutItem', TABLE],
  ...readWriteRecord,
  ['states:StartExecution', PROVISION_MACHINE],
  ['scheduler:CreateSchedule', SCHEDULES],
  PASS_SCHEDULER_ROLE,
  // The pre-flight plan (?dryRun=true, `preflight`): a synchronous invoke of the plan function.
  ['lambda:InvokeFunction', { 'Fn::GetAtt': ['PlanLambdaFunction', 'Arn'] }],
];

/** The reconciler (scheduled and on demand): read records, describe and start executions, make schedules. */
const RECONCILE: Grant[] = [
  ...readWriteRecord,
  ['dynamodb:Query', TABLE_INDEXES],
  ['dynamodb:Scan', TABLE],
  ['states:StartExecution', PROVISION_MACHINE],
  ['states:StartExecution', DELETE_MACHINE],
  ['states:DescribeExecution', PROVISION_EXECUTIONS],
  ['states:DescribeExecution', DELETE_EXECUTIONS],
  ['scheduler:CreateSchedule', SCHEDULES],
  PASS_SCHEDULER_ROLE,
  ['events:PutEvents', BUS],
  ['sagemaker:ListClusters', '*', { StringEquals: { 'aws:RequestedRegion': ['us-east-1'] } }],
  ['states:SendTaskSuccess', '*'],
];

/** The sweeper (hourly, and its dry run GET /orphans): read records, list the clusters and their tags, read the TIR secret. */
const SWEEP: Grant[] = [
  ['dynamodb:GetItem', TABLE],
  ['dynamodb:Query', TABLE_INDEXES],
  ['sagemaker:ListClusters', '*', { StringEquals: { 'aws:RequestedRegion': ['us-east-1'] } }],
  ['sagemaker:ListTags', HYPERPOD_CLUSTERS],
  ['secretsmanager:GetSecretValue', TIR_SECRET],
];

/** The reads of a request that waits: training-plan offerings (in the allowed regions), subnets' zones, prices. */
const WHILE_WAITING: Grant[] = [
  ['sagemaker:SearchTrainingPlanOfferings', '*', { StringEquals: { 'aws:RequestedRegion': ['us-east-1'] } }],
  ['ec2:DescribeSubnets', '*'],
  ['pricing:GetProducts', '*'],
];

/** Everything each function may do beyond writing its own logs and traces. */
const PERMISSIONS: Record<string, Grant[]> = {
  createCluster: [
    ...readWriteRecord,
    ...offeringsMemory,
    ['states:SendTaskSuccess', '*'],
    ['sagemaker:DescribeCluster', HYPERPOD_CLUSTERS],
    ['sagemaker:ListTags', HYPERPOD_CLUSTERS],
    ['sagemaker:CreateCluster', HYPERPOD_CLUSTERS, { StringEquals: { 'aws:RequestTag/provisioner:deployment': DEPLOYMENT } }],
    ['sagemaker:CreateCluster', TRAINING_PLANS, { StringEquals: { 'aws:RequestTag/provisioner:deployment': DEPLOYMENT } }],
    ['sagemaker:AddTags', HYPERPOD_CLUSTERS, { StringEquals: { 'sagemaker:TaggingAction': 'CreateCluster' } }],
    ...deleteOwnClusters,
    ['sagemaker:DescribeTrainingPlan', TRAINING_PLANS],
    ['iam:PassRole', EXECUTION_ROLES_DEFAULT, { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } }],
    ['eks:DescribeCluster', EKS_CLUSTERS],
    ['eks:CreateAccessEntry', EKS_CLUSTERS],
    ['eks:AssociateAccessPolicy', EKS_ACCESS_ENTRIES],
    [
      'iam:CreateServiceLinkedRole',
      HYPERPOD_SERVICE_LINKED_ROLE,
      { StringEquals: { 'iam:AWSServiceName': 'hyperpod.sagemaker.amazonaws.com' } },
    ],
    ['secretsmanager:GetSecretValue', TIR_SECRET],
    // Cluster Waiting For Capacity, put by the task that records the wait.
    ['events:PutEvents', BUS],
    ...WHILE_WAITING,
  ],
  pollCluster: [
    ...readWriteRecord,
    ...offeringsMemory,
    ['sagemaker:DescribeCluster', HYPERPOD_CLUSTERS],
    ...deleteOwnClusters,
    ['secretsmanager:GetSecretValue', TIR_SECRET],
    ['events:PutEvents', BUS],
    ...WHILE_WAITING,
  ],
  deleteCluster: [
    ...readWriteRecord,
    ['sagemaker:DescribeCluster', HYPERPOD_CLUSTERS],
    ['sagemaker:ListTags', HYPERPOD_CLUSTERS],
    ...deleteOwnClusters,
    ['secretsmanager:GetSecretValue', TIR_SECRET],
  ],
  recordOutcome: [
    ...readWriteRecord,
    ...offeringsMemory,
    ['scheduler:CreateSchedule', SCHEDULES],
    PASS_SCHEDULER_ROLE,
    ['events:PutEvents', BUS],
    ['states:SendTaskSuccess', '*'],
  ],
  parkExecution: [...readWriteRecord, ['states:SendTaskSuccess', '*']],
  clusterEvent: [...readWriteRecord, ['dynamodb:Query', TABLE_INDEXES], ['states:SendTaskSuccess', '*'], SEND_FAILED_INVOCATION],
  httpSubmit: submit,
  httpGet: [['dynamodb:GetItem', TABLE]],
  httpList: [['dynamodb:Query', TABLE_INDEXES]],
  httpDelete: [...readWriteRecord, ['states:StartExecution', DELETE_MACHINE], ['states:StopExecution', PROVISION_EXECUTIONS]],
  sqsSubmit: [
    ...submit,
    ['events:PutEvents', BUS],
    ['sqs:ReceiveMessage', QUEUE],
    ['sqs:DeleteMessage', QUEUE],
    ['sqs:GetQueueAttributes', QUEUE],
  ],
  eventSubmit: [...submit, ['events:PutEvents', BUS], SEND_FAILED_INVOCATION],
  // Recurring firings go through intake, which may publish a rejection event.
  scheduleTarget: [...submit, ['states:StartExecution', DELETE_MACHINE], ['events:PutEvents', BUS], SEND_FAILED_INVOCATION],
  reconcile: [...RECONCILE, SEND_FAILED_INVOCATION],
  httpReconcile: RECONCILE,
  sweep: [...SWEEP, ...deleteOwnClusters, ['events:PutEvents', BUS], SEND_FAILED_INVOCATION],
  httpOrphans: SWEEP,
  // GET /offerings: one Scan of the memory of short offerings; it writes nothing.
  httpOfferings: [['dynamodb:Scan', OFFERINGS]],
  // The record (its request's notify), the webhook secrets under notifySecretPrefix, the allowed topics, its DLQ.
  // The pre-flight plan: reads only. Quotas, the region's clusters, subnets and security groups, the lifecycle scripts
  // of the allowed buckets, the allowed roles, training plans, EKS clusters, the TIR secret.
  plan: [
    ['servicequotas:ListServiceQuotas', '*'],
    ['sagemaker:ListClusters', '*', { StringEquals: { 'aws:RequestedRegion': ['us-east-1'] } }],
    ['sagemaker:DescribeCluster', HYPERPOD_CLUSTERS],
    ['sagemaker:DescribeTrainingPlan', TRAINING_PLANS],
    ['ec2:DescribeSubnets', '*'],
    ['ec2:DescribeSecurityGroups', '*'],
    ['s3:GetObject', { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::sagemaker-*/*' }],
    ['s3:ListBucket', { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::sagemaker-*' }],
    ['iam:GetRole', EXECUTION_ROLES_DEFAULT],
    ['eks:DescribeCluster', EKS_CLUSTERS],
    ['secretsmanager:GetSecretValue', TIR_SECRET],
    // Its prices: the Price List API, and their cache (price# items of the offerings table).
    ['pricing:GetProducts', '*'],
    ['dynamodb:GetItem', OFFERINGS],
    ['dynamodb:PutItem', OFFERINGS],
  ],
  notify: [
    ['dynamodb:GetItem', TABLE],
    ['secretsmanager:GetSecretValue', NOTIFY_SECRETS],
    ['sns:Publish', NOTIFY_TOPICS],
    ['sqs:SendMessage', NOTIFICATIONS_DLQ],
  ],
};
/**
 * What each function's environment must hold: the variables of functions/contract/environment.js the deployment sets
 * (not the Lambda runtime's), each where its `readBy` names the function (or every function).
 */
const deployedEnvironment = (functionKey: string): string[] =>
  (Object.keys(ENV) as EnvKey[])
    .filter((key) => {
      const { deployed, readBy } = VARIABLES[key];
      return deployed !== undefined && deployed !== 'runtime' && (readBy === 'all' || readBy.includes(functionKey));
    })
    .map((key) => ENV[key]);
/** Every function key of serverless.yml. */
const FUNCTION_KEYS = Object.keys(functionsOfServerless(readFileSync(join(__dirname, '..', '..', 'serverless.yml'), 'utf8')));

/** The contract's routes: route key -> function key. */
const ROUTE_FUNCTIONS: Record<string, string> = Object.fromEntries(ROUTES.map((route) => [routeKey(route), route.functionKey]));

// ------------------------------------------------------------------------------------------------ helpers

const json = (value: unknown) => JSON.stringify(value);
const getAttTarget = (value: unknown): string | undefined => {
  const att = (value as { 'Fn::GetAtt'?: unknown } | null)?.['Fn::GetAtt'];
  return Array.isArray(att) ? (att[0] as string) : undefined;
};
const grant = ([action, resource, condition]: Grant): string =>
  `${action} on ${json(resource)}${condition === undefined ? '' : ` if ${json(condition)}`}`;
/** Expands a statement into action/resource pairs, each with the statement's condition. */
const grantsOf = (statements: Statement[]): string[] =>
  statements.flatMap((s) =>
    asArray(s.Action).flatMap((action) => {
      const resource = s.Resource as unknown;
      // Fn::Split stays whole: it is one value in the template.
      const resources = Array.isArray(resource) ? resource : [resource];
      return resources.map((r) => grant([action, r, s.Condition]));
    }),
  );

// ================================================================================================ packaged

describe('serverless.yml, packaged by osls', () => {
  let packaged: PackagedService;
  let template: CfnTemplate;
  /** function logical id (CreateClusterLambdaFunction) -> function key (createCluster) */
  const keyOfLogicalId = new Map<string, string>();
  const fn = (key: string): [string, CfnResource] => {
    const entry = [...keyOfLogicalId].find(([, k]) => k === key);
    if (!entry) throw new Error(`No function ${key} in the template`);
    return [entry[0], template.Resources[entry[0]]!];
  };
  const roleOf = (key: string): string => {
    const roleId = getAttTarget(fn(key)[1].Properties?.Role);
    if (!roleId) throw new Error(`${key} has no Role of its own`);
    return roleId;
  };

  beforeAll(async () => {
    packaged = await sharedPackage();
    template = packaged.template;
    console.info(`osls package took ${packaged.seconds.toFixed(1)} s`);
    for (const [id, resource] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      const name = resource.Properties?.FunctionName as string;
      keyOfLogicalId.set(id, name.startsWith(SERVICE_PREFIX) ? name.slice(SERVICE_PREFIX.length) : name);
    }
  }, 240_000);

  afterAll(async () => {
    await packaged?.cleanup();
  });

  describe('functions', () => {
    it('declares exactly these function keys with their handlers, on nodejs22.x arm64 with active tracing', () => {
      expect(Object.fromEntries([...keyOfLogicalId].map(([id, key]) => [key, template.Resources[id]!.Properties?.Handler]))).toEqual(
        FUNCTIONS,
      );
      for (const [, resource] of resourcesOfType(template, 'AWS::Lambda::Function')) {
        expect(resource.Properties?.Runtime).toBe('nodejs22.x');
        expect(resource.Properties?.Architectures).toEqual(['arm64']);
        expect(resource.Properties?.TracingConfig).toEqual({ Mode: 'Active' });
      }
    });

    it('gives each function its own zip holding the ESM bundle of its handler and its chunks alone, that loads and exports handler, every chunk linking', async () => {
      const scratch = await mkdtemp(join(tmpdir(), 'gcp-bundles-'));
      try {
        const keys = new Set<string>();
        const bundles: string[] = [];
        /** Each bundle, then its chunks: loading a chunk links its imports (from the bundle's hoisted exports). */
        const loadOrder: string[] = [];
        for (const key of Object.keys(FUNCTIONS)) {
          const s3Key = fn(key)[1].Properties?.Code?.S3Key as string;
          const zipName = s3Key.split('/').pop()!;
          expect(zipName).toBe(`${key}.zip`);
          keys.add(s3Key);
          const entries = await readZip(join(packaged.dir, zipName));
          const base = FUNCTIONS[key]!.replace(/\.handler$/, '');
          const expected = `${base}.mjs`;
          // The bundle and the chunks it splits off (config/esbuild-plugins.cjs names them after it), nothing else.
          const chunks = [...entries.keys()].filter((name) => name !== expected);
          expect(entries.has(expected), `${key}: ${expected}`).toBe(true);
          expect(chunks.length, `${key} has chunks`).toBeGreaterThan(0);
          for (const name of chunks) expect(name, `${key} zip`).toMatch(new RegExp(`^${base}\\.chunks/[^/]+\\.mjs$`));
          for (const [name, content] of entries) {
            const code = content.toString('utf8');
            // The banner gives CommonJS dependencies a require() inside each ESM file.
            expect(code, name).toMatch(/^import\s*\{\s*createRequire/);
            const file = join(scratch, key, name);
            await mkdir(join(file, '..'), { recursive: true });
            await writeFile(file, code);
          }
          // Every chunk the bundle or a chunk imports, statically or on first use, is in the zip.
          for (const [name, content] of entries) {
            for (const [, spec] of content.toString('utf8').matchAll(/(?:from|import\()\s*"(\.{1,2}\/[^"]+)"/g)) {
              expect(entries.has(join(name, '..', spec!)), `${key}: ${name} imports ${spec}`).toBe(true);
            }
          }
          // At init Node reads one file: the bundle imports no chunk statically (config/hoist-static-chunks.cjs).
          const staticChunkImports = [
            ...entries
              .get(expected)!
              .toString('utf8')
              .matchAll(/(?:^|[;}\s])import\s*(?:\{[^}]*\}\s*from\s*)?"(\.{1,2}\/[^"]+)"/g),
          ];
          expect(
            staticChunkImports.map((m) => m[1]),
            `${key}: static chunk imports`,
          ).toEqual([]);
          bundles.push(join(scratch, key, expected));
          loadOrder.push(join(scratch, key, expected), ...chunks.map((name) => join(scratch, key, name)));
        }
        expect(keys.size).toBe(Object.keys(FUNCTIONS).length);
        // Imported by a plain node process as the Lambda runtime would: ESM, nothing missing, `handler` exported.
        const { code, output } = await runNode(
          [
            '--input-type=module',
            '-e',
            `import { pathToFileURL } from 'node:url';
             const bundles = new Set(JSON.parse(process.argv[1]));
             for (const file of process.argv.slice(2)) {
               const m = await import(pathToFileURL(file).href);
               if (bundles.has(file) && typeof m.handler !== 'function') { console.error(file + ' exports no handler'); process.exit(1); }
             }`,
            JSON.stringify(bundles),
            ...loadOrder,
          ],
          { cwd: scratch },
        );
        expect(output).toBe('');
        expect(code).toBe(0);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    });

    it('keeps the error names the state machines match in the minified task bundles', async () => {
      const custom = new Set<string>();
      const loaded = [
        await provisionCluster({ resolveVariable: async () => '' }),
        await deleteCluster({ resolveVariable: async () => '' }),
      ] as Array<{ States: object }>;
      for (const definition of loaded) {
        for (const state of Object.values(definition.States) as Array<{ Retry?: Array<{ ErrorEquals: string[] }> }>) {
          for (const rule of state.Retry ?? [])
            rule.ErrorEquals.filter((n) => (ERROR_NAMES as readonly string[]).includes(n)).forEach((n) => custom.add(n));
        }
      }
      expect(custom.size).toBeGreaterThan(0);
      for (const key of ['createCluster', 'deleteCluster', 'pollCluster']) {
        const entries = await readZip(join(packaged.dir, `${key}.zip`));
        const code = [...entries.values()].map((file) => file.toString('utf8')).join('\n');
        for (const name of custom) expect(code, `${key} bundle`).toContain(`"${name}"`);
      }
    });

    it('bundles the request validator into the submit path only, never into a task Lambda', async () => {
      // `appendErrors` is a function of the compiled validator (functions/contract/request.validator.js); keepNames keeps it.
      const carries = async (key: string) =>
        [...(await readZip(join(packaged.dir, `${key}.zip`))).values()].some((file) => file.toString('utf8').includes('"appendErrors"'));
      expect(await carries('httpSubmit')).toBe(true);
      for (const key of TASK_FUNCTIONS) expect(await carries(key), `${key} bundle`).toBe(false);
    });

    it('times task Lambdas out before their state machine tasks do', async () => {
      for (const [machine, load] of [
        ['provision', provisionCluster],
        ['delete', deleteCluster],
      ] as const) {
        const definition = (await load({ resolveVariable: async () => '' })) as { States: object };
        for (const [stateName, state] of Object.entries(definition.States) as Array<
          [string, { Resource?: unknown; TimeoutSeconds?: number }]
        >) {
          // A callback task's timeout is its wait, not a bound on the Lambda: only plain invokes are compared.
          const key = getAttTarget(state.Resource);
          if (!key) continue;
          const timeout = fn(key)[1].Properties?.Timeout as number;
          expect(timeout, `${machine}/${stateName}`).toBeLessThan(state.TimeoutSeconds!);
        }
      }
      for (const key of TASK_FUNCTIONS) expect(fn(key)[1].Properties?.Timeout).toBe(30);
    });

    it('names only functions of serverless.yml as readers of a variable', () => {
      for (const key of Object.keys(ENV) as EnvKey[]) {
        const { readBy } = VARIABLES[key];
        if (readBy !== 'all') for (const functionKey of readBy) expect(FUNCTION_KEYS, ENV[key]).toContain(functionKey);
      }
      // The scheduler's settings go together, and with the dead-letter queue of its firings.
      const schedulerKeys = ['schedulerGroupName', 'schedulerRoleArn', 'scheduleTargetArn', 'schedulerDlqArn'] as const;
      for (const key of schedulerKeys) expect(VARIABLES[key].readBy, ENV[key]).toEqual(VARIABLES.schedulerRoleArn.readBy);
    });

    it('gives each function exactly the environment its code reads, with no credential in it', () => {
      expect(FUNCTION_KEYS.length).toBeGreaterThan(15);
      for (const key of FUNCTION_KEYS) {
        const variables = (fn(key)[1].Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
        expect(Object.keys(variables).sort(), key).toEqual(deployedEnvironment(key).sort());
        expect(variables[ENV.clustersTable]).toEqual({ Ref: 'ClustersTable' });
        const has = (name: string) => name in variables;
        if (has(ENV.offeringsTable)) expect(variables[ENV.offeringsTable]).toEqual({ Ref: 'OfferingsTable' });
        if (has(ENV.eventBusName)) expect(variables[ENV.eventBusName]).toEqual({ Ref: 'ProvisionerEventBus' });
        if (has(ENV.provisionStateMachineArn)) expect(variables[ENV.provisionStateMachineArn]).toEqual(PROVISION_MACHINE);
        if (has(ENV.deleteStateMachineArn)) expect(variables[ENV.deleteStateMachineArn]).toEqual(DELETE_MACHINE);
        if (has(ENV.tirCredentialsSecretArn)) expect(variables[ENV.tirCredentialsSecretArn]).toEqual(TIR_SECRET);
        if (has(ENV.tirApiBaseUrl)) expect(variables[ENV.tirApiBaseUrl]).toBe('https://api.e2enetworks.com/myaccount/api/v1/gpu');
        if (has(ENV.schedulerRoleArn)) expect(variables[ENV.schedulerRoleArn]).toEqual(SCHEDULER_ROLE);
        if (has(ENV.schedulerDlqArn)) expect(variables[ENV.schedulerDlqArn]).toEqual({ 'Fn::GetAtt': ['SchedulesDeadLetterQueue', 'Arn'] });
        // The same lists IAM grants on (default params): the stage's region, the HyperPodExecution* roles.
        if (has(ENV.allowedRegions)) expect(variables[ENV.allowedRegions]).toBe('us-east-1');
        // No admins by default: every caller sees only its own requests.
        if (has(ENV.adminPrincipals)) expect(variables[ENV.adminPrincipals]).toBe('');
        if (has(ENV.allowedExecutionRoles)) expect(variables[ENV.allowedExecutionRoles]).toEqual(EXECUTION_ROLES_DEFAULT);
        if (has(ENV.allowedLifecycleBuckets)) expect(variables[ENV.allowedLifecycleBuckets]).toBe('sagemaker-*');
        // Unset placement lists deny; TIR locations and SKUs within an allowed project: any.
        if (has(ENV.allowedSubnets)) expect(variables[ENV.allowedSubnets]).toBe('');
        if (has(ENV.allowedTirSkus)) expect(variables[ENV.allowedTirSkus]).toBe('*');
        if (has(ENV.notifySecretPrefix)) expect(variables[ENV.notifySecretPrefix]).toBe('provisioner/notify/');
        if (has(ENV.notifySnsTopics)) {
          expect(variables[ENV.notifySnsTopics]).toEqual({
            'Fn::Sub': 'arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:provisioner-notify-*',
          });
        }
        if (has(ENV.planFunctionName)) expect(variables[ENV.planFunctionName]).toEqual({ Ref: 'PlanLambdaFunction' });
        if (has(ENV.preflightDefault)) expect(variables[ENV.preflightDefault]).toBe('false');
        if (has(ENV.reservedOffersAfterSeconds)) expect(variables[ENV.reservedOffersAfterSeconds]).toBe('1800');
        if (has(ENV.hyperPodEventRegions)) expect(variables[ENV.hyperPodEventRegions]).toBe('');
        if (has(ENV.cursorKey)) {
          expect(variables[ENV.cursorKey]).toEqual({ 'Fn::Sub': '{{resolve:secretsmanager:${ListCursorKey}:SecretString}}' });
        }
        expect(variables[ENV.powertoolsServiceName]).toBe('gpu-cluster-provisioner');
        expect(variables[ENV.powertoolsMetricsNamespace]).toBe('GpuClusterProvisioner');
        // The provisioner:deployment tag's value: what the DeleteCluster grants' tag condition names.
        if (has(ENV.deploymentName)) expect(variables[ENV.deploymentName]).toBe(DEPLOYMENT);
        if (has(ENV.schedulerGroupName)) {
          expect(variables[ENV.schedulerGroupName]).toBe(template.Resources.ProvisionerScheduleGroup!.Properties?.Name);
        }
        if (has(ENV.scheduleTargetArn)) {
          // Spelled with Fn::Sub from the function name (a GetAtt would close a dependency cycle): check the spelling.
          const name = fn('scheduleTarget')[1].Properties?.FunctionName as string;
          expect(variables[ENV.scheduleTargetArn]).toEqual({
            'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${name}`,
          });
        }
        for (const name of [ENV.tirApiKey, ENV.tirAuthToken]) expect(Object.keys(variables)).not.toContain(name);
      }
    });
  });

  describe('HTTP API', () => {
    it('has the four routes, each IAM-authorized and integrated with its function (payload 2.0, no CORS)', () => {
      const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route');
      const seen: Record<string, string> = {};
      for (const [, route] of routes) {
        expect(route.Properties?.AuthorizationType, route.Properties?.RouteKey).toBe('AWS_IAM');
        const integrationId = (route.Properties?.Target['Fn::Join'][1] as unknown[]).find((p) => typeof p === 'object') as { Ref: string };
        const integration = template.Resources[integrationId.Ref]!;
        expect(integration.Properties?.PayloadFormatVersion).toBe('2.0');
        seen[route.Properties?.RouteKey as string] = keyOfLogicalId.get(getAttTarget(integration.Properties?.IntegrationUri)!)!;
      }
      expect(seen).toEqual(ROUTE_FUNCTIONS);
      const [[, api]] = resourcesOfType(template, 'AWS::ApiGatewayV2::Api') as [[string, CfnResource]];
      expect(api.Properties?.CorsConfiguration).toBeUndefined();
      expect(resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer')).toEqual([]);
    });
  });

  describe('queues and the bus', () => {
    it('redrives the requests queue to its DLQ after 5 receives, with a visibility timeout of at least 6x sqsSubmit', () => {
      const queue = template.Resources.RequestsQueue!.Properties!;
      expect(queue.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': ['RequestsDeadLetterQueue', 'Arn'] },
        maxReceiveCount: 5,
      });
      expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * (fn('sqsSubmit')[1].Properties?.Timeout as number));
      for (const [id, q] of resourcesOfType(template, 'AWS::SQS::Queue')) expect(q.Properties?.SqsManagedSseEnabled, id).toBe(true);
    });

    it('feeds sqsSubmit in batches of 10 reporting batch item failures', () => {
      const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping');
      expect(mappings).toHaveLength(1);
      const [[, mapping]] = mappings as [[string, CfnResource]];
      expect(mapping.Properties).toMatchObject({
        EventSourceArn: QUEUE,
        FunctionName: { 'Fn::GetAtt': [fn('sqsSubmit')[0], 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('routes "Provision Cluster Requested" on the project bus to eventSubmit, with retries and a DLQ only that rule may write to', () => {
      const rules = resourcesOfType(template, 'AWS::Events::Rule').filter(
        ([, r]) =>
          r.Properties?.EventBusName !== undefined &&
          getAttTarget((r.Properties?.Targets as Array<{ Arn: unknown }>)[0]!.Arn) === fn('eventSubmit')[0],
      );
      expect(rules).toHaveLength(1);
      const [[, rule]] = rules as [[string, CfnResource]];
      expect(rule.Properties?.EventBusName).toEqual({ Ref: 'ProvisionerEventBus' });
      expect(rule.Properties?.EventPattern).toEqual({ 'detail-type': [DETAIL_TYPES.requested] });
      const [target] = rule.Properties?.Targets as Array<Record<string, any>>;
      expect(getAttTarget(target!.Arn)).toBe(fn('eventSubmit')[0]);
      expect(target!.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 });
      expect(target!.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } });

      const [statement] = asArray(template.Resources.EventsDeadLetterQueuePolicy!.Properties?.PolicyDocument.Statement) as Statement[];
      expect(statement).toMatchObject({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage' });
      expect(asArray(statement!.Condition?.ArnEquals?.['aws:SourceArn'] as unknown[])).toContainEqual({
        'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/\${ProvisionerEventBus}/${rule.Properties?.Name}`,
      });
    });
  });

  it("routes the project's Ready, Failed, Waiting and Deleted events to notify, with retries, a DLQ its rule may write to, and an on-failure queue of its own", () => {
    const rules = resourcesOfType(template, 'AWS::Events::Rule').filter(
      ([, r]) => getAttTarget((r.Properties?.Targets as Array<{ Arn: unknown }>)[0]!.Arn) === fn('notify')[0],
    );
    expect(rules).toHaveLength(1);
    const [[, rule]] = rules as [[string, CfnResource]];
    expect(rule.Properties?.EventBusName).toEqual({ Ref: 'ProvisionerEventBus' });
    expect(rule.Properties?.EventPattern).toEqual({ source: [EVENT_SOURCE], 'detail-type': [...NOTIFIED_DETAIL_TYPES] });
    const [target] = rule.Properties?.Targets as Array<Record<string, any>>;
    expect(target!.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 });
    expect(target!.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } });
    const [statement] = asArray(template.Resources.EventsDeadLetterQueuePolicy!.Properties?.PolicyDocument.Statement) as Statement[];
    expect(asArray(statement!.Condition?.ArnEquals?.['aws:SourceArn'] as unknown[])).toContainEqual({
      'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/\${ProvisionerEventBus}/${rule.Properties?.Name}`,
    });
    const [, config] = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').find(
      ([, c]) => (c.Properties?.FunctionName as { Ref: string }).Ref === fn('notify')[0],
    )!;
    expect(config.Properties?.DestinationConfig?.OnFailure?.Destination).toEqual(NOTIFICATIONS_DLQ);
  });

  it('runs the reconciler every 5 minutes on the default bus, with retries and a DLQ its rule may write to', () => {
    const rules = resourcesOfType(template, 'AWS::Events::Rule').filter(([, r]) => r.Properties?.ScheduleExpression !== undefined);
    const reconciler = rules.filter(
      ([, r]) => getAttTarget((r.Properties?.Targets as Array<{ Arn: unknown }>)[0]!.Arn) === fn('reconcile')[0],
    );
    expect(reconciler).toHaveLength(1);
    const [[, rule]] = reconciler as [[string, CfnResource]];
    expect(rule.Properties?.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule.Properties?.EventBusName).toBeUndefined();
    const [target] = rule.Properties?.Targets as Array<Record<string, any>>;
    expect(target!.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 3 });
    expect(target!.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } });
    const [statement] = asArray(template.Resources.EventsDeadLetterQueuePolicy!.Properties?.PolicyDocument.Statement) as Statement[];
    expect(asArray(statement!.Condition?.ArnEquals?.['aws:SourceArn'] as unknown[])).toContainEqual({
      'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${rule.Properties?.Name}`,
    });
  });

  it('runs the sweeper every hour on the default bus, with retries and a DLQ its rule may write to', () => {
    const rules = resourcesOfType(template, 'AWS::Events::Rule').filter(
      ([, r]) => getAttTarget((r.Properties?.Targets as Array<{ Arn: unknown }>)[0]!.Arn) === fn('sweep')[0],
    );
    expect(rules).toHaveLength(1);
    const [[, rule]] = rules as [[string, CfnResource]];
    expect(rule.Properties?.ScheduleExpression).toBe('rate(1 hour)');
    expect(rule.Properties?.EventBusName).toBeUndefined();
    const [target] = rule.Properties?.Targets as Array<Record<string, any>>;
    expect(target!.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 3 });
    expect(target!.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } });
    const [statement] = asArray(template.Resources.EventsDeadLetterQueuePolicy!.Properties?.PolicyDocument.Statement) as Statement[];
    expect(asArray(statement!.Condition?.ArnEquals?.['aws:SourceArn'] as unknown[])).toContainEqual({
      'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${rule.Properties?.Name}`,
    });
  });

  it('lets every rule whose dead-letter queue is EventsDeadLetterQueue write to it (a rule missing from the policy loses its failures)', () => {
    const [statement] = asArray(template.Resources.EventsDeadLetterQueuePolicy!.Properties?.PolicyDocument.Statement) as Statement[];
    const allowed = asArray(statement!.Condition?.ArnEquals?.['aws:SourceArn'] as unknown[]).map(
      (a) => (a as { 'Fn::Sub': string })['Fn::Sub'],
    );
    const rules = resourcesOfType(template, 'AWS::Events::Rule').filter(([, r]) =>
      (r.Properties?.Targets as Array<Record<string, any>>).some(
        (t) => t.DeadLetterConfig?.Arn?.['Fn::GetAtt']?.[0] === 'EventsDeadLetterQueue',
      ),
    );
    expect(rules.length).toBeGreaterThanOrEqual(6);
    for (const [id, rule] of rules) {
      const name = rule.Properties?.Name as string | undefined;
      expect(name, `${id} has a name the policy can state`).toBeTypeOf('string');
      const bus = rule.Properties?.EventBusName === undefined ? '' : '${ProvisionerEventBus}/';
      expect(allowed, id).toContain(`arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${bus}${name}`);
    }
  });

  describe('failure paths nobody waits for', () => {
    /** Functions something invokes asynchronously: the target of a rule or a schedule. */
    const asyncTargets = (): Set<string> => {
      const targets = new Set<string>();
      for (const [, rule] of resourcesOfType(template, 'AWS::Events::Rule')) {
        for (const target of rule.Properties?.Targets as Array<{ Arn: unknown }>) targets.add(getAttTarget(target.Arn)!);
      }
      targets.add(fn('scheduleTarget')[0]); // EventBridge Scheduler: every schedule (one-time ones are made at run time)
      return targets;
    };
    const queueOf = (value: unknown): string => {
      const id = getAttTarget(value);
      expect(template.Resources[id!]?.Type, `${json(value)} is a queue of the template`).toBe('AWS::SQS::Queue');
      return id!;
    };
    /** Every queue something sends its failures to. */
    const deadLetterQueues = (): Set<string> => {
      const queues = new Set<string>();
      for (const [, q] of resourcesOfType(template, 'AWS::SQS::Queue')) {
        if (q.Properties?.RedrivePolicy) queues.add(queueOf(q.Properties.RedrivePolicy.deadLetterTargetArn));
      }
      for (const [, rule] of resourcesOfType(template, 'AWS::Events::Rule')) {
        for (const target of rule.Properties?.Targets as Array<{ DeadLetterConfig?: { Arn: unknown } }>) {
          if (target.DeadLetterConfig) queues.add(queueOf(target.DeadLetterConfig.Arn));
        }
      }
      for (const [, config] of resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig')) {
        queues.add(queueOf(config.Properties?.DestinationConfig?.OnFailure?.Destination));
      }
      for (const [, schedule] of resourcesOfType(template, 'AWS::Scheduler::Schedule')) {
        queues.add(queueOf(schedule.Properties?.Target?.DeadLetterConfig?.Arn));
      }
      return queues;
    };

    it('gives every asynchronously invoked function an SQS on-failure destination its role may send to', () => {
      const targets = asyncTargets();
      expect(targets.size).toBeGreaterThanOrEqual(3);
      const configs = new Map(
        resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').map(([, c]) => [
          (c.Properties?.FunctionName as { Ref: string }).Ref,
          c,
        ]),
      );
      for (const target of targets) {
        const destination = configs.get(target)?.Properties?.DestinationConfig?.OnFailure?.Destination;
        expect(destination, `${target} has an on-failure destination`).toBeDefined();
        queueOf(destination);
        const key = keyOfLogicalId.get(target)!;
        expect(grantsOf(roleStatements(template, roleOf(key))), key).toContain(grant(['sqs:SendMessage', destination]));
      }
    });

    it('gives every rule target and every schedule a dead-letter queue, and lets only their senders write to it', () => {
      for (const [id, rule] of resourcesOfType(template, 'AWS::Events::Rule')) {
        for (const target of rule.Properties?.Targets as Array<{ DeadLetterConfig?: unknown; RetryPolicy?: unknown }>) {
          expect(target.DeadLetterConfig, id).toBeDefined();
          expect(target.RetryPolicy, id).toBeDefined();
        }
      }
      const schedulesDlq = { 'Fn::GetAtt': ['SchedulesDeadLetterQueue', 'Arn'] };
      for (const [id, schedule] of resourcesOfType(template, 'AWS::Scheduler::Schedule')) {
        expect(schedule.Properties?.Target?.DeadLetterConfig, id).toEqual({ Arn: schedulesDlq });
      }
      // Scheduler sends to the DLQ with the schedule's role; the one-time schedules get the same queue at run time.
      expect(grantsOf(roleStatements(template, 'SchedulerRole'))).toContain(grant(['sqs:SendMessage', schedulesDlq]));
      for (const key of FUNCTION_KEYS) {
        const names = deployedEnvironment(key);
        if (names.includes(ENV.schedulerRoleArn)) expect(names, key).toContain(ENV.schedulerDlqArn);
      }
    });

    it('alarms on every dead-letter queue as soon as it holds a message', () => {
      const queues = deadLetterQueues();
      expect([...queues]).toEqual(
        expect.arrayContaining([
          'EventsDeadLetterQueue',
          'InvocationsDeadLetterQueue',
          'NotificationsDeadLetterQueue',
          'RequestsDeadLetterQueue',
          'SchedulesDeadLetterQueue',
        ]),
      );
      const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!);
      for (const queue of queues) {
        const alarm = alarms.find(
          (a) => json(a.Dimensions) === json([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }]),
        );
        expect(alarm, `an alarm on ${queue}`).toMatchObject({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Statistic: 'Maximum',
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          EvaluationPeriods: 1,
          TreatMissingData: 'notBreaching',
        });
      }
    });

    it('alarms on every failed execution of both state machines', () => {
      const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!);
      for (const machine of ['ProvisionClusterStateMachine', 'DeleteClusterStateMachine']) {
        const alarm = alarms.find((a) => json(a.Dimensions) === json([{ Name: 'StateMachineArn', Value: { Ref: machine } }]));
        expect(alarm, `an alarm on ${machine}`).toMatchObject({
          Namespace: 'AWS/States',
          MetricName: 'ExecutionsFailed',
          Statistic: 'Sum',
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
        });
      }
    });

    it("notifies the alarmTopicArn param's topic, and nothing while it is empty (the default)", () => {
      const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm');
      expect(alarms.length).toBeGreaterThanOrEqual(6);
      for (const [id, alarm] of alarms) {
        expect(alarm.Properties?.AlarmActions, id).toEqual({ 'Fn::If': ['HasAlarmTopic', [''], { Ref: 'AWS::NoValue' }] });
      }
      expect((template as unknown as { Conditions: unknown }).Conditions).toEqual({
        HasAlarmTopic: { 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] },
      });
    });
  });

  describe('state machines', () => {
    const machines = [
      ['ProvisionClusterStateMachine', provisionCluster],
      ['DeleteClusterStateMachine', deleteCluster],
    ] as const;

    it.each(machines)(
      '%s deploys the loader output, bound to the function keys (names from the loader, tasks from serverless.yml)',
      async (id, load) => {
        const deployed = decodeDefinition(template.Resources[id]!.Properties?.DefinitionString);
        const expected = await load({ resolveVariable: async () => '' });
        // asl-validator inside serverless-step-functions (validate: true) writes the default QueryLanguage into each
        // state; JSONPath is the default anyway, so it is removed before comparing.
        for (const state of Object.values(deployed.States) as Array<Record<string, unknown>>) {
          if (state.QueryLanguage === (deployed.QueryLanguage ?? 'JSONPath')) delete state.QueryLanguage;
        }
        for (const state of Object.values(deployed.States) as Array<Record<string, unknown>>) {
          const logicalId = getAttTarget(state.Resource);
          if (logicalId) {
            expect(keyOfLogicalId.has(logicalId), `${logicalId} is a function of the template`).toBe(true);
            state.Resource = { 'Fn::GetAtt': [keyOfLogicalId.get(logicalId), 'Arn'] };
          }
          // A callback task names its function in Parameters.FunctionName.
          const parameters = state.Parameters as { FunctionName?: unknown } | undefined;
          const callbackId = getAttTarget(parameters?.FunctionName);
          if (callbackId) {
            expect(keyOfLogicalId.has(callbackId), `${callbackId} is a function of the template`).toBe(true);
            parameters!.FunctionName = { 'Fn::GetAtt': [keyOfLogicalId.get(callbackId), 'Arn'] };
          }
        }
        expect(deployed).toEqual(expected);
        expect(JSON.stringify(deployed)).not.toContain('000000000000');
      },
    );

    it.each(machines)('%s only names ERROR_NAMES, States.*, Lambda.* and Sandbox.Timedout in ErrorEquals', (id) => {
      const deployed = decodeDefinition(template.Resources[id]!.Properties?.DefinitionString);
      const names = (
        Object.values(deployed.States) as Array<{ Retry?: Array<{ ErrorEquals: string[] }>; Catch?: Array<{ ErrorEquals: string[] }> }>
      )
        .flatMap((s) => [...(s.Retry ?? []), ...(s.Catch ?? [])])
        .flatMap((rule) => rule.ErrorEquals);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) {
        if (name.startsWith('States.') || name.startsWith('Lambda.') || name === 'Sandbox.Timedout') continue;
        expect(ERROR_NAMES as readonly string[], name).toContain(name);
      }
    });

    it.each(machines)('%s binds every task to a task function key (the functions put the events themselves)', (id) => {
      const deployed = decodeDefinition(template.Resources[id]!.Properties?.DefinitionString);
      for (const [name, state] of Object.entries(deployed.States) as Array<[string, TaskState]>) {
        if (state.Type !== 'Task') continue;
        expect(TASK_FUNCTIONS, name).toContain(keyOfLogicalId.get(taskFunction(state) ?? ''));
      }
    });

    it.each(machines)('%s logs errors only (no execution data), traces, and runs under its own role limited to its functions', (id) => {
      const machine = template.Resources[id]!;
      const logging = machine.Properties?.LoggingConfiguration;
      expect(logging).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
      const logGroup = getAttTarget(logging.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn)!;
      expect(template.Resources[logGroup]?.Type).toBe('AWS::Logs::LogGroup');
      expect(template.Resources[logGroup]?.Properties?.RetentionInDays).toBeGreaterThan(0);
      expect(machine.Properties?.TracingConfiguration).toEqual({ Enabled: true });

      const roleId = getAttTarget(machine.Properties?.RoleArn)!;
      expect(template.Resources[roleId]?.Properties?.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({
        Service: 'states.amazonaws.com',
      });
      const deployed = decodeDefinition(machine.Properties?.DefinitionString);
      const functions = new Set((Object.values(deployed.States) as TaskState[]).map(taskFunction).filter(Boolean) as string[]);
      const grants = grantsOf(roleStatements(template, roleId)).filter((g) => !g.endsWith(' on "*"'));
      expect(grants.sort()).toEqual([...functions].map((f) => `lambda:InvokeFunction on ${json({ 'Fn::GetAtt': [f, 'Arn'] })}`).sort());
    });
  });

  describe('IAM', () => {
    it('never allows Action "*" and uses Resource "*" only for the allow-listed actions', () => {
      const statements = allStatements(template);
      expect(statements.length).toBeGreaterThan(20);
      for (const { where, statement } of statements) {
        expect(statement.NotAction, where).toBeUndefined();
        for (const action of asArray(statement.Action)) expect(['*', '*:*'], where).not.toContain(action);
        const resources = asArray(statement.Resource as unknown);
        if (resources.includes('*')) {
          for (const action of asArray(statement.Action)) {
            expect(WILDCARD_RESOURCE_ALLOWED[action], `${where}: ${action} on "*" is not allow-listed`).toBeDefined();
          }
        }
      }
    });

    it('conditions every iam:PassRole on the service the role is passed to', () => {
      const passRoles = allStatements(template).filter(({ statement }) => asArray(statement.Action).includes('iam:PassRole'));
      expect(passRoles.length).toBeGreaterThan(0);
      for (const { where, statement } of passRoles) {
        expect(asArray(statement.Action), where).toEqual(['iam:PassRole']);
        expect(statement.Condition?.StringEquals?.['iam:PassedToService'], where).toMatch(/^(sagemaker|scheduler)\.amazonaws\.com$/);
      }
    });

    it('runs every function under a role of its own', () => {
      const roles = Object.keys(FUNCTIONS).map(roleOf);
      expect(new Set(roles).size).toBe(roles.length);
      for (const roleId of roles) {
        expect(template.Resources[roleId]?.Properties?.AssumeRolePolicyDocument.Statement).toEqual([
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ]);
      }
      expect(resourcesOfType(template, 'AWS::IAM::Role').map(([id]) => id)).not.toContain('IamRoleLambdaExecution');
    });

    it.each(Object.keys(FUNCTIONS))('%s may write its own logs and traces, and exactly its listed grants', (key) => {
      const [logicalId] = fn(key);
      const statements = roleStatements(template, roleOf(key));
      const logGroup = logicalId.replace(/LambdaFunction$/, 'LogGroup');
      expect(template.Resources[logGroup]?.Properties?.LogGroupName).toBe(`/aws/lambda/${fn(key)[1].Properties?.FunctionName}`);
      const baseline = [
        `logs:CreateLogStream on ${json({ 'Fn::GetAtt': [logGroup, 'Arn'] })}`,
        `logs:PutLogEvents on ${json({ 'Fn::GetAtt': [logGroup, 'Arn'] })}`,
        'xray:PutTraceSegments on "*"',
        'xray:PutTelemetryRecords on "*"',
      ];
      const expected = [...baseline, ...PERMISSIONS[key]!.map(grant)];
      expect(grantsOf(statements).sort()).toEqual(expected.sort());
      for (const s of statements) expect(s.Effect).toBe('Allow');
    });

    it('lets httpGet only read one item and httpList only query the indexes', () => {
      const actions = (key: string) =>
        roleStatements(template, roleOf(key))
          .flatMap((s) => asArray(s.Action))
          .filter((a) => a.startsWith('dynamodb:'));
      expect(actions('httpGet')).toEqual(['dynamodb:GetItem']);
      expect(actions('httpList')).toEqual(['dynamodb:Query']);
    });

    it('lets EventBridge Scheduler (same account only) invoke scheduleTarget and write to its dead-letter queue, nothing else', () => {
      const role = template.Resources.SchedulerRole!;
      expect(role.Properties?.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ]);
      const name = fn('scheduleTarget')[1].Properties?.FunctionName as string;
      expect(grantsOf(roleStatements(template, 'SchedulerRole'))).toEqual([
        `lambda:InvokeFunction on ${json({ 'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${name}` })}`,
        grant(['sqs:SendMessage', { 'Fn::GetAtt': ['SchedulesDeadLetterQueue', 'Arn'] }]),
      ]);
    });

    it('has no dependency cycle CloudFormation would refuse', () => {
      expect(findCycle(template)).toBeUndefined();
    });
  });

  describe('data and secrets', () => {
    it('declares the clusters table from the contract (the local table is made from the same), on demand, with PITR and SSE', () => {
      const deployed = template.Resources.ClustersTable!.Properties!;
      const { TableName: _name, ...local } = clustersTableDefinition('x');
      expect({ ...deployed, PointInTimeRecoverySpecification: undefined, SSESpecification: undefined }).toEqual({
        ...local,
        PointInTimeRecoverySpecification: undefined,
        SSESpecification: undefined,
      });
      const table = deployed;
      expect(table.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.SSESpecification).toEqual({ SSEEnabled: true });
      expect(template.Resources.ClustersTable!.DeletionPolicy).toBe('Retain');
    });

    it('creates the TIR secret empty, explaining how to fill it, and commits no secret-looking value anywhere', () => {
      const secret = template.Resources.TirCredentialsSecret!.Properties!;
      expect(secret.SecretString).toBeUndefined();
      expect(secret.GenerateSecretString).toBeUndefined();
      expect(secret.Description).toContain('{"apiKey": "...", "authToken": "..."}');
      expect(secret.Description).toContain('aws secretsmanager put-secret-value');

      const text = JSON.stringify(template);
      const valued = [
        ...text.matchAll(/\\?"(apiKey|authToken|api_key|auth_token|password|secretKey|secret_key|token)\\?"\s*:\s*\\?"([^"\\]*)/gi),
      ];
      expect(valued.length).toBeGreaterThan(0); // the description's placeholder is found, so the scan works
      for (const match of valued) expect(match[2], match[0]).toBe('...');
      expect(text).not.toMatch(/TIR_API_KEY|TIR_AUTH_TOKEN/);
      expect(text).not.toMatch(/AKIA[0-9A-Z]{16}/);
    });

    it('outputs the API URL, bus name, queue URL, table name and machine ARNs', () => {
      expect(Object.keys(template.Outputs ?? {})).toEqual(
        expect.arrayContaining([
          'HttpApiUrl',
          'EventBusName',
          'RequestsQueueUrl',
          'ClustersTableName',
          'ProvisionClusterStateMachineArn',
          'DeleteClusterStateMachineArn',
          'TirCredentialsSecretArn',
        ]),
      );
    });
  });

  describe('recurring schedules (config/schedules.yml)', () => {
    const schedules = () => resourcesOfType(template, 'AWS::Scheduler::Schedule');

    it('ships the example nightly HyperPod schedule DISABLED, firing scheduleTarget with the scheduled time', () => {
      const example = schedules().find(([, s]) => s.Properties?.Name === 'nightly-hyperpod');
      expect(example, 'the example schedule').toBeDefined();
      const props = example![1].Properties!;
      expect(props.State).toBe('DISABLED');
      expect(props.GroupName).toEqual({ Ref: 'ProvisionerScheduleGroup' });
      expect(props.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
      expect(props.Target.Arn).toEqual({ 'Fn::GetAtt': [fn('scheduleTarget')[0], 'Arn'] });
      expect(props.Target.RoleArn).toEqual(SCHEDULER_ROLE);
      expect(props.Target.RetryPolicy).toEqual(TARGET_RETRY_POLICY);
      expect(props.Target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['SchedulesDeadLetterQueue', 'Arn'] } });
      const input = JSON.parse(props.Target.Input);
      expect(input).toMatchObject({ schedule: 'nightly-hyperpod', scheduledTime: '<aws.scheduler.scheduled-time>' });
      expect(input.request).toMatchObject({ provider: 'sagemaker', deleteAfter: 'PT8H' });
    });

    it('carries in every schedule a request template the request contract accepts, without requestId', () => {
      expect(schedules().length).toBeGreaterThan(0);
      for (const [id, schedule] of schedules()) {
        const input = JSON.parse(schedule.Properties?.Target.Input);
        expect(input.scheduledTime, id).toBe(SCHEDULED_TIME);
        expect(input.request.requestId, id).toBeUndefined();
        expect(() => parseRequest(input.request), id).not.toThrow();
      }
    });
  });
});

// ================================================================================================ schedules.js

describe('config/schedules.js', () => {
  const request = {
    provider: 'tir',
    projectId: 1,
    location: 'Delhi',
    cluster: {
      name: 'nightly',
      image_version_id: 1,
      ssh_key_ids: [1],
      security_group_id: 1,
      sku_id: 1,
      no_of_nodes: 1,
      sku_item_price_id: 1,
    },
  };
  const entry = (overrides: Record<string, unknown> = {}) => ({ name: 'nightly', expression: 'cron(0 20 * * ? *)', request, ...overrides });
  const problemsOf = (config: unknown): string[] => {
    try {
      validateSchedules(config);
    } catch (err) {
      expect(err).toBeInstanceOf(ScheduleConfigError);
      return (err as ScheduleConfigError).problems;
    }
    throw new Error('expected a ScheduleConfigError');
  };

  it('turns each entry into a schedule in the project group, enabled unless told otherwise, UTC by default', () => {
    const resources = scheduleResources(
      validateSchedules({
        schedules: [entry(), entry({ name: 'weekly.v2', expression: 'rate(7 days)', enabled: false, timezone: 'Asia/Kolkata' })],
      }),
    ) as Record<string, { Properties: Record<string, any> }>;
    expect(Object.keys(resources)).toEqual(['RecurringScheduleNightly', 'RecurringScheduleWeeklyV2']);
    const nightly = resources.RecurringScheduleNightly!.Properties;
    expect(nightly).toMatchObject({
      Name: 'nightly',
      State: 'ENABLED',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
    expect(JSON.parse(nightly.Target.Input)).toEqual({ schedule: 'nightly', scheduledTime: '<aws.scheduler.scheduled-time>', request });
    expect(resources.RecurringScheduleWeeklyV2!.Properties).toMatchObject({
      State: 'DISABLED',
      ScheduleExpressionTimezone: 'Asia/Kolkata',
    });
  });

  it('accepts an empty file or an empty list', () => {
    expect(validateSchedules(null)).toEqual([]);
    expect(validateSchedules({ schedules: [] })).toEqual([]);
    expect(validateSchedules({ schedules: null })).toEqual([]);
  });

  it('rejects a bad name, naming the entry and the rule', () => {
    expect(problemsOf({ schedules: [entry({ name: 'nightly run' })] })).toEqual([
      'schedules[0] ("nightly run"): name must be 1..47 characters of [0-9a-zA-Z-_.], got "nightly run"',
    ]);
    expect(problemsOf({ schedules: [entry({ name: 'x'.repeat(48) })] })[0]).toMatch(/name must be 1\.\.47 characters/);
    expect(problemsOf({ schedules: [entry({ name: undefined })] })[0]).toMatch(/^schedules\[0\]: name must be/);
  });

  it("keeps each firing's requestId whole: the longest names that differ only in their last character never share one", () => {
    const longest = ['a', 'b'].map((last) => `${'n'.repeat(46)}${last}`);
    expect(validateSchedules({ schedules: longest.map((name) => entry({ name })) })).toHaveLength(2);
    const ids = longest.map((name) => occurrenceRequestId(name, '2026-11-24T20:00:00.000Z'));
    expect(ids[0]).not.toBe(ids[1]);
    for (const [i, id] of ids.entries()) {
      expect(id).toBe(`${longest[i]}-20261124T200000Z`);
      expect(id).toMatch(REQUEST_ID);
    }
  });

  it('rejects duplicate names, and names that differ only in punctuation', () => {
    expect(problemsOf({ schedules: [entry(), entry()] })).toEqual([
      'schedules[1] ("nightly"): name "nightly" is already used by schedules[0]; names must be unique',
    ]);
    expect(problemsOf({ schedules: [entry({ name: 'a-b' }), entry({ name: 'a.b' })] })[0]).toMatch(/differ only in punctuation/);
  });

  it('rejects an expression that is not cron(...), rate(...) or at(...)', () => {
    for (const expression of ['0 20 * * ? *', 'cron 0 20 * * ? *', 'every(1 day)', '', 42]) {
      expect(problemsOf({ schedules: [entry({ expression })] })[0]).toMatch(
        /expression must be cron\(\.\.\.\), rate\(\.\.\.\) or at\(\.\.\.\)/,
      );
    }
  });

  it('rejects an unknown time zone, a non-boolean enabled, an unknown field, and a request with requestId or startAt', () => {
    expect(problemsOf({ schedules: [entry({ timezone: 'Mars/Olympus' })] })[0]).toMatch(/timezone must be an IANA time zone/);
    expect(problemsOf({ schedules: [entry({ enabled: 'no' })] })[0]).toMatch(/enabled must be true or false/);
    expect(problemsOf({ schedules: [entry({ enable: false })] })[0]).toMatch(/unknown field "enable"/);
    expect(problemsOf({ schedules: [entry({ request: { ...request, requestId: 'fixed' } })] })[0]).toMatch(/must not carry a requestId/);
    expect(problemsOf({ schedules: [entry({ request: { ...request, startAt: '2030-01-01T00:00:00Z' } })] })[0]).toMatch(
      /must not carry startAt/,
    );
    expect(problemsOf({ schedules: [entry({ request: { provider: 'gcp' } })] })[0]).toMatch(
      /request.provider must be "sagemaker" or "tir"/,
    );
  });

  it('reports every problem at once, in a message that names the file', () => {
    let message = '';
    try {
      validateSchedules({ schedules: [entry({ name: 'bad name' }), entry({ expression: 'daily' })] });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^config\/schedules\.yml is invalid:\n/);
    expect(message).toContain('schedules[0] ("bad name"): name must be');
    expect(message).toContain('schedules[1] ("nightly"): expression must be');
  });

  it('rejects a file that is not a mapping with a schedules list', () => {
    expect(problemsOf([entry()])).toEqual(['the file must be a mapping with a "schedules" list']);
    expect(problemsOf({ schedule: [] })[0]).toMatch(/unknown top-level key\(s\) schedule/);
    expect(problemsOf({ schedules: entry() })).toEqual(['"schedules" must be a list']);
  });

  it('reads config/schedules.yml through osls variable resolution', async () => {
    const asked: string[] = [];
    const out = await scheduleResourcesFromFile({
      resolveVariable: async (variable: string) => {
        asked.push(variable);
        return { schedules: [entry()] };
      },
    });
    expect(asked).toEqual(['file(./config/schedules.yml)']);
    expect(Object.keys(out.Resources)).toEqual(['RecurringScheduleNightly']);
  });
});
