// @ts-check
/**
 * The functions' environment: every variable their code reads, written here once. `ENV` holds the names (the only
 * part a function's bundle carries); `VARIABLES` holds, for each, what it means, which functions read it, what the
 * deployment sets it to (serverless.yml gives each function its variables through serverless/environment.js), what it
 * is when unset, and what the local stack sets (local/environment.ts). docs/operations.md's table is generated from
 * here, and the package test holds the packaged template to it.
 *
 * Each function gets only the variables its code reads (functions/wiring/): the scheduler's only where something is
 * scheduled (startAt, deleteAfter), a state machine's ARN only where its role may start it.
 */

/** Each variable's name, by key: `required(ENV.clustersTable)`. */
export const ENV = /** @type {const} */ ({
  powertoolsServiceName: 'POWERTOOLS_SERVICE_NAME',
  powertoolsMetricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  awsRegion: 'AWS_REGION',
  clustersTable: 'CLUSTERS_TABLE',
  offeringsTable: 'OFFERINGS_TABLE',
  eventBusName: 'EVENT_BUS_NAME',
  deploymentName: 'DEPLOYMENT_NAME',
  provisionStateMachineArn: 'PROVISION_STATE_MACHINE_ARN',
  deleteStateMachineArn: 'DELETE_STATE_MACHINE_ARN',
  schedulerGroupName: 'SCHEDULER_GROUP_NAME',
  schedulerRoleArn: 'SCHEDULER_ROLE_ARN',
  scheduleTargetArn: 'SCHEDULE_TARGET_ARN',
  schedulerDlqArn: 'SCHEDULER_DLQ_ARN',
  tirCredentialsSecretArn: 'TIR_CREDENTIALS_SECRET_ARN',
  tirApiBaseUrl: 'TIR_API_BASE_URL',
  tirApiKey: 'TIR_API_KEY',
  tirAuthToken: 'TIR_AUTH_TOKEN',
  tirTimeoutMs: 'TIR_TIMEOUT_MS',
  hyperPodEventRegions: 'HYPERPOD_EVENT_REGIONS',
  allowedRegions: 'ALLOWED_REGIONS',
  allowedExecutionRoles: 'ALLOWED_EXECUTION_ROLES',
  allowedLifecycleBuckets: 'ALLOWED_LIFECYCLE_BUCKETS',
  allowedEksClusters: 'ALLOWED_EKS_CLUSTERS',
  allowedSubnets: 'ALLOWED_SUBNETS',
  allowedSecurityGroups: 'ALLOWED_SECURITY_GROUPS',
  allowedClusterRoles: 'ALLOWED_CLUSTER_ROLES',
  allowedTirProjects: 'ALLOWED_TIR_PROJECTS',
  allowedTirLocations: 'ALLOWED_TIR_LOCATIONS',
  allowedTirSkus: 'ALLOWED_TIR_SKUS',
  preflightDefault: 'PREFLIGHT_DEFAULT',
  planFunctionName: 'PLAN_FUNCTION_NAME',
  notifySnsTopics: 'NOTIFY_SNS_TOPICS',
  notifySecretPrefix: 'NOTIFY_SECRET_PREFIX',
  notifyAllowLoopback: 'NOTIFY_ALLOW_LOOPBACK',
  notifyAttempts: 'NOTIFY_ATTEMPTS',
  notifyBaseDelayMs: 'NOTIFY_BASE_DELAY_MS',
  notifyTimeoutMs: 'NOTIFY_TIMEOUT_MS',
  adminPrincipals: 'ADMIN_PRINCIPALS',
  cursorKey: 'CURSOR_KEY',
  reservedOffersAfterSeconds: 'RESERVED_OFFERS_AFTER_SECONDS',
  sweepGraceSeconds: 'SWEEP_GRACE_SECONDS',
  priceList: 'PRICE_LIST',
  pricingApiRegion: 'PRICING_API_REGION',
  priceCacheSeconds: 'PRICE_CACHE_SECONDS',
});

