/**
 * Least privilege, proven by simulation: each role of the packaged template (test/helpers/package.ts, one packaging
 * per run), its intrinsics resolved to the ARNs of one account and region (test/helpers/iam.ts), is run through
 * @cloud-copilot/iam-simulate against
 * - every call its code makes (CALLS, written from the code; every AWS SDK command under functions/ must be claimed by
 *   some function) -> Allowed, and every action its role grants is one of those calls (no unused grant);
 * - every call another function makes that it does not -> denied (one function doing another's job);
 * - each of its SageMaker and EKS calls in a region outside allowedRegions -> denied;
 * - the calls no function may make (FORBIDDEN: a role outside allowedExecutionRoles, a cluster without this
 *   deployment's tag or with another's, tagging outside CreateCluster, ...) -> denied.
 * The deployment is packaged with its default parameters: allowedRegions = the stage's region (us-east-1),
 * allowedExecutionRoles = `arn:<partition>:iam::<account>:role/HyperPodExecution*`, allowedEksClusters unset (no EKS
 * cluster may be reached: every EKS call is denied).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INDEX_PARTITION_KEYS } from '../../functions/contract/table.js';
import { DEPLOYMENT_TAG, REQUEST_ID_TAG } from '../../functions/core/provider';
import { EVENT_SOURCE } from '../../functions/core/events';
import { ACCOUNT, PARTITION, REGION, STACK, attributeOf, concreteRolePolicies, decide, resolveIntrinsics, type Call } from '../helpers/iam';
import {
  REPO_ROOT,
  asArray,
  readZip,
  resourcesOfType,
  roleStatements,
  sharedPackage,
  type CfnTemplate,
  type PackagedService,
} from '../helpers/package';

const FUNCTION_PREFIX = `${STACK}-`;
/** The deployment's name, as the provisioner:deployment tag carries it (`<service>-<stage>`). */
const DEPLOYMENT = STACK;
const OUTSIDE_REGION = 'eu-west-1';

const arn = (service: string, resource: string, region = REGION) => `arn:${PARTITION}:${service}:${region}:${ACCOUNT}:${resource}`;

/** The concrete resources the calls name, from the packaged template. */
const resourcesOf = (template: CfnTemplate) => {
  const a = (id: string, attribute = 'Ref') => attributeOf(template, id, attribute);
  const provisionMachine = a('ProvisionClusterStateMachine');
  const deleteMachine = a('DeleteClusterStateMachine');
  const table = a('ClustersTable', 'Arn');
  return {
    table,
    index: `${table}/index/${Object.keys(INDEX_PARTITION_KEYS)[0]}`,
    provisionMachine,
    deleteMachine,
    provisionExecution: `${provisionMachine.replace(':stateMachine:', ':execution:')}:req-1`,
    deleteExecution: `${deleteMachine.replace(':stateMachine:', ':execution:')}:req-1-delete-1`,
    schedule: arn('scheduler', `schedule/${a('ProvisionerScheduleGroup')}/provision-req-1`),
    schedulerRole: a('SchedulerRole', 'Arn'),
    bus: a('ProvisionerEventBus', 'Arn'),
    requestsQueue: a('RequestsQueue', 'Arn'),
    invocationsDlq: a('InvocationsDeadLetterQueue', 'Arn'),
    schedulesDlq: a('SchedulesDeadLetterQueue', 'Arn'),
    secret: a('TirCredentialsSecret'),
    /** A webhook secret under the default notifySecretPrefix (provisioner/notify/), with the suffix Secrets Manager adds. */
    notifySecret: arn('secretsmanager', 'secret:provisioner/notify/team-a-AbC123'),
    /** A topic of the default notifySnsTopics (provisioner-notify-* of the account and region). */
    notifyTopic: arn('sns', 'provisioner-notify-ops'),
    notificationsDlq: a('NotificationsDeadLetterQueue', 'Arn'),
    offerings: a('OfferingsTable', 'Arn'),
    cluster: arn('sagemaker', 'cluster/abcdef123456'),
    trainingPlan: arn('sagemaker', 'training-plan/p5-week-1'),
    eksCluster: arn('eks', 'cluster/training'),
    accessEntry: arn('eks', `access-entry/training/role/${ACCOUNT}/HyperPodExecutionRole/0ec5a9b2-7a1e-4c3b-9a5f-2d1c0b9e8f7a`),
    executionRole: `arn:${PARTITION}:iam::${ACCOUNT}:role/HyperPodExecutionRole`,
    lifecycleScript: `arn:${PARTITION}:s3:::sagemaker-demo-lifecycle/hyperpod/on_create.sh`,
    hyperpodServiceLinkedRole: `arn:${PARTITION}:iam::${ACCOUNT}:role/aws-service-role/hyperpod.sagemaker.amazonaws.com/AWSServiceRoleForSageMakerHyperPod`,
    functionArn: (key: string) => arn('lambda', `function:${FUNCTION_PREFIX}${key}`),
    logStream: (key: string) =>
      arn('logs', `log-group:/aws/lambda/${FUNCTION_PREFIX}${key}:log-stream:2026/01/01/[$LATEST]0123456789abcdef`),
  };
};
type Resources = ReturnType<typeof resourcesOf>;

