/**
 * A SageMaker HyperPod simulator speaking AWS JSON 1.1 on loopback (`POST /`, `X-Amz-Target: SageMaker.<Operation>`).
 * Point the real SDK at it with `AWS_ENDPOINT_URL_SAGEMAKER=<endpoint>`.
 *
 * Operations: CreateCluster, DescribeCluster, DeleteCluster, ListClusters, ListTags, DescribeTrainingPlan (from the
 * `trainingPlans` option, read-only). It requires a SigV4
 * `Authorization` header (the signature itself is not checked) and validates CreateCluster like the service (an
 * independent subset of the API model's constraints; every other CreateClusterRequest member is accepted as is).
 *
 * The capacity model, as HyperPod reports it (CreateCluster, DescribeCluster and ClusterInstanceGroupSpecification in
 * the SageMaker API reference, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateCluster.html):
 *  - Regions. Each call's region is the one in the SigV4 credential scope
 *    (`Credential=AKID/20260101/us-west-2/sagemaker/aws4_request`), else the `region` option. Clusters, ARNs, quota
 *    and capacity are per region: the same name in two regions is two clusters; the request log records the region.
 *  - Quota is checked at CreateCluster. Each instance type has an account-level limit "<type> for cluster usage"
 *    (`quotas` / `regionQuotas` / `setQuota`, default `defaultQuota`). Usage = the instances the account's live
 *    clusters of that region hold or are still being given (Creating / InService, and what Deleting clusters still
 *    hold; RollingBack / Failed / gone hold none). usage + delta > limit answers 400 ResourceLimitExceeded with AWS's
 *    message. A capacity shortage never answers ResourceLimitExceeded.
 *  - Capacity is taken when the cluster would come up. CreateCluster is accepted and the cluster is `Creating`; at
 *    `readyAfterMs` every group takes its instances from the free capacity of its region and type (`capacity` /
 *    `regionCapacity` / `setCapacity`, default `defaultCapacity`), all groups or none. A group needs its minimum:
 *    `MinInstanceCount` when given, else 0 in `NodeProvisioningMode: "Continuous"`, else its whole `InstanceCount`;
 *    it takes min(free, InstanceCount). When some group cannot get its minimum the cluster takes nothing, is
 *    `RollingBack` for `rollbackMs` and then `Failed`, with EC2's insufficient-capacity wording in `FailureMessage`.
 *    A group below its target keeps taking capacity as it frees up (reported `Creating` while below target, unless it
 *    has reached its `MinInstanceCount`). Flexible groups (`InstanceRequirements.InstanceTypes`) come up on the first
 *    type, in order, with room for their minimum and top up from the types in order; DescribeCluster reports them with
 *    `InstanceRequirements` and `InstanceTypeDetails`.
 *  - A cluster (Failed ones too) keeps its name until DeleteCluster and `deleteAfterMs` have passed (ResourceInUse
 *    until then); capacity is released when the cluster is gone, rolled back, or failed through `failCluster`.
 *  - `nodesLagMs` additionally holds reported CurrentCount below what the groups hold for that long after they come up.
 *
 * Time is applied lazily: every request and control call first settles, in time order, what the clock says has
 * happened (decisions at readyAfterMs, deletions finishing, top-ups), so there are no timers. Faults are injected on
 * demand.
 *
 * With `stateFile`, the clusters outlive the process like a real provider's: see the option.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  applyConnectionFault,
  FaultInjector,
  readBody,
  sendJson,
  sleep,
  startServer,
  StateFile,
  StateReader,
  type Faults,
  type InjectedError,
  type LoggedRequest,
  type RunningServer,
} from './common';
import { HYPERPOD_INSTANCE_TYPES as INSTANCE_TYPE_LIST } from '../../functions/core/hyperpod-instance-types';

export type SageMakerOperation =
  | 'CreateCluster'
  | 'DescribeCluster'
  | 'DeleteCluster'
  | 'ListClusters'
  | 'ListTags'
  | 'DescribeTrainingPlan';
const OPERATIONS: readonly string[] = [
  'CreateCluster',
  'DescribeCluster',
  'DeleteCluster',
  'ListClusters',
  'ListTags',
  'DescribeTrainingPlan',
];

/** A training plan DescribeTrainingPlan answers (read-only: the simulator does not reserve its capacity). */
export interface SimTrainingPlan {
  name: string;
  region: string;
  status: string;
  instanceType: string;
  totalInstances: number;
  availableInstances: number;
}

export interface SageMakerSimulatorOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** The region of a call whose credential scope names none. Default us-east-1. */
  region?: string;
  /** Used in ARNs. Default 123456789012. */
  accountId?: string;
  /** Creating -> InService (or RollingBack, when capacity is short) after this long. Default 1000 ms. */
  readyAfterMs?: number;
  /** The creation time of one cluster, by name (default: `readyAfterMs` for every cluster). */
  readyAfterMsOf?: (clusterName: string) => number;
  /** Deleting -> gone (and capacity released) after this long. Default 500 ms. */
  deleteAfterMs?: number;
  /** RollingBack -> Failed after this long. Default 100 ms. */
  rollbackMs?: number;
  /** Told each time a cluster rolls back for capacity (the instance type it was short of, and the region). */
  onShortage?: (shortOf: { instanceType: string; region: string; clusterName: string }) => void;
  /**
   * Reported CurrentCount stays below what the groups hold for this long after they come up (the cluster is already
   * InService). Default 0.
   */
  nodesLagMs?: number;
  /** Nodes per instance type, in every region (a region's own `regionCapacity` wins). Types not listed get `defaultCapacity`. */
  capacity?: Record<string, number>;
  /** Nodes per instance type of one region: `{ 'us-west-2': { 'ml.p5.48xlarge': 4 } }`. */
  regionCapacity?: Record<string, Record<string, number>>;
  /** Default 64 nodes per instance type and region. */
  defaultCapacity?: number;
  /** The account-level "<type> for cluster usage" limit per instance type, in every region (`regionQuotas` wins). */
  quotas?: Record<string, number>;
  /** The limit per instance type of one region. */
  regionQuotas?: Record<string, Record<string, number>>;
  /** The limit of a type no option names. Default 10 000 instances. */
  defaultQuota?: number;
  /** Access key ids answered with 403 UnrecognizedClientException. */
  rejectAccessKeys?: string[];
  /** Training plans DescribeTrainingPlan answers (the pre-flight plan reads them). */
  trainingPlans?: SimTrainingPlan[];
  /** Source of randomness for the fault rates (tests pass a fixed one). */
  random?: () => number;
  /**
   * HyperPod's EventBridge events: called with the `detail` of a `SageMaker HyperPod Cluster State Change` each time a
   * cluster's status changes (watched every `stateChangeEveryMs`, default 20), as the service puts it on the default
   * bus (source `aws.sagemaker`). The local stack puts it on its bus; tests may drop, repeat or reorder them.
   */
  onStateChange?: (detail: ClusterStateChangeDetail) => void;
  stateChangeEveryMs?: number;
  /**
   * Keep the clusters in this JSON file, so that a simulator started again on it (after `close()`, a crash or a
   * `kill -9`) answers exactly as before: every cluster with its name, ARN, region, creation time, groups and what
   * they hold, tags, failure and deletion in progress; the capacity and quota values set through `setCapacity` /
   * `setQuota` (applied over the `capacity` / `quotas` options of the new start); the creation counter.
   *
   * The file is loaded at start when it exists (else it is created, with its directory); a file that cannot be read or
   * is not a state this simulator wrote fails the start with an error naming the file. After every change (a mutating
   * call, a control call, a transition the clock brought about) it is rewritten atomically (temp file in the same
   * directory, fsync, rename), synchronously and before the call answers. Transitions are computed from the stored
   * times with the timing options of the running simulator, so a cluster Creating at the restart comes up
   * `readyAfterMs` after its original creation, and one deleting is gone `deleteAfterMs` after its DeleteCluster.
   * The request log and injected faults are not kept. Two simulators must not share a file.
   */
  stateFile?: string;
}

