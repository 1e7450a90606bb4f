/**
 * A SageMaker HyperPod simulator speaking AWS JSON 1.1 on loopback (`POST /`, `X-Amz-Target: SageMaker.<Operation>`).
 * Point the real SDK at it with `AWS_ENDPOINT_URL_SAGEMAKER=<endpoint>`.
 *
 * Operations: CreateCluster, DescribeCluster, DeleteCluster, ListClusters, ListTags. It requires a SigV4
 * `Authorization` header (the signature itself is not checked), validates CreateCluster like the service (an
 * independent subset of the API model's constraints), reserves capacity per instance type, moves clusters
 * Creating -> InService after `readyAfterMs` and Deleting -> gone after `deleteAfterMs`, and injects faults on demand.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  applyConnectionFault,
  CapacityPool,
  FaultInjector,
  readBody,
  sendJson,
  sleep,
  startServer,
  type Faults,
  type InjectedError,
  type LoggedRequest,
  type RunningServer,
} from './common';
import { HYPERPOD_INSTANCE_TYPES as INSTANCE_TYPE_LIST } from '../../functions/core/hyperpod-instance-types';

export type SageMakerOperation = 'CreateCluster' | 'DescribeCluster' | 'DeleteCluster' | 'ListClusters' | 'ListTags';
const OPERATIONS: readonly string[] = ['CreateCluster', 'DescribeCluster', 'DeleteCluster', 'ListClusters', 'ListTags'];

export interface SageMakerSimulatorOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Used in ARNs. Default us-east-1. */
  region?: string;
  /** Used in ARNs. Default 123456789012. */
  accountId?: string;
  /** Creating -> InService after this long. Default 1000 ms. */
  readyAfterMs?: number;
  /** Deleting -> gone (and capacity released) after this long. Default 500 ms. */
  deleteAfterMs?: number;
  /**
   * Continuous provisioning: the cluster reports InService while `CurrentCount < TargetCount` for this long after
   * `readyAfterMs`. Default 0 (all nodes are up when it turns InService).
   */
  nodesLagMs?: number;
  /** Nodes available per instance type. Types not listed get `defaultCapacity`. */
  capacity?: Record<string, number>;
  /** Default 64 nodes per instance type. */
  defaultCapacity?: number;
  /** Access key ids answered with 403 UnrecognizedClientException. */
  rejectAccessKeys?: string[];
  /** Source of randomness for the fault rates (tests pass a fixed one). */
  random?: () => number;
}

type ClusterStatus = 'Creating' | 'InService' | 'Deleting' | 'Failed' | 'RollingBack';

interface InstanceGroupSpec {
  InstanceGroupName: string;
  InstanceCount: number;
  InstanceType: string;
  LifeCycleConfig: { SourceS3Uri: string; OnCreate: string };
  ExecutionRole: string;
  ThreadsPerCore?: number;
  [other: string]: unknown;
}

interface Tag {
  Key: string;
  Value: string;
}

interface SimCluster {
  name: string;
  arn: string;
  createdAt: number;
  groups: InstanceGroupSpec[];
  tags: Tag[];
  extra: Record<string, unknown>;
  failure?: { status: 'Failed' | 'RollingBack'; message: string };
  deletingSince?: number;
}

export interface SageMakerSimulator extends RunningServer {
  /** Every request received, in order (the Authorization header is never recorded). */
  readonly requests: LoggedRequest[];
  setFaults(faults: Faults): void;
  /** The next calls of `operation` answer these errors, in order (names like `ResourceLimitExceeded`, or `reset` / `hang`). */
  injectErrors(operation: SageMakerOperation, errors: InjectedError[]): void;
  clearFaults(): void;
  setCapacity(instanceType: string, nodes: number): void;
  available(instanceType: string): number;
  /** Marks the cluster Failed (or RollingBack) with this FailureMessage. */
  failCluster(nameOrArn: string, message: string, status?: 'Failed' | 'RollingBack'): void;
  /** The DescribeCluster answer for a cluster, or undefined when there is none. */
  describe(nameOrArn: string): Record<string, unknown> | undefined;
}