// ------------------------------------------------------------------------------------------------ the calls, from the code

const ownTags = { [`aws:RequestTag/${DEPLOYMENT_TAG}`]: DEPLOYMENT, [`aws:RequestTag/${REQUEST_ID_TAG}`]: 'req-1' };
const ownTagKeys = [DEPLOYMENT_TAG, REQUEST_ID_TAG, 'team'];
const ownCluster = { [`aws:ResourceTag/${DEPLOYMENT_TAG}`]: DEPLOYMENT, [`aws:ResourceTag/${REQUEST_ID_TAG}`]: 'req-1' };

/** Every function: its own log stream and X-Ray (which has no resource-level permissions). */
const baseline = (r: Resources, key: string): Call[] => [
  { action: 'logs:CreateLogStream', resource: r.logStream(key), why: 'the Lambda runtime opens its log stream' },
  { action: 'logs:PutLogEvents', resource: r.logStream(key), why: 'the Lambda runtime writes its logs' },
  { action: 'xray:PutTraceSegments', resource: '*', why: 'active tracing' },
  { action: 'xray:PutTelemetryRecords', resource: '*', why: 'active tracing' },
];

/** core/offerings.ts (capacity failover): the shared memory of short offerings, through adapters/offerings-dynamo.ts. */
const offeringsMemory = (r: Resources): Call[] => [
  { action: 'dynamodb:GetItem', resource: r.offerings, why: 'offerings: is this offering known short' },
  { action: 'dynamodb:PutItem', resource: r.offerings, why: 'offerings: remember a short offering' },
  { action: 'dynamodb:UpdateItem', resource: r.offerings, why: 'offerings: take the probe lease (conditional)' },
  { action: 'dynamodb:DeleteItem', resource: r.offerings, why: 'offerings: forget an offering that served' },
];

/** Reads of a request that waits (functions/core/offers.ts, az-hints.ts, pricing.ts): nothing is bought or changed. */
const whileWaiting = (r: Resources): Call[] => [
  {
    action: 'sagemaker:SearchTrainingPlanOfferings',
    resource: '*',
    context: { 'aws:RequestedRegion': REGION },
    why: 'core/offers.ts: training-plan offerings suggested to a long wait (no resource-level permission)',
  },
  { action: 'ec2:DescribeSubnets', resource: '*', why: "core/az-hints.ts: the zones of the alternatives' subnets" },
  ...prices(r),
];

/** The Price List API (a signed call, no SDK client: adapters/pricing-aws.ts) and the price cache's reads and writes. */
const prices = (_r: Resources): Call[] => [
  { action: 'pricing:GetProducts', resource: '*', why: 'adapters/pricing-aws.ts: on-demand prices (no resource-level permission)' },
];

const readWriteRecord = (r: Resources): Call[] => [
  { action: 'dynamodb:GetItem', resource: r.table, why: 'store.get / require (consistent read)' },
  { action: 'dynamodb:UpdateItem', resource: r.table, why: 'store.update / transition (conditional)' },
];

const scheduleOneTime = (r: Resources): Call[] => [
  { action: 'scheduler:CreateSchedule', resource: r.schedule, why: 'adapters/scheduler.ts: a one-time schedule (startAt, deleteAfter)' },
  {
    action: 'iam:PassRole',
    resource: r.schedulerRole,
    context: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
    why: 'the schedule runs as SchedulerRole',
  },
];

/** core/submit.ts submitRequest (and releaseScheduled): get, conditional put, start, record the execution, schedule. */
const submit = (r: Resources): Call[] => [
  { action: 'dynamodb:PutItem', resource: r.table, why: 'store.create: the conditional put of a new request' },
  ...readWriteRecord(r),
  { action: 'states:StartExecution', resource: r.provisionMachine, why: 'starter.startProvisioning' },
  ...scheduleOneTime(r),
  { action: 'lambda:InvokeFunction', resource: r.functionArn('plan'), why: 'adapters/lambda-planner.ts: the pre-flight plan' },
];

const publishRejection = (r: Resources): Call => ({
  action: 'events:PutEvents',
  resource: r.bus,
  why: 'core/intake.ts: "Cluster Request Rejected" for a request that can never succeed',
});

const onFailureDestination = (r: Resources): Call => ({
  action: 'sqs:SendMessage',
  resource: r.invocationsDlq,
  why: 'Lambda sends a failed asynchronous invocation to its on-failure destination with the function role',
});

/** adapters/hyperpod.ts findByName: DescribeCluster, then ListTags for the provisioner tags (any cluster of the name). */
const findByName = (r: Resources): Call[] => [
  { action: 'sagemaker:DescribeCluster', resource: r.cluster, why: 'describe / findByName' },
  { action: 'sagemaker:ListTags', resource: r.cluster, why: 'findByName reads the owner tags' },
];