type ClusterStatus = 'Creating' | 'InService' | 'Deleting' | 'Failed' | 'RollingBack';

interface InstanceGroupSpec {
  InstanceGroupName: string;
  InstanceCount: number;
  MinInstanceCount?: number;
  InstanceType?: string;
  InstanceRequirements?: { InstanceTypes: string[] };
  LifeCycleConfig: { SourceS3Uri: string; OnCreate: string };
  ExecutionRole: string;
  ThreadsPerCore?: number;
  [other: string]: unknown;
}

interface Tag {
  Key: string;
  Value: string;
}

/** What one instance group holds over its life. */
interface GroupState {
  spec: InstanceGroupSpec;
  /** The types it may run on, in order of preference (one for a fixed group). */
  types: string[];
  /** Instances it needs to come up. */
  min: number;
  /** The type the quota check charged for what the group does not hold yet. */
  quotaType: string;
  /** Instances held, per type. */
  held: Map<string, number>;
}

interface SimCluster {
  seq: number;
  name: string;
  arn: string;
  region: string;
  createdAt: number;
  groups: GroupState[];
  tags: Tag[];
  extra: Record<string, unknown>;
  /** What happened at readyAfterMs: came up, or rolled back for capacity at `at`. */
  outcome?: { ok: true; at: number } | { ok: false; at: number; message: string };
  /** Set by failCluster. */
  failure?: { status: 'Failed' | 'RollingBack'; message: string };
  deletingSince?: number;
}

/** A cluster the simulator holds, for tests. */
export interface SimulatedClusterSummary {
  name: string;
  arn: string;
  region: string;
  status: ClusterStatus;
  /** Instances held per type (capacity taken from the region). */
  held: Record<string, number>;
}

/** The `detail` of HyperPod's `SageMaker HyperPod Cluster State Change` event (the members this project reads). */
export interface ClusterStateChangeDetail {
  ClusterArn: string;
  ClusterName: string;
  ClusterStatus: string;
  FailureMessage?: string;
  InstanceGroups: Array<{ InstanceGroupName: string; CurrentCount: number; TargetCount: number; Status: string }>;
  /** Not in HyperPod's detail: the region the simulator's cluster is in (the event's own `region`). */
  region: string;
}

export interface SageMakerSimulator extends RunningServer {
  /** Every request received, in order, with its region (the Authorization header is never recorded). */
  readonly requests: LoggedRequest[];
  /** The `stateFile` option, when given. */
  readonly stateFile?: string;
  setFaults(faults: Faults): void;
  /** The next calls of `operation` answer these errors, in order (names like `ResourceLimitExceeded`, or `reset` / `hang`). */
  injectErrors(operation: SageMakerOperation, errors: InjectedError[]): void;
  clearFaults(): void;
  /** Nodes of a type in one region, or (without region) in every region that has no value of its own. */
  setCapacity(instanceType: string, nodes: number, region?: string): void;
  /** Free nodes of a type in a region (default: the `region` option). */
  available(instanceType: string, region?: string): number;
  /** The "<type> for cluster usage" limit in one region, or (without region) in every region that has no value of its own. */
  setQuota(instanceType: string, limit: number, region?: string): void;
  /** The current quota utilization of a type in a region (default: the `region` option). */
  quotaUsage(instanceType: string, region?: string): number;
  /** Marks the cluster Failed (or RollingBack) with this FailureMessage and releases what it holds. */
  failCluster(nameOrArn: string, message: string, status?: 'Failed' | 'RollingBack', region?: string): void;
  /** The DescribeCluster answer for a cluster, or undefined when there is none. */
  describe(nameOrArn: string, region?: string): Record<string, unknown> | undefined;
  /** The clusters that exist (any status, not yet gone), in creation order; of one region when given. */
  clusters(region?: string): SimulatedClusterSummary[];
}