const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
const CLUSTER_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:cluster\/[a-z0-9]{12}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const S3_URI = /^(https|s3):\/\/([^/]+)\/?(.*)$/;
const EKS_ARN = /^arn:aws[a-z-]*:eks:[a-z0-9-]*:[0-9]{12}:cluster\/[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const TRAINING_PLAN_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:training-plan\/.*$/;
const TAG_TEXT = /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u;
const VPC_ID = /^[-0-9a-zA-Z]+$/;

/** The service's ClusterInstanceType enum (the same data the provisioner's validator uses). */
export const HYPERPOD_INSTANCE_TYPES: ReadonlySet<string> = new Set(INSTANCE_TYPE_LIST);

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
  for (const [field, max] of [['SecurityGroupIds', 5], ['Subnets', 16]] as const) {
    const ids = v.array(vpc[field], `${path}.${field.charAt(0).toLowerCase()}${field.slice(1)}`, 1, max);
    ids.forEach((id, i) => v.text(id, `${path}.${field}.${i + 1}.member`, 1, 32, VPC_ID));
  }
};

const validateCreate = (body: Record<string, unknown>): AwsError | undefined => {
  const v = new Violations();
  v.text(body.ClusterName, 'clusterName', 1, 63, NAME);
  const groups = v.array(body.InstanceGroups, 'instanceGroups', 1, 20);
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
    if (g.InstanceType === undefined) v.add(undefined, `${path}.instanceType`, 'not be null');
    else if (typeof g.InstanceType !== 'string' || !HYPERPOD_INSTANCE_TYPES.has(g.InstanceType)) {
      v.add(g.InstanceType, `${path}.instanceType`, 'satisfy enum value set: [ml.p4d.24xlarge, ml.p5.48xlarge, ml.g5.xlarge, ...]');
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
      const ebs = asObject(asObject(item)?.EbsVolumeConfig);
      if (!ebs) v.add(item, `${path}.instanceStorageConfigs.${i + 1}.member`, 'set exactly one of EbsVolumeConfig');
      else v.int(ebs.VolumeSizeInGB, `${path}.instanceStorageConfigs.${i + 1}.member.ebsVolumeConfig.volumeSizeInGB`, 1, 16384);
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
  return v.toError();
};

// ---- the simulator ----

export const startSageMakerSimulator = async (options: SageMakerSimulatorOptions = {}): Promise<SageMakerSimulator> => {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const readyAfterMs = options.readyAfterMs ?? 1000;
  const deleteAfterMs = options.deleteAfterMs ?? 500;
  const nodesLagMs = options.nodesLagMs ?? 0;
  const random = options.random ?? Math.random;
  const rejected = new Set(options.rejectAccessKeys ?? []);
  const faults = new FaultInjector(random);
  const capacity = new CapacityPool<string>(options.defaultCapacity ?? 64, Object.entries(options.capacity ?? {}));
  const clusters = new Map<string, SimCluster>(); // by name
  const requests: LoggedRequest[] = [];

  const demandOf = (groups: InstanceGroupSpec[]): Map<string, number> => {
    const demand = new Map<string, number>();
    for (const g of groups) demand.set(g.InstanceType, (demand.get(g.InstanceType) ?? 0) + g.InstanceCount);
    return demand;
  };

  /** Applies what the clock says: deletions that finished remove the cluster and release its capacity. */
  const settle = (now = Date.now()): void => {
    for (const [name, c] of clusters) {
      if (c.deletingSince !== undefined && now - c.deletingSince >= deleteAfterMs) {
        clusters.delete(name);
        capacity.release(demandOf(c.groups));
      }
    }
  };

  const find = (nameOrArn: string): SimCluster | undefined => {
    settle();
    if (CLUSTER_ARN.test(nameOrArn)) return [...clusters.values()].find((c) => c.arn === nameOrArn);
    return clusters.get(nameOrArn);
  };

  const statusOf = (c: SimCluster, now: number): ClusterStatus => {
    if (c.deletingSince !== undefined) return 'Deleting';
    if (c.failure) return c.failure.status;
    return now - c.createdAt < readyAfterMs ? 'Creating' : 'InService';
  };

  const currentCount = (c: SimCluster, g: InstanceGroupSpec, now: number): number => {
    const age = now - c.createdAt;
    if (c.failure || age < readyAfterMs) return 0;
    if (age >= readyAfterMs + nodesLagMs) return g.InstanceCount;
    // continuous provisioning: InService while nodes still launch, never all of them before the lag is over
    const share = (age - readyAfterMs) / nodesLagMs;
    return Math.min(g.InstanceCount - 1, Math.floor(g.InstanceCount * share));
  };

  const epochSeconds = (ms: number): number => ms / 1000;

  const describeJson = (c: SimCluster): Record<string, unknown> => {
    const now = Date.now();
    const status = statusOf(c, now);
    return {
      ClusterArn: c.arn,
      ClusterName: c.name,
      ClusterStatus: status,
      CreationTime: epochSeconds(c.createdAt),
      ...(c.failure ? { FailureMessage: c.failure.message } : {}),
      InstanceGroups: c.groups.map((g) => {
        const current = currentCount(c, g, now);
        return {
          InstanceGroupName: g.InstanceGroupName,
          InstanceType: g.InstanceType,
          CurrentCount: current,
          TargetCount: g.InstanceCount,
          LifeCycleConfig: g.LifeCycleConfig,
          ExecutionRole: g.ExecutionRole,
          ThreadsPerCore: g.ThreadsPerCore ?? 2,
          Status: status === 'InService' ? (current < g.InstanceCount ? 'Creating' : 'InService') : status === 'RollingBack' ? 'Failed' : status,
        };
      }),
      ...c.extra,
    };
  };

  const handlers: Record<SageMakerOperation, (body: Record<string, unknown>) => Record<string, unknown>> = {
    CreateCluster: (body) => {
      const invalid = validateCreate(body);
      if (invalid) throw invalid;
      const name = body.ClusterName as string;
      if (find(name)) throw new AwsError('ResourceInUse', `Cluster with name ${name} already exists. Choose a different name.`);
      const groups = body.InstanceGroups as InstanceGroupSpec[];
      const reserved = capacity.reserve(demandOf(groups));
      if (!reserved.ok) {
        throw new AwsError(
          'ResourceLimitExceeded',
          `The account-level service limit '${reserved.key} for cluster usage' is ${reserved.limit} Instances, with current ` +
            `utilization of ${reserved.limit - reserved.available} Instances and a request delta of ${reserved.requested} Instances. ` +
            'Please use AWS Service Quotas to request an increase for this quota.',
        );
      }
      const arn = `arn:aws:sagemaker:${region}:${accountId}:cluster/${randomBytes(8).toString('hex').slice(0, 12)}`;
      const { ClusterName: _n, InstanceGroups: _g, Tags, ...extra } = body;
      clusters.set(name, { name, arn, createdAt: Date.now(), groups, tags: (Tags as Tag[] | undefined) ?? [], extra });
      return { ClusterArn: arn };
    },

    DescribeCluster: (body) => describeJson(existing(body.ClusterName)),

    DeleteCluster: (body) => {
      const c = existing(body.ClusterName);
      c.deletingSince ??= Date.now(); // deleting a cluster that is already deleting is accepted again
      return { ClusterArn: c.arn };
    },

    ListClusters: (body) => {
      const v = new Violations();
      v.int(body.MaxResults, 'maxResults', 1, 100, false);
      if (body.SortBy !== undefined && body.SortBy !== 'NAME' && body.SortBy !== 'CREATION_TIME') {
        v.add(body.SortBy, 'sortBy', 'satisfy enum value set: [NAME, CREATION_TIME]');
      }
      const invalid = v.toError();
      if (invalid) throw invalid;
      settle();
      const contains = typeof body.NameContains === 'string' ? body.NameContains : '';
      const after = typeof body.CreationTimeAfter === 'number' ? body.CreationTimeAfter * 1000 : -Infinity;
      const before = typeof body.CreationTimeBefore === 'number' ? body.CreationTimeBefore * 1000 : Infinity;
      const descending = body.SortOrder !== 'Ascending';
      const all = [...clusters.values()]
        .filter((c) => c.name.includes(contains) && c.createdAt > after && c.createdAt < before)
        .sort((a, b) => (body.SortBy === 'NAME' ? a.name.localeCompare(b.name) : a.createdAt - b.createdAt) * (descending ? -1 : 1));
      const { page, nextToken } = paginate(all, body.NextToken, (body.MaxResults as number | undefined) ?? 10);
      const now = Date.now();
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

    ListTags: (body) => {
      const v = new Violations();
      v.text(body.ResourceArn, 'resourceArn', 1, 256);
      const invalid = v.toError();
      if (invalid) throw invalid;
      const c = typeof body.ResourceArn === 'string' && CLUSTER_ARN.test(body.ResourceArn) ? find(body.ResourceArn) : undefined;
      if (!c) throw new AwsError('ResourceNotFound', `Resource ${String(body.ResourceArn)} not found.`);
      const { page, nextToken } = paginate(c.tags, body.NextToken, (body.MaxResults as number | undefined) ?? 50);
      return { Tags: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
  };

  function existing(nameOrArn: unknown): SimCluster {
    const v = new Violations();
    v.text(nameOrArn, 'clusterName', 1, 256);
    const invalid = v.toError();
    if (invalid) throw invalid;
    const c = find(nameOrArn as string);
    if (!c) throw new AwsError('ResourceNotFound', `Cluster ${String(nameOrArn)} not found.`);
    return c;
  }

  const answerError = (res: ServerResponse, entry: LoggedRequest, err: AwsError): void => {
    entry.status = err.status;
    sendJson(res, err.status, { __type: err.type, Message: err.message }, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-errortype': err.type,
      'x-amzn-requestid': randomBytes(16).toString('hex'),
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const target = req.headers['x-amz-target'];
    const operation = typeof target === 'string' && target.startsWith('SageMaker.') ? target.slice('SageMaker.'.length) : undefined;
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
      ...(body !== undefined ? { body } : {}),
    };
    requests.push(entry);
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);

    const authorization = req.headers.authorization;
    if (typeof authorization !== 'string' || !authorization.startsWith('AWS4-HMAC-SHA256 ')) {
      return answerError(res, entry, new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403));
    }
    const accessKey = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
    if (!accessKey || rejected.has(accessKey)) {
      return answerError(res, entry, new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 403));
    }
    if (req.method !== 'POST' || req.url !== '/' || !operation || !OPERATIONS.includes(operation)) {
      return answerError(res, entry, new AwsError('UnknownOperationException', `Unknown operation ${String(target ?? '')}`));
    }
    const fault = faults.next(operation);
    if (applyConnectionFault(fault, res)) return;
    if (fault !== undefined) return answerError(res, entry, injectedToAwsError(fault, random));
    const input = asObject(body);
    if (!input) return answerError(res, entry, new AwsError('SerializationException', 'Start of structure or map found where not expected.'));

    try {
      const output = handlers[operation as SageMakerOperation](input);
      entry.status = 200;
      sendJson(res, 200, output, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomBytes(16).toString('hex') });
    } catch (err) {
      if (err instanceof AwsError) return answerError(res, entry, err);
      throw err;
    }
  };

  const server = await startServer(handle, options.port ?? 0);
  return {
    ...server,
    requests,
    setFaults: (f) => faults.set(f),
    injectErrors: (operation, errors) => faults.inject(operation, errors),
    clearFaults: () => faults.clear(),
    setCapacity: (type, nodes) => capacity.set(type, nodes),
    available: (type) => {
      settle();
      return capacity.available(type);
    },
    failCluster: (nameOrArn, message, status = 'Failed') => {
      const c = find(nameOrArn);
      if (!c) throw new Error(`No cluster ${nameOrArn} in the simulator`);
      c.failure = { status, message };
    },
    describe: (nameOrArn) => {
      const c = find(nameOrArn);
      return c ? describeJson(c) : undefined;
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