/** provider.delete of this deployment's cluster, and what HyperPod removes of an EKS-orchestrated one. */
const deleteOwnCluster = (r: Resources): Call[] => [
  { action: 'sagemaker:DeleteCluster', resource: r.cluster, context: ownCluster, why: "provider.delete of this deployment's cluster" },
  { action: 'eks:DescribeAccessEntry', resource: r.accessEntry, why: 'HyperPod removes the access entries of an EKS cluster it deletes' },
  { action: 'eks:DeleteAccessEntry', resource: r.accessEntry, why: 'HyperPod removes the access entries of an EKS cluster it deletes' },
];

/** A call on an EKS cluster or its access entries: reachable only on the allowedEksClusters. */
const isEksCall = (call: Call): boolean => call.action.startsWith('eks:');

const readTirSecret = (r: Resources): Call => ({
  action: 'secretsmanager:GetSecretValue',
  resource: r.secret,
  why: 'adapters/tir-credentials.ts (Powertools Parameters)',
});

/** core/sweep.ts (and its dry run): the records, and this deployment's clusters of each allowed region. */
const listOwned = (r: Resources): Call[] => [
  { action: 'dynamodb:Query', resource: r.index, why: 'store.list: every record' },
  { action: 'dynamodb:GetItem', resource: r.table, why: "store.get: the record a cluster's tag names" },
  {
    action: 'sagemaker:ListClusters',
    resource: '*',
    context: { 'aws:RequestedRegion': REGION },
    why: "provider.listOwned: a region's clusters (no resource-level permission: the region is a condition)",
  },
  { action: 'sagemaker:ListTags', resource: r.cluster, why: "provider.listOwned: which carry this deployment's tag" },
  readTirSecret(r),
];

const reconcile = (r: Resources): Call[] => [
  ...readWriteRecord(r),
  { action: 'dynamodb:Query', resource: r.index, why: 'store.list over an index (records by status)' },
  { action: 'dynamodb:Scan', resource: r.table, why: 'store.sweep: one bounded page of the records themselves per run' },
  { action: 'states:StartExecution', resource: r.provisionMachine, why: 'resumes a provisioning' },
  { action: 'states:StartExecution', resource: r.deleteMachine, why: 'resumes a deletion' },
  { action: 'states:DescribeExecution', resource: r.provisionExecution, why: 'starter.isRunning' },
  { action: 'states:DescribeExecution', resource: r.deleteExecution, why: 'starter.isRunning' },
  ...scheduleOneTime(r),
  { action: 'events:PutEvents', resource: r.bus, why: 'core/reconcile.ts announces an outcome a dead workflow recorded' },
  {
    action: 'sagemaker:ListClusters',
    resource: '*',
    context: { 'aws:RequestedRegion': REGION },
    why: 'core/reconcile.ts catchLostEvents: one listing per region',
  },
  { action: 'states:SendTaskSuccess', resource: '*', why: 'core/reconcile.ts wakes a workflow whose event was lost' },
];

/** core/events.ts announceWaiting: the task that records a wait (or a new wait reason) announces it. */
const publishWaiting = (r: Resources): Call => ({
  action: 'events:PutEvents',
  resource: r.bus,
  why: 'core/workflow/capacity-wait.ts puts "Cluster Waiting For Capacity" when the record starts or changes its wait',
});