const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
/** The members of the ClusterInstanceStorageConfig union. */
const STORAGE_MEMBERS = ['EbsVolumeConfig', 'FsxLustreConfig', 'FsxOpenZfsConfig'];
const CLUSTER_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:cluster\/[a-z0-9]{12}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const S3_URI = /^(https|s3):\/\/([^/]+)\/?(.*)$/;
const EKS_ARN = /^arn:aws[a-z-]*:eks:[a-z0-9-]*:[0-9]{12}:cluster\/[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const TRAINING_PLAN_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:training-plan\/.*$/;
const TAG_TEXT = /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u;
const VPC_ID = /^[-0-9a-zA-Z]+$/;

/** The service's ClusterInstanceType enum (the same data the provisioner's validator uses). */
export const HYPERPOD_INSTANCE_TYPES: ReadonlySet<string> = new Set(INSTANCE_TYPE_LIST);
const ENUM_HINT = '[ml.p4d.24xlarge, ml.p5.48xlarge, ml.g5.xlarge, ...]';

/** An error answer on the wire. */
class AwsError {
  constructor(
    readonly type: string,
    readonly message: string,
    readonly status = 400,
  ) {}
}

/** What an injected error name answers by default. */
const INJECTED_DEFAULTS: Record<string, { status: number; message: string }> = {
  ThrottlingException: { status: 400, message: 'Rate exceeded' },
  InternalFailure: { status: 500, message: 'We encountered an internal error. Please try again.' },
  ServiceUnavailable: { status: 503, message: 'Service is unavailable. Please try again later.' },
  ResourceLimitExceeded: { status: 400, message: 'The account-level service limit for cluster usage is exceeded.' },
  ResourceInUse: { status: 400, message: 'Resource being accessed is in use.' },
  ResourceNotFound: { status: 400, message: 'Resource not found.' },
  ConflictException: { status: 400, message: 'The cluster is being modified by another operation.' },
  ValidationException: { status: 400, message: '1 validation error detected.' },
  AccessDeniedException: { status: 400, message: 'User is not authorized to perform this action.' },
  UnrecognizedClientException: { status: 403, message: 'The security token included in the request is invalid.' },
  InvalidSignatureException: { status: 403, message: 'The request signature we calculated does not match the signature you provided.' },
  ExpiredTokenException: { status: 400, message: 'The security token included in the request is expired' },
  MissingAuthenticationTokenException: { status: 403, message: 'Missing Authentication Token' },
};

const injectedToAwsError = (fault: InjectedError, random: () => number): AwsError => {
  if (fault === 'random-throttle') return new AwsError('ThrottlingException', 'Rate exceeded');
  if (fault === 'random-error') {
    return random() < 0.5
      ? new AwsError('InternalFailure', INJECTED_DEFAULTS.InternalFailure!.message, 500)
      : new AwsError('ServiceUnavailable', INJECTED_DEFAULTS.ServiceUnavailable!.message, 503);
  }
  const spec = typeof fault === 'string' ? { name: fault } : fault;
  const defaults = INJECTED_DEFAULTS[spec.name] ?? { status: 400, message: `Injected ${spec.name}` };
  return new AwsError(spec.name, spec.message ?? defaults.message, spec.status ?? defaults.status);
};

// ---- validation: AWS's "N validation errors detected: Value X at 'path' failed to satisfy constraint: ..." ----

class Violations {
  readonly list: string[] = [];
  add(value: unknown, path: string, constraint: string): void {
    const shown = value === undefined || value === null ? 'null' : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`;
    this.list.push(`Value ${shown} at '${path}' failed to satisfy constraint: Member must ${constraint}`);
  }
  text(value: unknown, path: string, min: number, max: number, pattern?: RegExp, required = true): void {
    if (value === undefined || value === null) {
      if (required) this.add(value, path, 'not be null');
      return;
    }
    if (typeof value !== 'string') return this.add(value, path, 'be a string');
    if (value.length < min) this.add(value, path, `have length greater than or equal to ${min}`);
    if (value.length > max) this.add(value, path, `have length less than or equal to ${max}`);
    if (pattern && !pattern.test(value)) this.add(value, path, `satisfy regular expression pattern: ${pattern.source}`);
  }
  int(value: unknown, path: string, min: number, max: number, required = true): void {
    if (value === undefined || value === null) {
      if (required) this.add(value, path, 'not be null');
      return;
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) return this.add(value, path, 'be an integer');
    if (value < min) this.add(value, path, `have value greater than or equal to ${min}`);
    if (value > max) this.add(value, path, `have value less than or equal to ${max}`);
  }
  array(value: unknown, path: string, min: number, max: number, required = true): unknown[] {
    if (value === undefined || value === null) {
      if (required) this.add(value, path, 'not be null');
      return [];
    }
    if (!Array.isArray(value)) {
      this.add(value, path, 'be a list');
      return [];
    }
    if (value.length < min) this.add(value, path, `have length greater than or equal to ${min}`);
    if (value.length > max) this.add(value, path, `have length less than or equal to ${max}`);
    return value;
  }
  toError(): AwsError | undefined {
    if (this.list.length === 0) return undefined;
    const count = this.list.length === 1 ? '1 validation error detected' : `${this.list.length} validation errors detected`;
    return new AwsError('ValidationException', `${count}: ${this.list.join('; ')}`);
  }
}

const asObject = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

const validateVpc = (v: Violations, value: unknown, path: string): void => {
  if (value === undefined) return;
  const vpc = asObject(value) ?? {};
  for (const [field, max] of [
    ['SecurityGroupIds', 5],
    ['Subnets', 16],
  ] as const) {
    const ids = v.array(vpc[field], `${path}.${field.charAt(0).toLowerCase()}${field.slice(1)}`, 1, max);
    ids.forEach((id, i) => v.text(id, `${path}.${field}.${i + 1}.member`, 1, 32, VPC_ID));
  }
};

const validateCreate = (body: Record<string, unknown>): AwsError | undefined => {
  const v = new Violations();
  v.text(body.ClusterName, 'clusterName', 1, 63, NAME);
  // InstanceGroups is optional in the model when RestrictedInstanceGroups is given (those are accepted as they are).
  const restrictedOnly =
    body.InstanceGroups === undefined && Array.isArray(body.RestrictedInstanceGroups) && body.RestrictedInstanceGroups.length > 0;
  const groups = v.array(body.InstanceGroups, 'instanceGroups', 1, 20, !restrictedOnly);
  const seen = new Set<string>();
  groups.forEach((raw, index) => {
    const path = `instanceGroups.${index + 1}.member`;
    const g = asObject(raw) ?? {};
    v.text(g.InstanceGroupName, `${path}.instanceGroupName`, 1, 63, NAME);
    if (typeof g.InstanceGroupName === 'string') {
      if (seen.has(g.InstanceGroupName)) v.add(g.InstanceGroupName, `${path}.instanceGroupName`, 'be unique within the cluster');
      seen.add(g.InstanceGroupName);
    }
    v.int(g.InstanceCount, `${path}.instanceCount`, 1, 6758);
    if (g.MinInstanceCount !== undefined) {
      const max = typeof g.InstanceCount === 'number' && Number.isInteger(g.InstanceCount) ? g.InstanceCount : 6758;
      v.int(g.MinInstanceCount, `${path}.minInstanceCount`, 0, max);
    }
    if (g.InstanceType !== undefined && g.InstanceRequirements !== undefined) {
      v.add(g.InstanceRequirements, `${path}.instanceRequirements`, 'not be set together with InstanceType');
    } else if (g.InstanceRequirements !== undefined) {
      const requirements = asObject(g.InstanceRequirements);
      if (!requirements) v.add(g.InstanceRequirements, `${path}.instanceRequirements`, 'be a structure');
      else {
        const types = v.array(requirements.InstanceTypes, `${path}.instanceRequirements.instanceTypes`, 1, Number.MAX_SAFE_INTEGER);
        types.forEach((type, i) => {
          if (typeof type !== 'string' || !HYPERPOD_INSTANCE_TYPES.has(type)) {
            v.add(type, `${path}.instanceRequirements.instanceTypes.${i + 1}.member`, `satisfy enum value set: ${ENUM_HINT}`);
          }
        });
      }
    } else if (g.InstanceType === undefined) v.add(undefined, `${path}.instanceType`, 'not be null');
    else if (typeof g.InstanceType !== 'string' || !HYPERPOD_INSTANCE_TYPES.has(g.InstanceType)) {
      v.add(g.InstanceType, `${path}.instanceType`, `satisfy enum value set: ${ENUM_HINT}`);
    }
    const lifeCycle = asObject(g.LifeCycleConfig);
    if (!lifeCycle) v.add(undefined, `${path}.lifeCycleConfig`, 'not be null');
    else {
      v.text(lifeCycle.SourceS3Uri, `${path}.lifeCycleConfig.sourceS3Uri`, 1, 1024, S3_URI);
      v.text(lifeCycle.OnCreate, `${path}.lifeCycleConfig.onCreate`, 1, 128, /\S/);
    }
    v.text(g.ExecutionRole, `${path}.executionRole`, 20, 2048, ROLE_ARN);
    if (g.ThreadsPerCore !== undefined) v.int(g.ThreadsPerCore, `${path}.threadsPerCore`, 1, 2);
    if (g.TrainingPlanArn !== undefined) v.text(g.TrainingPlanArn, `${path}.trainingPlanArn`, 50, 2048, TRAINING_PLAN_ARN);
    v.array(g.InstanceStorageConfigs, `${path}.instanceStorageConfigs`, 0, 4, false).forEach((item, i) => {
      const members = Object.keys(asObject(item) ?? {}).filter((k) => STORAGE_MEMBERS.includes(k));
      if (members.length !== 1)
        v.add(item, `${path}.instanceStorageConfigs.${i + 1}.member`, `set exactly one of ${STORAGE_MEMBERS.join(', ')}`);
      const ebs = asObject(asObject(item)?.EbsVolumeConfig);
      // A root-volume config may leave the size to the service.
      if (ebs && !(ebs.RootVolume === true && ebs.VolumeSizeInGB === undefined))
        v.int(ebs.VolumeSizeInGB, `${path}.instanceStorageConfigs.${i + 1}.member.ebsVolumeConfig.volumeSizeInGB`, 1, 16384);
    });
    const checks = v.array(g.OnStartDeepHealthChecks, `${path}.onStartDeepHealthChecks`, 1, 2, false);
    if (checks.some((c) => c !== 'InstanceStress' && c !== 'InstanceConnectivity') || new Set(checks).size !== checks.length) {
      v.add(checks, `${path}.onStartDeepHealthChecks`, 'contain distinct values of [InstanceStress, InstanceConnectivity]');
    }
    validateVpc(v, g.OverrideVpcConfig, `${path}.overrideVpcConfig`);
  });
  const tags = v.array(body.Tags, 'tags', 0, 50, false);
  const keys = new Set<string>();
  tags.forEach((raw, i) => {
    const tag = asObject(raw) ?? {};
    v.text(tag.Key, `tags.${i + 1}.member.key`, 1, 128, TAG_TEXT);
    v.text(tag.Value, `tags.${i + 1}.member.value`, 0, 256, TAG_TEXT);
    if (typeof tag.Key === 'string') {
      if (tag.Key.toLowerCase().startsWith('aws:')) v.add(tag.Key, `tags.${i + 1}.member.key`, "not start with 'aws:'");
      if (keys.has(tag.Key)) v.add(tag.Key, `tags.${i + 1}.member.key`, 'be unique');
      keys.add(tag.Key);
    }
  });
  validateVpc(v, body.VpcConfig, 'vpcConfig');
  if (body.Orchestrator !== undefined) {
    const orchestrator = asObject(body.Orchestrator) ?? {};
    const set = Object.keys(orchestrator);
    if (set.length !== 1 || !['Eks', 'Slurm'].includes(set[0]!)) v.add(body.Orchestrator, 'orchestrator', 'set exactly one of Eks, Slurm');
    const eks = asObject(orchestrator.Eks);
    if (eks) v.text(eks.ClusterArn, 'orchestrator.eks.clusterArn', 20, 2048, EKS_ARN);
    const strategy = asObject(orchestrator.Slurm)?.SlurmConfigStrategy;
    if (strategy !== undefined && !['Overwrite', 'Managed', 'Merge'].includes(strategy as string)) {
      v.add(strategy, 'orchestrator.slurm.slurmConfigStrategy', 'satisfy enum value set: [Overwrite, Managed, Merge]');
    }
  }
  if (body.NodeRecovery !== undefined && body.NodeRecovery !== 'Automatic' && body.NodeRecovery !== 'None') {
    v.add(body.NodeRecovery, 'nodeRecovery', 'satisfy enum value set: [Automatic, None]');
  }
  if (body.NodeProvisioningMode !== undefined && body.NodeProvisioningMode !== 'Continuous') {
    v.add(body.NodeProvisioningMode, 'nodeProvisioningMode', 'satisfy enum value set: [Continuous]');
  }
  return v.toError();
};

// ---- the simulator ----

/** A value per instance type, for every region, with per-region values that win. */
class RegionalTable {
  private readonly everywhere = new Map<string, number>();
  private readonly byRegion = new Map<string, Map<string, number>>();

  constructor(
    private readonly fallback: number,
    everywhere: Record<string, number> = {},
    byRegion: Record<string, Record<string, number>> = {},
  ) {
    for (const [type, n] of Object.entries(everywhere)) this.everywhere.set(type, n);
    for (const [region, values] of Object.entries(byRegion)) for (const [type, n] of Object.entries(values)) this.set(type, n, region);
  }

  get(type: string, region: string): number {
    return this.byRegion.get(region)?.get(type) ?? this.everywhere.get(type) ?? this.fallback;
  }

  set(type: string, n: number, region?: string): void {
    if (!Number.isFinite(n) || n < 0) throw new RangeError(`expected a count >= 0 for ${type}, got ${n}`);
    if (region === undefined) this.everywhere.set(type, n);
    else {
      const values = this.byRegion.get(region) ?? new Map<string, number>();
      values.set(type, n);
      this.byRegion.set(region, values);
    }
  }
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** The region of the SigV4 credential scope: `Credential=AKID/20260101/us-west-2/sagemaker/aws4_request`. */
const regionOfAuthorization = (authorization: string): string | undefined => {
  const region = /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\/[^/,\s]+\/aws4_request/.exec(authorization)?.[1];
  return region !== undefined && REGION.test(region) ? region : undefined;
};

const partitionOf = (region: string): string =>
  region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : region.startsWith('us-iso') ? 'aws-iso' : 'aws';

const sum = (counts: Iterable<number>): number => {
  let total = 0;
  for (const n of counts) total += n;
  return total;
};

/** EC2's insufficient-capacity wording (the cluster's FailureMessage after a post-create shortage). */
export const insufficientCapacityMessage = (instanceType: string, region: string): string =>
  `We currently do not have sufficient ${instanceType} capacity in the Availability Zone you requested (${region}a). ` +
  'Our system will be working on provisioning additional capacity. ' +
  `You can currently get ${instanceType} capacity by not specifying an Availability Zone in your request or choosing ${region}b, ${region}c.`;

/** AWS's ResourceLimitExceeded message for the account-level "<type> for cluster usage" quota. */
export const quotaExceededMessage = (instanceType: string, limit: number, usage: number, delta: number): string =>
  `The account-level service limit '${instanceType} for cluster usage' is ${limit} Instances, with current utilization of ` +
  `${usage} Instances and a request delta of ${delta} Instances. Please use AWS Service Quotas to request an increase for ` +
  'this quota. If AWS Service Quotas is not available, contact AWS support to request an increase for this quota.';

/** Request members DescribeCluster answers back as they were given (the output shapes equal the input shapes). */
const ECHOED_MEMBERS = ['VpcConfig', 'Orchestrator', 'NodeRecovery', 'NodeProvisioningMode', 'ClusterRole', 'TieredStorageConfig'];
/** Group members DescribeCluster answers back as they were given. */
const ECHOED_GROUP_MEMBERS = [
  'InstanceStorageConfigs',
  'OnStartDeepHealthChecks',
  'TrainingPlanArn',
  'OverrideVpcConfig',
  'ScheduledUpdateConfig',
  'CapacityRequirements',
];

// ---- the state file ----

const STATE_FORMAT = 'sagemaker-simulator-state';

interface CapacityChange {
  instanceType: string;
  region?: string;
  nodes: number;
}

interface QuotaChange {
  instanceType: string;
  region?: string;
  limit: number;
}

interface StoredGroup {
  spec: InstanceGroupSpec;
  types: string[];
  min: number;
  quotaType: string;
  held: Record<string, number>;
}

type StoredCluster = Omit<SimCluster, 'groups'> & { groups: StoredGroup[] };

/** What `stateFile` holds. */
interface SageMakerState {
  format: typeof STATE_FORMAT;
  version: 1;
  /** The creation counter (the order of clusters created in the same millisecond). */
  seq: number;
  /** setCapacity / setQuota values, in the order to apply them. */
  capacity: CapacityChange[];
  quotas: QuotaChange[];
  /** In creation order. */
  clusters: StoredCluster[];
}

const storeCluster = (c: SimCluster): StoredCluster => ({
  ...c,
  groups: c.groups.map((g) => ({ spec: g.spec, types: g.types, min: g.min, quotaType: g.quotaType, held: Object.fromEntries(g.held) })),
});

/** The state in a file this simulator wrote; throws the file's `corrupt` error for anything else. */
const readState = (raw: unknown, file: StateFile): SageMakerState => {
  const r = new StateReader(file);
  const state = r.object(raw, 'the top level');
  if (state.format !== STATE_FORMAT) throw file.corrupt(`it is not a SageMaker simulator state (format ${JSON.stringify(state.format)})`);
  if (state.version !== 1) throw file.corrupt(`version ${JSON.stringify(state.version)} is not supported (expected 1)`);
  const change = (value: unknown, path: string, member: 'nodes' | 'limit') => {
    const o = r.object(value, path);
    if (typeof o[member] === 'number' && (o[member] as number) < 0) throw file.corrupt(`${path}.${member} is negative`);
    return {
      instanceType: r.string(o.instanceType, `${path}.instanceType`),
      ...(o.region !== undefined ? { region: r.string(o.region, `${path}.region`) } : {}),
      [member]: r.number(o[member], `${path}.${member}`),
    };
  };
  const names = new Set<string>();
  const clusters = r.array(state.clusters, 'clusters').map((value, i): StoredCluster => {
    const path = `clusters[${i}]`;
    const c = r.object(value, path);
    const name = r.string(c.name, `${path}.name`);
    const region = r.string(c.region, `${path}.region`);
    if (names.has(`${region}/${name}`)) throw file.corrupt(`${path} repeats the cluster ${name} of ${region}`);
    names.add(`${region}/${name}`);
    const groups = r.array(c.groups, `${path}.groups`).map((raw, j): StoredGroup => {
      const at = `${path}.groups[${j}]`;
      const g = r.object(raw, at);
      const spec = r.object(g.spec, `${at}.spec`);
      r.string(spec.InstanceGroupName, `${at}.spec.InstanceGroupName`);
      r.count(spec.InstanceCount, `${at}.spec.InstanceCount`);
      r.optional(spec.MinInstanceCount, (v) => r.count(v, `${at}.spec.MinInstanceCount`));
      const types = r.array(g.types, `${at}.types`).map((t, k) => r.string(t, `${at}.types[${k}]`));
      if (types.length === 0) throw file.corrupt(`${at}.types is empty`);
      const held = r.object(g.held, `${at}.held`);
      for (const [type, n] of Object.entries(held)) r.count(n, `${at}.held.${type}`);
      return {
        spec: spec as InstanceGroupSpec,
        types,
        min: r.count(g.min, `${at}.min`),
        quotaType: r.string(g.quotaType, `${at}.quotaType`),
        held: held as Record<string, number>,
      };
    });
    const tags = r.array(c.tags, `${path}.tags`).map((raw, j): Tag => {
      const tag = r.object(raw, `${path}.tags[${j}]`);
      return { Key: r.string(tag.Key, `${path}.tags[${j}].Key`), Value: r.string(tag.Value, `${path}.tags[${j}].Value`) };
    });
    const outcome = r.optional(c.outcome, (v): SimCluster['outcome'] => {
      const o = r.object(v, `${path}.outcome`);
      const at = r.number(o.at, `${path}.outcome.at`);
      if (o.ok === true) return { ok: true, at };
      if (o.ok === false) return { ok: false, at, message: r.string(o.message, `${path}.outcome.message`) };
      throw file.corrupt(`${path}.outcome.ok is neither true nor false`);
    });
    const failure = r.optional(c.failure, (v): SimCluster['failure'] => {
      const o = r.object(v, `${path}.failure`);
      return {
        status: r.oneOf(o.status, `${path}.failure.status`, ['Failed', 'RollingBack'] as const),
        message: r.string(o.message, `${path}.failure.message`),
      };
    });
    const deletingSince = r.optional(c.deletingSince, (v) => r.number(v, `${path}.deletingSince`));
    return {
      seq: r.count(c.seq, `${path}.seq`),
      name,
      arn: r.string(c.arn, `${path}.arn`),
      region,
      createdAt: r.number(c.createdAt, `${path}.createdAt`),
      groups,
      tags,
      extra: r.object(c.extra, `${path}.extra`),
      ...(outcome ? { outcome } : {}),
      ...(failure ? { failure } : {}),
      ...(deletingSince !== undefined ? { deletingSince } : {}),
    };
  });
  return {
    format: STATE_FORMAT,
    version: 1,
    seq: r.count(state.seq, 'seq'),
    capacity: r.array(state.capacity, 'capacity').map((v, i) => change(v, `capacity[${i}]`, 'nodes') as CapacityChange),
    quotas: r.array(state.quotas, 'quotas').map((v, i) => change(v, `quotas[${i}]`, 'limit') as QuotaChange),
    clusters,
  };
};

export const startSageMakerSimulator = async (options: SageMakerSimulatorOptions = {}): Promise<SageMakerSimulator> => {
  const defaultRegion = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const readyAfterMs = options.readyAfterMs ?? 1000;
  const readyAfter = (c: { name: string }): number => options.readyAfterMsOf?.(c.name) ?? readyAfterMs;
  const deleteAfterMs = options.deleteAfterMs ?? 500;
  const rollbackMs = options.rollbackMs ?? 100;
  const nodesLagMs = options.nodesLagMs ?? 0;
  const random = options.random ?? Math.random;
  const rejected = new Set(options.rejectAccessKeys ?? []);
  const faults = new FaultInjector(random);
  const capacity = new RegionalTable(options.defaultCapacity ?? 64, options.capacity, options.regionCapacity);
  const quotas = new RegionalTable(options.defaultQuota ?? 10_000, options.quotas, options.regionQuotas);
  const clusters = new Map<string, SimCluster>(); // by `${region}/${name}`, in creation order
  const requests: LoggedRequest[] = [];
  let seq = 0;

  const keyOf = (region: string, name: string): string => `${region}/${name}`;

  // setCapacity / setQuota values, by region (or `*`) and type, for the state file
  const capacityChanges = new Map<string, CapacityChange>();
  const quotaChanges = new Map<string, QuotaChange>();
  const changeKey = (type: string, region?: string): string => `${region ?? '*'} ${type}`;
  const stateFile = options.stateFile === undefined ? undefined : new StateFile(options.stateFile, 'SageMaker simulator');
  if (stateFile) {
    const raw = stateFile.load();
    if (raw !== undefined) {
      const state = readState(raw, stateFile);
      seq = Math.max(state.seq, ...state.clusters.map((c) => c.seq));
      for (const change of state.capacity) {
        capacity.set(change.instanceType, change.nodes, change.region);
        capacityChanges.set(changeKey(change.instanceType, change.region), change);
      }
      for (const change of state.quotas) {
        quotas.set(change.instanceType, change.limit, change.region);
        quotaChanges.set(changeKey(change.instanceType, change.region), change);
      }
      for (const c of state.clusters) {
        clusters.set(keyOf(c.region, c.name), { ...c, groups: c.groups.map((g) => ({ ...g, held: new Map(Object.entries(g.held)) })) });
      }
    }
  }
  /** Writes the state file (when there is one and something changed): before every answer and after every control call. */
  const persist = (): void => {
    stateFile?.save({
      format: STATE_FORMAT,
      version: 1,
      seq,
      capacity: [...capacityChanges.values()],
      quotas: [...quotaChanges.values()],
      clusters: [...clusters.values()].map(storeCluster),
    } satisfies SageMakerState);
  };
  persist(); // a new file, or one the directory does not let us write, shows at start
  const inRegion = (region: string): SimCluster[] => [...clusters.values()].filter((c) => c.region === region);
  const heldOf = (g: GroupState): number => sum(g.held.values());
  /** Whether the cluster is up and keeps taking capacity for its groups below target. */
  const growing = (c: SimCluster): boolean => c.outcome?.ok === true && !c.failure && c.deletingSince === undefined;

  /** Free nodes of a type in a region: its capacity minus what the region's clusters hold. */
  const free = (type: string, region: string): number => {
    let used = 0;
    for (const c of inRegion(region)) for (const g of c.groups) used += g.held.get(type) ?? 0;
    return Math.max(0, capacity.get(type, region) - used);
  };

  /**
   * Quota utilization of a type in a region: what live clusters hold, plus what Creating / InService clusters are
   * still to be given (charged to the type the quota check chose). RollingBack / Failed / gone clusters hold none.
   */
  const usage = (type: string, region: string): number => {
    let used = 0;
    for (const c of inRegion(region)) {
      if (c.failure || c.outcome?.ok === false) continue;
      for (const g of c.groups) {
        used += g.held.get(type) ?? 0;
        if (c.deletingSince === undefined && g.quotaType === type) used += Math.max(0, g.spec.InstanceCount - heldOf(g));
      }
    }
    return used;
  };

  /** At readyAfterMs: every group gets its minimum (then takes up to its count), or the cluster rolls back holding nothing. */
  const decide = (c: SimCluster, at: number): void => {
    const taken = new Map<string, number>(); // by this cluster's earlier groups, not committed yet
    const room = (type: string): number => free(type, c.region) - (taken.get(type) ?? 0);
    const plan: Array<[GroupState, string, number]> = [];
    for (const g of c.groups) {
      const type = g.types.find((t) => room(t) >= Math.max(g.min, 1)) ?? (g.min === 0 ? g.types[0]! : undefined);
      if (type === undefined) {
        c.outcome = { ok: false, at, message: insufficientCapacityMessage(g.types[0]!, c.region) };
        options.onShortage?.({ instanceType: g.types[0]!, region: c.region, clusterName: c.name });
        return;
      }
      const n = Math.min(room(type), g.spec.InstanceCount);
      taken.set(type, (taken.get(type) ?? 0) + n);
      plan.push([g, type, n]);
    }
    for (const [g, type, n] of plan) if (n > 0) g.held.set(type, n);
    c.outcome = { ok: true, at };
  };

  /** Groups below target take what is free, oldest cluster first, types in order. */
  const topUp = (): void => {
    for (const c of clusters.values()) {
      if (!growing(c)) continue;
      for (const g of c.groups) {
        let missing = g.spec.InstanceCount - heldOf(g);
        for (const type of g.types) {
          if (missing <= 0) break;
          const n = Math.min(missing, free(type, c.region));
          if (n > 0) {
            g.held.set(type, (g.held.get(type) ?? 0) + n);
            missing -= n;
          }
        }
      }
    }
  };

  /** Applies, in time order, what the clock says has happened: decisions at readyAfterMs, deletions finishing, top-ups. */
  const settle = (now = Date.now()): void => {
    const due: Array<{ at: number; c: SimCluster; kind: 'decide' | 'gone' }> = [];
    for (const c of clusters.values()) {
      if (c.deletingSince !== undefined) {
        if (c.deletingSince + deleteAfterMs <= now) due.push({ at: c.deletingSince + deleteAfterMs, c, kind: 'gone' });
      } else if (!c.outcome && !c.failure && c.createdAt + readyAfter(c) <= now) {
        due.push({ at: c.createdAt + readyAfter(c), c, kind: 'decide' });
      }
    }
    due.sort((a, b) => a.at - b.at || a.c.seq - b.c.seq);
    for (const event of due) {
      if (event.kind === 'gone')
        clusters.delete(keyOf(event.c.region, event.c.name)); // its capacity is free again
      else decide(event.c, event.at);
      topUp();
    }
    topUp();
  };

  /** The cluster of a call: by name, or by ARN, in the call's region. */
  const find = (nameOrArn: string, region: string): SimCluster | undefined => {
    settle();
    if (CLUSTER_ARN.test(nameOrArn)) return inRegion(region).find((c) => c.arn === nameOrArn);
    return clusters.get(keyOf(region, nameOrArn));
  };

  /** For control calls: the given region; else by ARN anywhere; else the default region, else the only cluster of that name. */
  const locate = (nameOrArn: string, region?: string): SimCluster | undefined => {
    if (region !== undefined) return find(nameOrArn, region);
    settle();
    if (CLUSTER_ARN.test(nameOrArn)) return [...clusters.values()].find((c) => c.arn === nameOrArn);
    const named = clusters.get(keyOf(defaultRegion, nameOrArn));
    if (named) return named;
    const anywhere = [...clusters.values()].filter((c) => c.name === nameOrArn);
    return anywhere.length === 1 ? anywhere[0] : undefined;
  };

  const statusOf = (c: SimCluster, now: number): ClusterStatus => {
    if (c.deletingSince !== undefined) return 'Deleting';
    if (c.failure) return c.failure.status;
    if (c.outcome?.ok === false) return now - c.outcome.at < rollbackMs ? 'RollingBack' : 'Failed';
    return c.outcome?.ok ? 'InService' : 'Creating';
  };

  /** What DescribeCluster reports of what a group holds: everything, except during `nodesLagMs` after coming up. */
  const reportedCount = (c: SimCluster, held: number, now: number): number => {
    if (!c.outcome?.ok || nodesLagMs <= 0) return held;
    const age = now - c.outcome.at;
    if (age >= nodesLagMs) return held;
    return Math.max(0, Math.min(held - 1, Math.floor(held * (age / nodesLagMs))));
  };

  const epochSeconds = (ms: number): number => ms / 1000;

  const describeGroup = (c: SimCluster, g: GroupState, status: ClusterStatus, now: number): Record<string, unknown> => {
    const { spec } = g;
    const current = reportedCount(c, heldOf(g), now);
    const threads = spec.ThreadsPerCore ?? 2;
    let groupStatus: string = status;
    if (status === 'RollingBack' || status === 'Failed') groupStatus = 'Failed';
    else if (status === 'InService') {
      const up = current >= spec.InstanceCount || (spec.MinInstanceCount !== undefined && current >= spec.MinInstanceCount);
      groupStatus = up ? 'InService' : 'Creating';
    }
    const detail: Record<string, unknown> = {
      InstanceGroupName: spec.InstanceGroupName,
      ...(spec.InstanceType !== undefined ? { InstanceType: spec.InstanceType } : {}),
      CurrentCount: current,
      TargetCount: spec.InstanceCount,
      ...(spec.MinInstanceCount !== undefined ? { MinCount: spec.MinInstanceCount } : {}),
      LifeCycleConfig: spec.LifeCycleConfig,
      ExecutionRole: spec.ExecutionRole,
      ThreadsPerCore: threads,
      Status: groupStatus,
    };
    if (spec.InstanceRequirements) {
      // the reported count spread over the held types, in order of preference
      let left = current;
      const perType: Array<{ InstanceType: string; CurrentCount: number; ThreadsPerCore: number }> = [];
      for (const type of g.types) {
        const n = Math.min(left, g.held.get(type) ?? 0);
        left -= n;
        if (n > 0) perType.push({ InstanceType: type, CurrentCount: n, ThreadsPerCore: threads });
      }
      detail.InstanceRequirements = { CurrentInstanceTypes: perType.map((t) => t.InstanceType), DesiredInstanceTypes: [...g.types] };
      detail.InstanceTypeDetails = perType;
    }
    for (const member of ECHOED_GROUP_MEMBERS) if (spec[member] !== undefined) detail[member] = spec[member];
    return detail;
  };

  const describeJson = (c: SimCluster, now = Date.now()): Record<string, unknown> => {
    const status = statusOf(c, now);
    const failureMessage = c.failure?.message ?? (c.outcome?.ok === false ? c.outcome.message : undefined);
    const echoed = Object.fromEntries(ECHOED_MEMBERS.filter((m) => c.extra[m] !== undefined).map((m) => [m, c.extra[m]]));
    return {
      ClusterArn: c.arn,
      ClusterName: c.name,
      ClusterStatus: status,
      CreationTime: epochSeconds(c.createdAt),
      ...(failureMessage !== undefined ? { FailureMessage: failureMessage } : {}),
      InstanceGroups: c.groups.map((g) => describeGroup(c, g, status, now)),
      ...echoed,
    };
  };

  /** The quota check of CreateCluster: charges each group to a type (a flexible group to the first that fits). */
  const checkQuota = (region: string, specs: InstanceGroupSpec[]): string[] => {
    const delta = new Map<string, number>();
    const fits = (type: string, n: number): boolean => usage(type, region) + (delta.get(type) ?? 0) + n <= quotas.get(type, region);
    const charged = specs.map((spec) => {
      const types = spec.InstanceRequirements?.InstanceTypes ?? [spec.InstanceType!];
      const type = types.find((t) => fits(t, spec.InstanceCount)) ?? types[0]!;
      delta.set(type, (delta.get(type) ?? 0) + spec.InstanceCount);
      return type;
    });
    for (const [type, n] of delta) {
      const limit = quotas.get(type, region);
      const used = usage(type, region);
      if (used + n > limit) throw new AwsError('ResourceLimitExceeded', quotaExceededMessage(type, limit, used, n));
    }
    return charged;
  };

  type Handler = (body: Record<string, unknown>, region: string) => Record<string, unknown>;
  const handlers: Record<SageMakerOperation, Handler> = {
    CreateCluster: (body, region) => {
      const invalid = validateCreate(body);
      if (invalid) throw invalid;
      const name = body.ClusterName as string;
      if (find(name, region)) throw new AwsError('ResourceInUse', `Cluster with name ${name} already exists. Choose a different name.`);
      const specs = (body.InstanceGroups as InstanceGroupSpec[] | undefined) ?? [];
      const charged = checkQuota(region, specs);
      const continuous = body.NodeProvisioningMode === 'Continuous';
      const groups = specs.map(
        (spec, i): GroupState => ({
          spec,
          types: spec.InstanceRequirements ? [...spec.InstanceRequirements.InstanceTypes] : [spec.InstanceType!],
          min: spec.MinInstanceCount ?? (continuous ? 0 : spec.InstanceCount),
          quotaType: charged[i]!,
          held: new Map(),
        }),
      );
      let arn: string;
      do arn = `arn:${partitionOf(region)}:sagemaker:${region}:${accountId}:cluster/${randomBytes(8).toString('hex').slice(0, 12)}`;
      while ([...clusters.values()].some((c) => c.arn === arn));
      const { ClusterName: _n, InstanceGroups: _g, Tags, ...extra } = body;
      seq += 1;
      clusters.set(keyOf(region, name), {
        seq,
        name,
        arn,
        region,
        createdAt: Date.now(),
        groups,
        tags: (Tags as Tag[] | undefined) ?? [],
        extra,
      });
      return { ClusterArn: arn };
    },

    DescribeCluster: (body, region) => describeJson(existing(body.ClusterName, region)),

    DeleteCluster: (body, region) => {
      const c = existing(body.ClusterName, region);
      c.deletingSince ??= Date.now(); // deleting a cluster that is already deleting is accepted again
      return { ClusterArn: c.arn };
    },

    ListClusters: (body, region) => {
      const v = new Violations();
      v.int(body.MaxResults, 'maxResults', 1, 100, false);
      if (body.SortBy !== undefined && body.SortBy !== 'NAME' && body.SortBy !== 'CREATION_TIME') {
        v.add(body.SortBy, 'sortBy', 'satisfy enum value set: [NAME, CREATION_TIME]');
      }
      const invalid = v.toError();
      if (invalid) throw invalid;
      const now = Date.now();
      settle(now);
      const contains = typeof body.NameContains === 'string' ? body.NameContains : '';
      const after = typeof body.CreationTimeAfter === 'number' ? body.CreationTimeAfter * 1000 : -Infinity;
      const before = typeof body.CreationTimeBefore === 'number' ? body.CreationTimeBefore * 1000 : Infinity;
      const descending = body.SortOrder !== 'Ascending';
      const all = inRegion(region)
        .filter((c) => c.name.includes(contains) && c.createdAt > after && c.createdAt < before)
        .sort(
          (a, b) =>
            (body.SortBy === 'NAME' ? a.name.localeCompare(b.name) : a.createdAt - b.createdAt || a.seq - b.seq) * (descending ? -1 : 1),
        );
      const { page, nextToken } = paginate(all, body.NextToken, (body.MaxResults as number | undefined) ?? 10);
      return {
        ClusterSummaries: page.map((c) => ({
          ClusterArn: c.arn,
          ClusterName: c.name,
          ClusterStatus: statusOf(c, now),
          CreationTime: epochSeconds(c.createdAt),
        })),
        ...(nextToken ? { NextToken: nextToken } : {}),
      };
    },

    DescribeTrainingPlan: (body, region) => {
      const plan = (options.trainingPlans ?? []).find((p) => p.name === body.TrainingPlanName && p.region === region);
      if (!plan) throw new AwsError('ResourceNotFound', `Training plan ${String(body.TrainingPlanName)} not found.`);
      return {
        TrainingPlanArn: `arn:${partitionOf(region)}:sagemaker:${region}:${accountId}:training-plan/${plan.name}`,
        TrainingPlanName: plan.name,
        Status: plan.status,
        TotalInstanceCount: plan.totalInstances,
        AvailableInstanceCount: plan.availableInstances,
        InUseInstanceCount: plan.totalInstances - plan.availableInstances,
        TargetResources: ['hyperpod-cluster'],
        ReservedCapacitySummaries: [
          {
            ReservedCapacityArn: `arn:${partitionOf(region)}:sagemaker:${region}:${accountId}:reserved-capacity/${plan.name}-1`,
            InstanceType: plan.instanceType,
            TotalInstanceCount: plan.totalInstances,
            Status: plan.status,
          },
        ],
      };
    },

    ListTags: (body, region) => {
      const v = new Violations();
      v.text(body.ResourceArn, 'resourceArn', 1, 256);
      const invalid = v.toError();
      if (invalid) throw invalid;
      const c = typeof body.ResourceArn === 'string' && CLUSTER_ARN.test(body.ResourceArn) ? find(body.ResourceArn, region) : undefined;
      if (!c) throw new AwsError('ResourceNotFound', `Resource ${String(body.ResourceArn)} not found.`);
      const { page, nextToken } = paginate(c.tags, body.NextToken, (body.MaxResults as number | undefined) ?? 50);
      return { Tags: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
  };

  function existing(nameOrArn: unknown, region: string): SimCluster {
    const v = new Violations();
    v.text(nameOrArn, 'clusterName', 1, 256);
    const invalid = v.toError();
    if (invalid) throw invalid;
    const c = find(nameOrArn as string, region);
    if (!c) throw new AwsError('ResourceNotFound', `Cluster ${String(nameOrArn)} not found.`);
    return c;
  }

  const answerError = (res: ServerResponse, entry: LoggedRequest, err: AwsError): void => {
    entry.status = err.status;
    sendJson(
      res,
      err.status,
      { __type: err.type, Message: err.message },
      {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-errortype': err.type,
        'x-amzn-requestid': randomBytes(16).toString('hex'),
      },
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const target = req.headers['x-amz-target'];
    const operation = typeof target === 'string' && target.startsWith('SageMaker.') ? target.slice('SageMaker.'.length) : undefined;
    const authorization = req.headers.authorization;
    const region = (typeof authorization === 'string' ? regionOfAuthorization(authorization) : undefined) ?? defaultRegion;
    let body: unknown;
    try {
      body = raw === '' ? {} : JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const entry: LoggedRequest = {
      operation: operation ?? `${req.method} ${req.url}`,
      at: new Date().toISOString(),
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      region,
      ...(body !== undefined ? { body } : {}),
    };
    requests.push(entry);
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);

    if (typeof authorization !== 'string' || !authorization.startsWith('AWS4-HMAC-SHA256 ')) {
      return answerError(res, entry, new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403));
    }
    const accessKey = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
    if (!accessKey || rejected.has(accessKey)) {
      return answerError(
        res,
        entry,
        new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 403),
      );
    }
    if (req.method !== 'POST' || req.url !== '/' || !operation || !OPERATIONS.includes(operation)) {
      return answerError(res, entry, new AwsError('UnknownOperationException', `Unknown operation ${String(target ?? '')}`));
    }
    const fault = faults.next(operation);
    if (applyConnectionFault(fault, res)) return;
    if (fault !== undefined) return answerError(res, entry, injectedToAwsError(fault, random));
    const input = asObject(body);
    if (!input)
      return answerError(res, entry, new AwsError('SerializationException', 'Start of structure or map found where not expected.'));

    let output: Record<string, unknown>;
    try {
      output = handlers[operation as SageMakerOperation](input, region);
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      persist(); // what the call settled before it failed
      return answerError(res, entry, err);
    }
    persist(); // before answering: an answered change survives a kill -9
    entry.status = 200;
    sendJson(res, 200, output, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomBytes(16).toString('hex') });
  };

  const server = await startServer(handle, options.port ?? 0);
  // State changes as events: settle on a short interval and report every status that changed since the last look.
  const announced = new Map<string, string>();
  const onStateChange = options.onStateChange;
  const watcher = onStateChange
    ? setInterval(() => {
        const now = Date.now();
        settle(now);
        for (const c of clusters.values()) {
          const status = statusOf(c, now);
          if (announced.get(c.arn) === status) continue;
          announced.set(c.arn, status);
          const json = describeJson(c, now) as { FailureMessage?: string; InstanceGroups: Array<Record<string, unknown>> };
          onStateChange({
            ClusterArn: c.arn,
            ClusterName: c.name,
            ClusterStatus: status,
            ...(json.FailureMessage !== undefined ? { FailureMessage: json.FailureMessage } : {}),
            InstanceGroups: json.InstanceGroups.map((g) => ({
              InstanceGroupName: String(g.InstanceGroupName),
              CurrentCount: Number(g.CurrentCount),
              TargetCount: Number(g.TargetCount),
              Status: String(g.Status),
            })),
            region: c.region,
          });
        }
      }, options.stateChangeEveryMs ?? 20)
    : undefined;
  watcher?.unref();
  return {
    ...server,
    close: async () => {
      if (watcher) clearInterval(watcher);
      await server.close();
    },
    requests,
    ...(options.stateFile !== undefined ? { stateFile: options.stateFile } : {}),
    setFaults: (f) => faults.set(f),
    injectErrors: (operation, errors) => faults.inject(operation, errors),
    clearFaults: () => faults.clear(),
    setCapacity: (type, nodes, region) => {
      settle(); // what happened before the change happened with the old capacity
      capacity.set(type, nodes, region);
      capacityChanges.delete(changeKey(type, region)); // re-inserted last: the order to apply them in
      capacityChanges.set(changeKey(type, region), { instanceType: type, ...(region !== undefined ? { region } : {}), nodes });
      persist();
    },
    available: (type, region = defaultRegion) => {
      settle();
      persist();
      return free(type, region);
    },
    setQuota: (type, limit, region) => {
      quotas.set(type, limit, region);
      quotaChanges.delete(changeKey(type, region));
      quotaChanges.set(changeKey(type, region), { instanceType: type, ...(region !== undefined ? { region } : {}), limit });
      persist();
    },
    quotaUsage: (type, region = defaultRegion) => {
      settle();
      persist();
      return usage(type, region);
    },
    failCluster: (nameOrArn, message, status = 'Failed', region) => {
      const c = locate(nameOrArn, region);
      if (!c) {
        persist();
        throw new Error(`No cluster ${nameOrArn} in the simulator`);
      }
      c.failure = { status, message };
      for (const g of c.groups) g.held.clear(); // a failed cluster holds no instances
      persist();
    },
    describe: (nameOrArn, region) => {
      const c = locate(nameOrArn, region);
      persist();
      return c ? describeJson(c) : undefined;
    },
    clusters: (region) => {
      const now = Date.now();
      settle(now);
      persist();
      return [...clusters.values()]
        .filter((c) => region === undefined || c.region === region)
        .map((c) => {
          const held: Record<string, number> = {};
          for (const g of c.groups) for (const [type, n] of g.held) held[type] = (held[type] ?? 0) + n;
          return { name: c.name, arn: c.arn, region: c.region, status: statusOf(c, now), held };
        });
    },
  };
};

/** NextToken is the offset, base64url-encoded; a token that does not decode is a ValidationException. */
const paginate = <T>(items: T[], token: unknown, max: number): { page: T[]; nextToken?: string } => {
  let offset = 0;
  if (token !== undefined) {
    offset = typeof token === 'string' ? Number(Buffer.from(token, 'base64url').toString('utf8')) : NaN;
    if (!Number.isInteger(offset) || offset < 0) throw new AwsError('ValidationException', 'Invalid pagination token');
  }
  const page = items.slice(offset, offset + max);
  const next = offset + max;
  return next < items.length ? { page, nextToken: Buffer.from(String(next)).toString('base64url') } : { page };
};