/** @typedef {keyof typeof ENV} EnvKey */
/** @typedef {(typeof ENV)[EnvKey]} EnvName */

/**
 * What the deployment sets a variable to, as serverless.yml would write it: CloudFormation (`Ref`, `Fn::GetAtt`,
 * `Fn::Sub`), a parameter (`param`, in an `Fn::Sub` when `sub`), a value of serverless.yml itself (`self`: a path such
 * as `custom.prefix`), an allow-list of config/allow-lists.js (`allowList`: its parameter), or a `literal`.
 * @typedef {{ Ref: string }
 *   | { 'Fn::GetAtt': [string, string] }
 *   | { 'Fn::Sub': string }
 *   | { param: string, sub?: boolean }
 *   | { self: string }
 *   | { allowList: string }
 *   | { literal: string }} Deployed
 */

/**
 * What the local stack's values are made of: its region, account, deployment name (`prefix`), its one caller, the
 * time scale, the environment it was started with (`env`), the TIR simulator when it runs one, and a fresh secret.
 * @typedef {{
 *   region: string,
 *   account: string,
 *   prefix: string,
 *   principal: string,
 *   timeScale: number,
 *   env: Record<string, string | undefined>,
 *   tirSimulator?: { baseUrl: string, apiKey: string, authToken: string },
 *   newKey: () => string,
 * }} LocalContext
 */

/**
 * @typedef {object} Variable
 * @property {string} meaning
 * @property {readonly string[] | 'all'} readBy  the functions (serverless.yml keys) whose code reads it
 * @property {Deployed | 'runtime'} [deployed]  what the deployment sets (`runtime`: the Lambda runtime); absent: unset
 * @property {string} [unset]  what the code does when it is unset
 * @property {((ctx: LocalContext) => string | undefined) | null | 'setting'} [local]  what the local stack sets
 *   (undefined: what it was started with, if anything); null: removed; `setting`: a setting of `npm start`, whose
 *   local default is in local/settings.ts (docs/cli.md)
 * @property {string} [localShown]  the local value as the docs show it, where `local` cannot say it
 */

/**
 * Each variable, by key. Built inside a pure function so a bundle that imports only `ENV` (every function's) leaves it out.
 * @type {Record<EnvKey, Variable>}
 */