/** What each function's code calls, beyond its logs and traces. */
const CALLS: Record<string, (r: Resources) => Call[]> = {
  createCluster: (r) => [
    ...readWriteRecord(r),
    ...offeringsMemory(r),
    { action: 'states:SendTaskSuccess', resource: '*', why: 'core/workflow/ wakes the request first in an offering queue' },
    {
      action: 'sagemaker:CreateCluster',
      resource: r.cluster,
      context: { ...ownTags, 'aws:TagKeys': ownTagKeys },
      why: 'provider.create, with the provisioner tags',
    },
    {
      action: 'sagemaker:AddTags',
      resource: r.cluster,
      context: { ...ownTags, 'aws:TagKeys': ownTagKeys, 'sagemaker:TaggingAction': 'CreateCluster' },
      why: 'the tags of CreateCluster',
    },
    {
      action: 'sagemaker:CreateCluster',
      resource: r.trainingPlan,
      context: { ...ownTags, 'aws:TagKeys': ownTagKeys },
      why: 'an instance group with a TrainingPlanArn',
    },
    { action: 'sagemaker:DescribeTrainingPlan', resource: r.trainingPlan, why: 'an instance group with a TrainingPlanArn' },
    {
      action: 'iam:PassRole',
      resource: r.executionRole,
      context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
      why: 'the instance groups name an allowed ExecutionRole',
    },
    ...findByName(r),
    ...deleteOwnCluster(r),
    { action: 'eks:DescribeCluster', resource: r.eksCluster, why: 'Orchestrator.Eks: HyperPod reads the EKS cluster' },
    { action: 'eks:CreateAccessEntry', resource: r.eksCluster, why: 'Orchestrator.Eks: access entries for the SLR and roles' },
    { action: 'eks:AssociateAccessPolicy', resource: r.accessEntry, why: 'Orchestrator.Eks: the access entries get their policy' },
    {
      action: 'iam:CreateServiceLinkedRole',
      resource: r.hyperpodServiceLinkedRole,
      context: { 'iam:AWSServiceName': 'hyperpod.sagemaker.amazonaws.com' },
      why: "the account's first EKS-orchestrated cluster creates HyperPod's service-linked role",
    },
    readTirSecret(r),
    publishWaiting(r),
    ...whileWaiting(r),
  ],
  pollCluster: (r) => [
    ...readWriteRecord(r),
    ...offeringsMemory(r),
    { action: 'sagemaker:DescribeCluster', resource: r.cluster, why: 'provider.describe: the status poll' },
    ...deleteOwnCluster(r),
    readTirSecret(r),
    publishWaiting(r),
    ...whileWaiting(r),
  ],
  deleteCluster: (r) => [...readWriteRecord(r), ...findByName(r), ...deleteOwnCluster(r), readTirSecret(r)],
  recordOutcome: (r) => [
    ...readWriteRecord(r),
    ...offeringsMemory(r),
    ...scheduleOneTime(r),
    { action: 'events:PutEvents', resource: r.bus, why: 'core/workflow/outcome.ts recordOutcome announces what it records' },
    { action: 'states:SendTaskSuccess', resource: '*', why: 'core/workflow/ wakes the request first in an offering queue' },
  ],
  parkExecution: (r) => [
    ...readWriteRecord(r),
    { action: 'states:SendTaskSuccess', resource: '*', why: 'core/wake.ts park returns its own token when a wake came first' },
  ],
  clusterEvent: (r) => [
    ...readWriteRecord(r),
    { action: 'dynamodb:Query', resource: r.index, why: 'core/wake.ts findCreating reads the records being created' },
    { action: 'states:SendTaskSuccess', resource: '*', why: 'core/wake.ts wakeRequest returns the parked token' },
    onFailureDestination(r),
  ],
  httpSubmit: (r) => submit(r),
  httpGet: (r) => [{ action: 'dynamodb:GetItem', resource: r.table, why: 'store.get' }],
  httpList: (r) => [{ action: 'dynamodb:Query', resource: r.index, why: 'store.list over an index' }],
  httpDelete: (r) => [
    ...readWriteRecord(r),
    { action: 'states:StartExecution', resource: r.deleteMachine, why: 'starter.startDeletion' },
    { action: 'states:StopExecution', resource: r.provisionExecution, why: 'a DELETE cancels a provisioning' },
  ],
  sqsSubmit: (r) => [
    ...submit(r),
    publishRejection(r),
    { action: 'sqs:ReceiveMessage', resource: r.requestsQueue, why: 'the event source mapping polls with the function role' },
    { action: 'sqs:DeleteMessage', resource: r.requestsQueue, why: 'the event source mapping deletes what succeeded' },
    { action: 'sqs:GetQueueAttributes', resource: r.requestsQueue, why: 'the event source mapping reads the queue' },
  ],
  eventSubmit: (r) => [...submit(r), publishRejection(r), onFailureDestination(r)],
  scheduleTarget: (r) => [
    ...submit(r),
    { action: 'states:StartExecution', resource: r.deleteMachine, why: 'a deleteAfter firing starts the deletion' },
    publishRejection(r),
    onFailureDestination(r),
  ],
  reconcile: (r) => [...reconcile(r), onFailureDestination(r)],
  httpReconcile: (r) => reconcile(r),
  sweep: (r) => [
    ...listOwned(r),
    ...deleteOwnCluster(r),
    { action: 'events:PutEvents', resource: r.bus, why: 'core/sweep.ts reports "Orphan Cluster Found"' },
    onFailureDestination(r),
  ],
  httpOrphans: (r) => listOwned(r),
  httpOfferings: (r) => [
    { action: 'dynamodb:Scan', resource: r.offerings, why: 'adapters/offerings-reader.ts reads the memory of short offerings' },
  ],
  plan: (r) => [
    {
      action: 'servicequotas:ListServiceQuotas',
      resource: '*',
      why: 'adapters/preflight-aws.ts: the "<type> for cluster usage" quotas (no resource-level permission)',
    },
    {
      action: 'sagemaker:ListClusters',
      resource: '*',
      context: { 'aws:RequestedRegion': REGION },
      why: "the quota's current use: the region's clusters",
    },
    { action: 'sagemaker:DescribeCluster', resource: r.cluster, why: "the quota's current use: what each cluster holds" },
    { action: 'sagemaker:DescribeTrainingPlan', resource: r.trainingPlan, why: 'the training plan is Active and has room' },
    { action: 'ec2:DescribeSubnets', resource: '*', why: 'the free addresses of the subnets (no resource-level permission)' },
    { action: 'ec2:DescribeSecurityGroups', resource: '*', why: 'the self-referencing rule EFA needs (no resource-level permission)' },
    { action: 's3:GetObject', resource: r.lifecycleScript, why: 'HeadObject of the lifecycle script' },
    {
      action: 's3:ListBucket',
      resource: `arn:${PARTITION}:s3:::sagemaker-demo-lifecycle`,
      why: 'HeadObject of a missing script answers 404 (not 403) only to a caller that may list the bucket',
    },
    { action: 'iam:GetRole', resource: r.executionRole, why: 'the execution role exists and trusts SageMaker' },
    { action: 'eks:DescribeCluster', resource: r.eksCluster, why: 'the EKS cluster exists and is ACTIVE' },
    readTirSecret(r),
    ...prices(r),
    { action: 'dynamodb:GetItem', resource: r.offerings, why: 'adapters/pricing-dynamo.ts: a cached price' },
    { action: 'dynamodb:PutItem', resource: r.offerings, why: 'adapters/pricing-dynamo.ts: caches a price read from the API' },
  ],
  notify: (r) => [
    { action: 'dynamodb:GetItem', resource: r.table, why: "core/notify/delivery.ts reads the record's notify targets" },
    { action: 'secretsmanager:GetSecretValue', resource: r.notifySecret, why: 'adapters/notify-secrets.ts: the webhook signing secret' },
    { action: 'sns:Publish', resource: r.notifyTopic, why: 'adapters/notify-sns.ts: an SNS target' },
    {
      action: 'sqs:SendMessage',
      resource: r.notificationsDlq,
      why: "Lambda sends a failed notification to notify's on-failure destination",
    },
  ],
};

/** The roles of the services: EventBridge Scheduler and the two state machines. */
const SERVICE_ROLES: Record<string, { calls: (r: Resources) => Call[]; denied: (r: Resources) => Call[] }> = {
  SchedulerRole: {
    calls: (r) => [
      { action: 'lambda:InvokeFunction', resource: r.functionArn('scheduleTarget'), why: 'every schedule targets scheduleTarget' },
      { action: 'sqs:SendMessage', resource: r.schedulesDlq, why: "every schedule's DeadLetterConfig" },
    ],
    denied: (r) => [
      { action: 'lambda:InvokeFunction', resource: r.functionArn('createCluster'), why: 'a schedule invokes scheduleTarget only' },
      { action: 'sqs:SendMessage', resource: r.invocationsDlq, why: 'only its own dead-letter queue' },
    ],
  },
  ProvisionClusterStateMachineRole: {
    calls: (r) => [
      ...['createCluster', 'pollCluster', 'recordOutcome', 'parkExecution'].map((key) => ({
        action: 'lambda:InvokeFunction',
        resource: r.functionArn(key),
        why: 'a task of the provision machine',
      })),
    ],
    denied: (r) => [
      { action: 'events:PutEvents', resource: r.bus, why: 'recordOutcome puts the completion events, not the machine' },
      { action: 'lambda:InvokeFunction', resource: r.functionArn('deleteCluster'), why: 'a task of the other machine' },
      { action: 'lambda:InvokeFunction', resource: r.functionArn('httpSubmit'), why: 'not a task' },
    ],
  },
  DeleteClusterStateMachineRole: {
    calls: (r) => [
      ...['deleteCluster', 'pollCluster', 'recordOutcome'].map((key) => ({
        action: 'lambda:InvokeFunction',
        resource: r.functionArn(key),
        why: 'a task of the delete machine',
      })),
    ],
    denied: (r) => [{ action: 'lambda:InvokeFunction', resource: r.functionArn('createCluster'), why: 'a task of the other machine' }],
  },
};