export const VARIABLES = /* @__PURE__ */ (() => {
  /** The three tasks that call a provider. */
  const PROVIDER_TASKS = ['createCluster', 'pollCluster', 'deleteCluster'];
  /** The submit entry points: the request's checks, the workflows they start and the schedules they make. */
  const SUBMITTERS = ['httpSubmit', 'sqsSubmit', 'eventSubmit', 'scheduleTarget'];
  /** The reconciler, scheduled and on demand. */
  const RECONCILERS = ['reconcile', 'httpReconcile'];
  /** What reaches TIR: the provider tasks, the sweeper (scheduled and on demand), the plan. */
  const TIR_CALLERS = [...PROVIDER_TASKS, 'sweep', 'httpOrphans', 'plan'];
  /** What schedules: startAt at submit, deleteAfter at recordOutcome, the reconcilers resuming either. */
  const SCHEDULERS = ['recordOutcome', ...SUBMITTERS, ...RECONCILERS];
  /** What checks a request against the deployment's allow-lists: the submit path and the plan. */
  const CHECKERS = [...SUBMITTERS, 'plan'];
  /** What prices: the plan, and the tasks offering reserved capacity to a long wait. */
  const PRICERS = ['plan', 'createCluster', 'pollCluster'];

  /** @param {string} param @param {string} meaning @returns {Variable} An allow-list: deployed from its parameter. */
  const allowList = (param, meaning) => ({ meaning, readBy: CHECKERS, deployed: { allowList: param }, local: 'setting' });

  return {
    powertoolsServiceName: {
      meaning: 'the service name of the logs and metrics',
      readBy: 'all',
      deployed: { self: 'service' },
      unset: '`gpu-cluster-provisioner`',
    },
    powertoolsMetricsNamespace: {
      meaning: 'the CloudWatch namespace of the metrics',
      readBy: 'all',
      deployed: { literal: 'GpuClusterProvisioner' },
      unset: '`GpuClusterProvisioner`',
    },
    awsRegion: {
      meaning:
        "the function's region (set by the Lambda runtime): the default region of a HyperPod request, of the sweeper and of HyperPod's events",
      readBy: 'all',
      deployed: 'runtime',
      local: ({ region }) => region,
    },
    clustersTable: {
      meaning: 'the DynamoDB table of the records (functions/contract/table.js)',
      readBy: 'all',
      deployed: { Ref: 'ClustersTable' },
      local: ({ prefix }) => `${prefix}-clusters`,
    },
    offeringsTable: {
      meaning:
        'the shared memory of short offerings (skipped without a provider call; one probe per offering at a time), the queues of waiting requests and the price cache',
      readBy: ['createCluster', 'pollCluster', 'recordOutcome', 'httpOfferings', 'plan'],
      deployed: { Ref: 'OfferingsTable' },
      unset: 'the plan prices without a cache',
      local: ({ prefix }) => `${prefix}-offerings`,
    },
    eventBusName: {
      meaning: 'the project bus (completion, waiting, rejection and orphan events)',
      readBy: [...PROVIDER_TASKS, 'recordOutcome', 'sqsSubmit', 'eventSubmit', 'scheduleTarget', ...RECONCILERS, 'sweep'],
      deployed: { Ref: 'ProvisionerEventBus' },
      local: ({ prefix }) => prefix,
    },
    deploymentName: {
      meaning:
        "this deployment's name: every cluster it creates carries it (tag `provisioner:deployment`, TIR owner marker), and only clusters carrying it are its own",
      readBy: [...PROVIDER_TASKS, ...RECONCILERS, 'sweep', 'httpOrphans'],
      deployed: { self: 'custom.prefix' },
      local: ({ prefix }) => prefix,
    },
    provisionStateMachineArn: {
      meaning: 'the provision workflow, for the functions that may start it (a DELETE of a request still provisioning stops it)',
      readBy: [...SUBMITTERS, 'httpDelete', ...RECONCILERS],
      deployed: { Ref: 'ProvisionClusterStateMachine' },
      local: ({ region, account, prefix }) => `arn:aws:states:${region}:${account}:stateMachine:${prefix}-provision-cluster`,
    },
    deleteStateMachineArn: {
      meaning: 'the delete workflow, for the functions that may start it',
      readBy: ['httpDelete', 'scheduleTarget', ...RECONCILERS],
      deployed: { Ref: 'DeleteClusterStateMachine' },
      local: ({ region, account, prefix }) => `arn:aws:states:${region}:${account}:stateMachine:${prefix}-delete-cluster`,
    },
    schedulerGroupName: {
      meaning: 'the schedule group of the one-time schedules (`startAt`, `deleteAfter`)',
      readBy: SCHEDULERS,
      deployed: { self: 'custom.scheduleGroupName' },
      local: ({ prefix }) => prefix,
    },
    schedulerRoleArn: {
      meaning: 'the role EventBridge Scheduler invokes scheduleTarget with',
      readBy: SCHEDULERS,
      deployed: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] },
      local: ({ account, prefix }) => `arn:aws:iam::${account}:role/${prefix}-scheduler`,
    },
    scheduleTargetArn: {
      meaning: "what a schedule invokes: scheduleTarget's ARN",
      readBy: SCHEDULERS,
      deployed: { self: 'custom.scheduleTargetFunctionArn' },
      local: ({ region, account, prefix }) => `arn:aws:lambda:${region}:${account}:function:${prefix}-scheduleTarget`,
    },
    schedulerDlqArn: {
      meaning: 'the dead-letter queue of the firings Scheduler could not deliver',
      readBy: SCHEDULERS,
      deployed: { 'Fn::GetAtt': ['SchedulesDeadLetterQueue', 'Arn'] },
      local: ({ region, account, prefix }) => `arn:aws:sqs:${region}:${account}:${prefix}-schedules-dlq`,
    },
    tirCredentialsSecretArn: {
      meaning: 'the secret holding the TIR credentials `{"apiKey", "authToken"}` (kept 5 minutes)',
      readBy: TIR_CALLERS,
      deployed: { Ref: 'TirCredentialsSecret' },
      local: null,
      localShown: '(unset: the TIR API key and token below)',
    },
    tirApiBaseUrl: {
      meaning: 'the TIR API root',
      readBy: TIR_CALLERS,
      deployed: { param: 'tirApiBaseUrl' },
      unset: '`https://api.e2enetworks.com/myaccount/api/v1/gpu`',
      local: ({ tirSimulator }) => tirSimulator?.baseUrl,
      localShown: 'the TIR simulator, unless set',
    },
    tirApiKey: {
      meaning: 'the TIR API key, where no secret is named (the local stack; never deployed)',
      readBy: TIR_CALLERS,
      local: ({ tirSimulator }) => tirSimulator?.apiKey,
      localShown: "the TIR simulator's, unless the TIR API root is set",
    },
    tirAuthToken: {
      meaning: 'the TIR auth token, with the API key',
      readBy: TIR_CALLERS,
      local: ({ tirSimulator }) => tirSimulator?.authToken,
      localShown: "the TIR simulator's, unless the TIR API root is set",
    },
    tirTimeoutMs: {
      meaning: 'the timeout of each TIR call, in ms',
      readBy: TIR_CALLERS,
      unset: '15000',
    },
    hyperPodEventRegions: {
      meaning:
        'the regions whose HyperPod events reach the home bus (the `hyperPodEventRegions` param): a cluster elsewhere is polled every 60 s ([deploy.md](deploy.md#hyperpod-events-from-other-regions))',
      readBy: ['pollCluster'],
      deployed: { param: 'hyperPodEventRegions' },
      unset: "the deployment's region",
    },
    allowedRegions: {
      ...allowList(
        'allowedRegions',
        "the regions a HyperPod request (and each alternative) may name, comma-separated; the sweeper's regions too",
      ),
      readBy: [...CHECKERS, 'sweep', 'httpOrphans'],
    },
    allowedExecutionRoles: allowList('allowedExecutionRoles', "the roles an instance group's `ExecutionRole` may name"),
    allowedLifecycleBuckets: allowList('allowedLifecycleBuckets', 'the buckets a `LifeCycleConfig.SourceS3Uri` may name'),
    allowedEksClusters: allowList('allowedEksClusters', 'the EKS clusters an `Orchestrator.Eks.ClusterArn` may name (unset: none)'),
    allowedSubnets: allowList('allowedSubnets', 'the subnets a `VpcConfig` or `OverrideVpcConfig` may name (unset: none)'),
    allowedSecurityGroups: allowList(
      'allowedSecurityGroups',
      'the security groups a `VpcConfig` or `OverrideVpcConfig` may name (unset: none)',
    ),
    allowedClusterRoles: allowList('allowedClusterRoles', "the roles a request's `ClusterRole` may name (unset: none)"),
    allowedTirProjects: allowList('allowedTirProjects', 'the TIR projects a TIR request may name (unset: none)'),
    allowedTirLocations: allowList('allowedTirLocations', 'the TIR locations a TIR request may name (unset: any)'),
    allowedTirSkus: allowList('allowedTirSkus', "the TIR SKUs a TIR request's `cluster.sku_id` may name (unset: any)"),
    preflightDefault: {
      meaning: '`true`: every request is planned first, unless it says `preflight` ([plan.md](plan.md))',
      readBy: SUBMITTERS,
      deployed: { param: 'preflightDefault' },
      unset: '`false`',
      local: 'setting',
    },
    planFunctionName: {
      meaning: 'the plan function the submit functions invoke for `?dryRun=true` and `preflight`',
      readBy: SUBMITTERS,
      deployed: { Ref: 'PlanLambdaFunction' },
      local: ({ prefix }) => `${prefix}-plan`,
    },
    notifySnsTopics: {
      meaning:
        "the SNS topics a request's `notify` may name, the only ones the notify function may publish to ([deploy.md](deploy.md#notifications))",
      readBy: [...CHECKERS, 'notify'],
      deployed: { param: 'notifySnsTopics', sub: true },
      unset: 'none',
      local: 'setting',
    },
    notifySecretPrefix: {
      meaning: "the prefix of the secrets a request's webhook `notify` may name (the notify function reads no other)",
      readBy: [...CHECKERS, 'notify'],
      deployed: { param: 'notifySecretPrefix' },
      unset: '`provisioner/notify/`',
    },
    notifyAllowLoopback: {
      meaning: '`true`: loopback webhooks, over http too (the local stack only; never deployed)',
      readBy: [...CHECKERS, 'notify'],
      unset: '`false`',
      local: () => 'true',
    },
    notifyAttempts: { meaning: 'tries per notify target in one invocation', readBy: ['notify'], unset: '3' },
    notifyBaseDelayMs: { meaning: "the first ceiling of the notify backoff's full jitter, in ms", readBy: ['notify'], unset: '500' },
    notifyTimeoutMs: { meaning: 'the webhook timeout, in ms', readBy: ['notify'], unset: '5000' },
    adminPrincipals: {
      meaning:
        'the principals that may read and delete every request and call the admin routes (the `adminPrincipals` param); unset: each caller sees only its own',
      readBy: ['httpSubmit', 'httpGet', 'httpList', 'httpDelete', 'httpReconcile', 'httpOrphans'],
      deployed: { param: 'adminPrincipals' },
      local: ({ principal }) => principal,
      localShown: 'the local caller (every local request acts as it)',
    },
    cursorKey: {
      meaning: 'the key list cursors are sealed with, shared by every instance',
      readBy: ['httpList'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub, resolved at deploy time
      deployed: { 'Fn::Sub': '{{resolve:secretsmanager:${ListCursorKey}:SecretString}}' },
      unset: 'a key per instance',
      local: ({ env, newKey }) => env[ENV.cursorKey] || newKey(),
      localShown: 'one per run (a cursor of an earlier run is refused), unless set',
    },
    reservedOffersAfterSeconds: {
      meaning:
        'how long a request waits for capacity before training-plan offerings are suggested ([capacity.md](capacity.md#reserved-capacity-while-waiting))',
      readBy: ['createCluster', 'pollCluster'],
      deployed: { param: 'reservedOffersAfterSeconds' },
      unset: '1800',
      local: ({ env, timeScale }) => env[ENV.reservedOffersAfterSeconds] ?? String(Math.max(1, Math.round(1800 * timeScale))),
      localShown: '1800 × `LOCAL_TIME_SCALE`, unless set',
    },
    sweepGraceSeconds: {
      meaning: "how long after its record's last change and its creation a leftover is deleted",
      readBy: ['sweep', 'httpOrphans'],
      unset: '1800',
    },
    priceList: {
      meaning: '`off`: prices from the offline table only ([plan.md](plan.md#the-price))',
      readBy: PRICERS,
      unset: '`api`',
    },
    pricingApiRegion: { meaning: "the Price List Query API's region", readBy: PRICERS, unset: '`us-east-1`' },
    priceCacheSeconds: { meaning: 'how long a price read is kept in the cache', readBy: PRICERS, unset: 'a day' },
  };
})();