/** What no function may do, whatever it does otherwise. */
const FORBIDDEN = (r: Resources): Call[] => [
  {
    action: 'sagemaker:CreateTrainingPlan',
    resource: r.trainingPlan,
    why: 'buying reserved capacity: offerings are suggested, never bought',
  },
  {
    action: 'iam:PassRole',
    resource: `arn:${PARTITION}:iam::${ACCOUNT}:role/Administrator`,
    context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
    why: 'a role outside allowedExecutionRoles',
  },
  {
    action: 'iam:PassRole',
    resource: r.executionRole,
    context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
    why: 'an allowed role, to another service',
  },
  {
    action: 'sagemaker:DeleteCluster',
    resource: r.cluster,
    context: { [`aws:ResourceTag/${REQUEST_ID_TAG}`]: 'req-1' },
    why: 'a cluster without the provisioner:deployment tag',
  },
  {
    action: 'sagemaker:DeleteCluster',
    resource: r.cluster,
    context: { [`aws:ResourceTag/${DEPLOYMENT_TAG}`]: 'gpu-cluster-provisioner-prod', [`aws:ResourceTag/${REQUEST_ID_TAG}`]: 'req-1' },
    why: "another deployment's cluster",
  },
  {
    action: 'sagemaker:CreateCluster',
    resource: r.cluster,
    context: { [`aws:RequestTag/${REQUEST_ID_TAG}`]: 'req-1', 'aws:TagKeys': [REQUEST_ID_TAG] },
    why: 'a cluster without the deployment tag (the DeleteCluster grant could never delete it)',
  },
  {
    action: 'sagemaker:CreateCluster',
    resource: r.cluster,
    context: { [`aws:RequestTag/${DEPLOYMENT_TAG}`]: 'gpu-cluster-provisioner-prod', 'aws:TagKeys': [DEPLOYMENT_TAG] },
    why: "a cluster tagged as another deployment's",
  },
  {
    action: 'sagemaker:AddTags',
    resource: r.cluster,
    context: { [`aws:RequestTag/${DEPLOYMENT_TAG}`]: DEPLOYMENT, 'aws:TagKeys': [DEPLOYMENT_TAG] },
    why: "tagging an existing cluster (it could make another's cluster deletable)",
  },
  { action: 'sagemaker:DeleteTags', resource: r.cluster, context: { 'aws:TagKeys': [DEPLOYMENT_TAG] }, why: 'untagging' },
  { action: 'sagemaker:UpdateCluster', resource: r.cluster, context: ownCluster, why: 'no code updates a cluster' },
  {
    action: 'iam:CreateServiceLinkedRole',
    resource: `arn:${PARTITION}:iam::${ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
    context: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' },
    why: "another service's service-linked role",
  },
  { action: 'eks:DeleteCluster', resource: r.eksCluster, why: 'the EKS cluster is not ours to change' },
  {
    action: 's3:GetObject',
    resource: `arn:${PARTITION}:s3:::payroll-exports/2026/11.csv`,
    why: 'an object outside allowedLifecycleBuckets',
  },
  { action: 's3:PutObject', resource: r.lifecycleScript, why: 'the plan reads lifecycle scripts, never writes them' },
  { action: 's3:ListBucket', resource: `arn:${PARTITION}:s3:::payroll-exports`, why: 'a bucket outside allowedLifecycleBuckets' },
  { action: 'iam:GetRole', resource: `arn:${PARTITION}:iam::${ACCOUNT}:role/Administrator`, why: 'a role outside allowedExecutionRoles' },
  { action: 'ec2:CreateSecurityGroup', resource: '*', why: 'the plan reads the network, never changes it' },
  { action: 'servicequotas:RequestServiceQuotaIncrease', resource: '*', why: 'the plan says to ask for a quota; it never asks' },
  { action: 'dynamodb:DeleteItem', resource: r.table, why: 'records are never deleted' },
  { action: 'states:StartExecution', resource: arn('states', 'stateMachine:someone-elses'), why: "another stack's machine" },
  { action: 'scheduler:DeleteSchedule', resource: r.schedule, why: 'schedules delete themselves after firing' },
  {
    action: 'secretsmanager:PutSecretValue',
    resource: r.secret,
    why: 'the secret is written by an operator, never by a function',
  },
  {
    action: 'secretsmanager:GetSecretValue',
    resource: arn('secretsmanager', 'secret:prod/database-AbC123'),
    why: 'a secret outside notifySecretPrefix (a request names only the secret; the prefix is what keeps others out)',
  },
  {
    action: 'secretsmanager:GetSecretValue',
    resource: arn('secretsmanager', 'secret:provisioner/notifyx-AbC123'),
    why: 'a name that only looks like the prefix',
  },
  { action: 'sns:Publish', resource: arn('sns', 'billing-alerts'), why: 'a topic outside notifySnsTopics' },
  { action: 'sns:Publish', resource: `arn:${PARTITION}:sns:${REGION}:999999999999:provisioner-notify-ops`, why: "another account's topic" },
  {
    action: 'secretsmanager:PutSecretValue',
    resource: r.notifySecret,
    why: 'webhook secrets are written by their owners, never by a function',
  },
];

/** The same call in a region outside allowedRegions (its ARN, and the requested region when the call names one). */
const elsewhere = (call: Call): Call => ({
  ...call,
  resource: call.resource.replace(`:${REGION}:`, `:${OUTSIDE_REGION}:`),
  ...(call.context?.['aws:RequestedRegion'] ? { context: { ...call.context, 'aws:RequestedRegion': OUTSIDE_REGION } } : {}),
  why: `${call.why}, in ${OUTSIDE_REGION} (outside allowedRegions)`,
});

const keyOf = (call: Call) => JSON.stringify([call.action, call.resource, call.context ?? {}]);

// ------------------------------------------------------------------------------------------------ the SDK calls in the code

/** `@aws-sdk/client-<name>` -> IAM service prefix. */
const SDK_CLIENTS: Record<string, string> = {
  dynamodb: 'dynamodb',
  sagemaker: 'sagemaker',
  scheduler: 'scheduler',
  sfn: 'states',
  eventbridge: 'events',
  sqs: 'sqs',
  'secrets-manager': 'secretsmanager',
  sns: 'sns',
  lambda: 'lambda',
  'service-quotas': 'servicequotas',
  ec2: 'ec2',
  s3: 's3',
  iam: 'iam',
  eks: 'eks',
};

/** Commands whose IAM action is not named after them. */
const ACTION_OF_COMMAND: Record<string, string> = {
  'lambda:Invoke': 'lambda:InvokeFunction',
  's3:HeadObject': 's3:GetObject',
};

/** SDK commands only the local stack sends (it makes its tables); the test proves no function bundle carries them. */
const LOCAL_ONLY: Record<string, string> = {
  'dynamodb:CreateTable': 'the local stack creates its tables (ensure*Table); CloudFormation makes the deployed ones',
  'dynamodb:DescribeTable': 'the local stack waits for its tables to be ACTIVE',
};

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );

/** Every `XCommand` imported from an AWS SDK client under functions/, as the IAM action it needs. */
const sdkActionsInCode = (): Map<string, string[]> => {
  const found = new Map<string, string[]>();
  for (const file of sourceFiles(join(REPO_ROOT, 'functions'))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z-]+)'/g)) {
      const prefix = SDK_CLIENTS[match[2]!];
      if (!prefix) throw new Error(`${relative(REPO_ROOT, file)} imports @aws-sdk/client-${match[2]}: map it in SDK_CLIENTS`);
      // `type X`, and `X as Y` (an alias): the imported name is X.
      const names = match[1]!.split(',').map((n) => n.replace(/^\s*type\s+/, '').replace(/\s+as\s+\w+\s*$/, ''));
      for (const name of names.map((n) => n.trim())) {
        if (!name.endsWith('Command')) continue;
        const command = `${prefix}:${name.slice(0, -'Command'.length)}`;
        const action = ACTION_OF_COMMAND[command] ?? command;
        found.set(action, [...(found.get(action) ?? []), relative(REPO_ROOT, file)]);
      }
    }
  }
  return found;
};

// ================================================================================================ the simulation

describe('IAM of the packaged template, simulated', () => {
  let packaged: PackagedService;
  let template: CfnTemplate;
  let r: Resources;
  /** function key -> its role's logical id */
  const roleOfFunction = new Map<string, string>();
  const figures = { allowed: 0, denied: 0 };

  const principal = (roleId: string) => attributeOf(template, roleId, 'Arn');
  const callsOf = (key: string): Call[] => [...baseline(r, key), ...CALLS[key]!(r)];
  const decisionsFor = async (roleId: string, calls: Call[]) => {
    const policies = concreteRolePolicies(template, roleId);
    return Promise.all(calls.map(async (call) => ({ call, decision: await decide(principal(roleId), policies, call) })));
  };
  const expectAllowed = async (roleId: string, calls: Call[]) => {
    const refused = (await decisionsFor(roleId, calls)).filter(({ decision }) => decision !== 'Allowed');
    expect(
      refused.map(
        ({ call, decision }) => `${call.action} on ${call.resource} ${JSON.stringify(call.context ?? {})}: ${decision} (${call.why})`,
      ),
      `${roleId} must be allowed`,
    ).toEqual([]);
    figures.allowed += calls.length;
  };
  const expectDenied = async (roleId: string, calls: Call[]) => {
    const allowed = (await decisionsFor(roleId, calls)).filter(({ decision }) => decision === 'Allowed');
    expect(
      allowed.map(({ call }) => `${call.action} on ${call.resource} ${JSON.stringify(call.context ?? {})} (${call.why})`),
      `${roleId} must be denied`,
    ).toEqual([]);
    figures.denied += calls.length;
  };

  beforeAll(async () => {
    packaged = await sharedPackage();
    template = packaged.template;
    r = resourcesOf(template);
    for (const [, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      const name = fn.Properties?.FunctionName as string;
      const roleId = (fn.Properties?.Role as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0];
      if (name.startsWith(FUNCTION_PREFIX) && roleId) roleOfFunction.set(name.slice(FUNCTION_PREFIX.length), roleId);
    }
  }, 240_000);

  afterAll(async () => {
    console.info(`IAM simulation: ${figures.allowed} calls allowed as required, ${figures.denied} calls denied as required`);
    await packaged?.cleanup();
  });

  it('has the calls of every function of the template, and of no other', () => {
    expect([...roleOfFunction.keys()].sort(), 'functions without a CALLS entry, or CALLS entries without a function').toEqual(
      Object.keys(CALLS).sort(),
    );
  });

  it('claims every AWS SDK command the code sends for some function', async () => {
    const claimed = new Set(Object.keys(CALLS).flatMap((key) => CALLS[key]!(r).map((call) => call.action)));
    const found = sdkActionsInCode();
    expect(found.size).toBeGreaterThan(5);
    const unclaimed = [...found]
      .filter(([action]) => !claimed.has(action) && !(action in LOCAL_ONLY))
      .map(([action, files]) => `${action} (${files.join(', ')})`);
    expect(unclaimed, 'SDK calls in the code that no function lists in CALLS').toEqual([]);
    // The local-only commands are in no function's bundle (keepNames keeps the command class names).
    for (const key of roleOfFunction.keys()) {
      const code = [...(await readZip(join(packaged.dir, `${key}.zip`))).values()].map((entry) => entry.toString('utf8')).join('\n');
      for (const action of Object.keys(LOCAL_ONLY)) expect(code, `${key} bundle`).not.toContain(`${action.split(':')[1]}Command`);
    }
  });

  it('lets the plan function read only: it cannot create, tag, delete or start anything, nor pass a role', async () => {
    await expectDenied(roleOfFunction.get('plan')!, [
      {
        action: 'sagemaker:CreateCluster',
        resource: r.cluster,
        context: { ...ownTags, 'aws:TagKeys': ownTagKeys },
        why: 'the plan never creates a cluster, even one this deployment may create',
      },
      { action: 'sagemaker:DeleteCluster', resource: r.cluster, context: ownCluster, why: 'the plan never deletes' },
      {
        action: 'iam:PassRole',
        resource: r.executionRole,
        context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
        why: 'reading a role is not passing it',
      },
      { action: 'states:StartExecution', resource: r.provisionMachine, why: 'the plan starts no workflow' },
      { action: 'dynamodb:PutItem', resource: r.table, why: 'the plan records nothing' },
      { action: 'lambda:InvokeFunction', resource: r.functionArn('createCluster'), why: 'the plan invokes nothing' },
    ]);
  });

  describe.each(Object.keys(CALLS))('%s', (key) => {
    it('is allowed every call its code makes (its EKS calls only on the allowedEksClusters, none by default)', async () => {
      await expectAllowed(
        roleOfFunction.get(key)!,
        callsOf(key).filter((call) => !isEksCall(call)),
      );
      // The default packaging lists no EKS cluster: no access entry may be made, read or removed on any, nor a cluster
      // read (config/allow-lists.js names a cluster no EKS name can match).
      await expectDenied(roleOfFunction.get(key)!, callsOf(key).filter(isEksCall));
      await expectDenied(
        roleOfFunction.get(key)!,
        callsOf(key)
          .filter(isEksCall)
          .map((call) => ({
            ...call,
            resource: call.resource.replace('/training', '/someone-elses'),
            why: `${call.why}, on another EKS cluster`,
          })),
      );
    });

    it('is granted nothing its code does not call', () => {
      const granted = new Set(roleStatements(template, roleOfFunction.get(key)!).flatMap((s) => asArray(s.Action)));
      const called = new Set(callsOf(key).map((call) => call.action));
      expect([...granted].filter((action) => !called.has(action)).sort()).toEqual([]);
    });

    it('is denied every call of the other functions that it does not make itself', async () => {
      const own = new Set(callsOf(key).map(keyOf));
      const others = new Map<string, Call>();
      for (const other of Object.keys(CALLS)) {
        if (other === key) continue;
        for (const call of callsOf(other)) if (!own.has(keyOf(call))) others.set(keyOf(call), { ...call, why: `${other}: ${call.why}` });
      }
      expect(others.size).toBeGreaterThan(0);
      await expectDenied(roleOfFunction.get(key)!, [...others.values()]);
    });

    it('is denied its SageMaker and EKS calls in a region outside allowedRegions', async () => {
      const regional = CALLS[key]!(r).filter((call) => /^(sagemaker|eks):/.test(call.action));
      await expectDenied(roleOfFunction.get(key)!, regional.map(elsewhere));
    });

    it('is denied what no function may do', async () => {
      await expectDenied(roleOfFunction.get(key)!, FORBIDDEN(r));
    });
  });

  it("lets only the deployment's roles put the provisioner's own source on its bus (the bus policy)", async () => {
    const statement = template.Resources.ProvisionerEventBusPolicy?.Properties?.Statement;
    expect(statement, 'the bus has a resource policy').toBeDefined();
    const busPolicy = { name: 'bus', policy: resolveIntrinsics(template, { Version: '2012-10-17', Statement: [statement] }) };
    // aws:PrincipalArn is what IAM sets from the caller (the role, for any session of it); the simulator needs it given.
    const put = (source: string, caller: string): Call => ({
      action: 'events:PutEvents',
      resource: r.bus,
      context: { 'events:source': [source], 'events:detail-type': ['Cluster Ready'], 'aws:PrincipalArn': caller },
      why: `PutEvents with source ${source}`,
    });
    // Every role granted PutEvents on the bus may still put the provisioner's own events.
    const putters = [...new Set(roleOfFunction.values())].filter((roleId) =>
      roleStatements(template, roleId).some((st) => asArray(st.Action).includes('events:PutEvents')),
    );
    expect(putters.length).toBeGreaterThan(0);
    for (const roleId of putters) {
      const decision = await decide(
        principal(roleId),
        concreteRolePolicies(template, roleId),
        put(EVENT_SOURCE, principal(roleId)),
        busPolicy.policy,
      );
      expect({ roleId, decision }).toEqual({ roleId, decision: 'Allowed' });
    }
    // Anyone else of the account, however broad their own grant, may not: a forged "Cluster Ready" is refused.
    const stranger = `arn:${PARTITION}:iam::${ACCOUNT}:role/SomeTeamsRole`;
    const broad = [
      { name: 'broad', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'events:*', Resource: '*' }] } },
    ];
    expect(await decide(stranger, broad, put(EVENT_SOURCE, stranger), busPolicy.policy)).toBe('ExplicitlyDenied');
    // Their own source (a "Provision Cluster Requested" of theirs) is theirs to put.
    expect(await decide(stranger, broad, put('team-a.pipeline', stranger), busPolicy.policy)).toBe('Allowed');
    figures.allowed += putters.length + 1;
    figures.denied += 1;
  });

  describe.each(Object.keys(SERVICE_ROLES))('%s', (roleId) => {
    it('is allowed what the service does with it, and denied the rest', async () => {
      const { calls, denied } = SERVICE_ROLES[roleId]!;
      await expectAllowed(roleId, calls(r));
      await expectDenied(roleId, [...denied(r), ...FORBIDDEN(r)]);
      const granted = new Set(
        roleStatements(template, roleId)
          .filter((s) => asArray(s.Resource as string | string[]).every((resource) => resource !== '*'))
          .flatMap((s) => asArray(s.Action)),
      );
      expect([...granted].filter((action) => !calls(r).some((call) => call.action === action))).toEqual([]);
    });
  });
});
