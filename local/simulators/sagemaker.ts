/**
 * A SageMaker HyperPod simulator speaking AWS JSON 1.1 on loopback (`POST /`, `X-Amz-Target: SageMaker.<Operation>`).
 * Point the real SDK at it with `AWS_ENDPOINT_URL_SAGEMAKER=<endpoint>`.
 *
 * Operations: CreateCluster, DescribeCluster, DeleteCluster, ListClusters, ListTags, DescribeTrainingPlan (from the
 * `trainingPlans` option, read-only), SearchTrainingPlanOfferings (./training-plan-offerings.ts, from the
 * `trainingPlanOfferings` option, read-only). It requires a SigV4
 * `Authorization` header (the signature itself is not checked) and validates CreateCluster like the service
 * (./sagemaker-validate.ts).
 *
 * This file is the wire: the HTTP server, the request log, injected faults, and the dispatch of each operation to
 * the HyperPod model (./hyperpod-model.ts: capacity, quotas, clusters and their timing, with an injected clock); the
 * events come from the watcher (./hyperpod-events.ts). Each call's region is the one in the SigV4 credential scope
 * (`Credential=AKID/20260101/us-west-2/sagemaker/aws4_request`), else the `region` option; the request log records it.
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
  type Faults,
  type InjectedError,
  type LoggedRequest,
  type RunningServer,
} from './common';
import { watchHyperPodEvents, type ClusterEventRecordDetail, type ClusterStateChangeDetail } from './hyperpod-events';
import {
  AwsError,
  CLUSTER_ARN,
  HyperPodModel,
  partitionOf,
  type HyperPodModelOptions,
  type SimCluster,
  type SimulatedClusterSummary,
} from './hyperpod-model';
import { asObject, validateCreate, Violations } from './sagemaker-validate';
import { searchTrainingPlanOfferings, type SimTrainingPlanOffering } from './training-plan-offerings';

export type { ClusterEventRecordDetail, ClusterStateChangeDetail } from './hyperpod-events';
export {
  clusterEventCapacityMessage,
  insufficientCapacityMessage,
  minimumNotMetMessage,
  quotaExceededMessage,
  type HyperPodModelOptions,
  type SimulatedClusterSummary,
} from './hyperpod-model';
export { HYPERPOD_INSTANCE_TYPES } from './sagemaker-validate';

export type SageMakerOperation =
  | 'CreateCluster'
  | 'DescribeCluster'
  | 'DeleteCluster'
  | 'ListClusters'
  | 'ListTags'
  | 'DescribeTrainingPlan'
  | 'SearchTrainingPlanOfferings';
const OPERATIONS: readonly string[] = [
  'CreateCluster',
  'DescribeCluster',
  'DeleteCluster',
  'ListClusters',
  'ListTags',
  'DescribeTrainingPlan',
  'SearchTrainingPlanOfferings',
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

export interface SageMakerSimulatorOptions extends HyperPodModelOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Access key ids answered with 403 UnrecognizedClientException. */
  rejectAccessKeys?: string[];
  /** Training plans DescribeTrainingPlan answers (the pre-flight plan reads them). */
  trainingPlans?: SimTrainingPlan[];
  /** Reserved capacity SearchTrainingPlanOfferings answers (./training-plan-offerings.ts). */
  trainingPlanOfferings?: SimTrainingPlanOffering[];
  /** Source of randomness for the fault rates (tests pass a fixed one). */
  random?: () => number;
  /**
   * HyperPod's EventBridge events: called with the `detail` of a `SageMaker HyperPod Cluster State Change` each time a
   * cluster's status changes (watched every `stateChangeEveryMs`, default 20), as the service puts it on the default
   * bus (source `aws.sagemaker`). The local stack puts it on its bus; tests may drop, repeat or reorder them.
   */
  onStateChange?: (detail: ClusterStateChangeDetail, where: { region: string }) => void;
  stateChangeEveryMs?: number;
  /**
   * HyperPod's `SageMaker HyperPod Cluster Event` (clusters in `NodeProvisioningMode: Continuous` only), watched with
   * the state changes: an `Error`-level Instance event with EC2's wording each time a group below its target finds no
   * free capacity (once until it grows again), as in the "cluster events reference" example. Other events (instances
   * added, ...) have no published example and are not simulated.
   */
  onClusterEvent?: (detail: ClusterEventRecordDetail, where: { region: string }) => void;
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

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** The region of the SigV4 credential scope: `Credential=AKID/20260101/us-west-2/sagemaker/aws4_request`. */
const regionOfAuthorization = (authorization: string): string | undefined => {
  const region = /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\/[^/,\s]+\/aws4_request/.exec(authorization)?.[1];
  return region !== undefined && REGION.test(region) ? region : undefined;
};

export const startSageMakerSimulator = async (options: SageMakerSimulatorOptions = {}): Promise<SageMakerSimulator> => {
  const model = new HyperPodModel(options); // the state file, when given, is loaded here
  const defaultRegion = model.defaultRegion;
  const accountId = model.accountId;
  const random = options.random ?? Math.random;
  const rejected = new Set(options.rejectAccessKeys ?? []);
  const faults = new FaultInjector(random);
  const requests: LoggedRequest[] = [];

  type Handler = (body: Record<string, unknown>, region: string) => Record<string, unknown>;
  const handlers: Record<SageMakerOperation, Handler> = {
    CreateCluster: (body, region) => {
      const invalid = validateCreate(body);
      if (invalid) throw invalid;
      return { ClusterArn: model.create(body, region) };
    },

    DescribeCluster: (body, region) => model.describe(existing(body.ClusterName, region)),

    DeleteCluster: (body, region) => {
      const c = existing(body.ClusterName, region);
      model.startDeleting(c); // deleting a cluster that is already deleting is accepted again
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
      const now = model.now();
      model.settle(now);
      const contains = typeof body.NameContains === 'string' ? body.NameContains : '';
      const after = typeof body.CreationTimeAfter === 'number' ? body.CreationTimeAfter * 1000 : -Infinity;
      const before = typeof body.CreationTimeBefore === 'number' ? body.CreationTimeBefore * 1000 : Infinity;
      const descending = body.SortOrder !== 'Ascending';
      const all = model
        .list(region)
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
          ClusterStatus: model.statusOf(c, now),
          CreationTime: c.createdAt / 1000,
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

    SearchTrainingPlanOfferings: (body, region) =>
      searchTrainingPlanOfferings(options.trainingPlanOfferings ?? [], body, region, model.now()),

    ListTags: (body, region) => {
      const v = new Violations();
      v.text(body.ResourceArn, 'resourceArn', 1, 256);
      const invalid = v.toError();
      if (invalid) throw invalid;
      const c =
        typeof body.ResourceArn === 'string' && CLUSTER_ARN.test(body.ResourceArn) ? model.find(body.ResourceArn, region) : undefined;
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
    const c = model.find(nameOrArn as string, region);
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
      at: new Date(model.now()).toISOString(),
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
      model.persist(); // what the call settled before it failed
      return answerError(res, entry, err);
    }
    model.persist(); // before answering: an answered change survives a kill -9
    entry.status = 200;
    sendJson(res, 200, output, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomBytes(16).toString('hex') });
  };

  const server = await startServer(handle, options.port ?? 0);
  const events = watchHyperPodEvents(
    model,
    {
      ...(options.onStateChange ? { onStateChange: options.onStateChange } : {}),
      ...(options.onClusterEvent ? { onClusterEvent: options.onClusterEvent } : {}),
    },
    options.stateChangeEveryMs ?? 20,
  );
  return {
    ...server,
    close: async () => {
      events.stop();
      await server.close();
    },
    requests,
    ...(options.stateFile !== undefined ? { stateFile: options.stateFile } : {}),
    setFaults: (f) => faults.set(f),
    injectErrors: (operation, errors) => faults.inject(operation, errors),
    clearFaults: () => faults.clear(),
    setCapacity: (type, nodes, region) => model.setCapacity(type, nodes, region),
    available: (type, region = model.defaultRegion) => {
      model.settle();
      model.persist();
      return model.free(type, region);
    },
    setQuota: (type, limit, region) => model.setQuota(type, limit, region),
    quotaUsage: (type, region = model.defaultRegion) => {
      model.settle();
      model.persist();
      return model.usage(type, region);
    },
    failCluster: (nameOrArn, message, status = 'Failed', region) => {
      const c = model.locate(nameOrArn, region);
      if (!c) {
        model.persist();
        throw new Error(`No cluster ${nameOrArn} in the simulator`);
      }
      model.failCluster(c, message, status);
      model.persist();
    },
    describe: (nameOrArn, region) => {
      const c = model.locate(nameOrArn, region);
      model.persist();
      return c ? model.describe(c) : undefined;
    },
    clusters: (region) => {
      const summaries = model.summaries(region);
      model.persist();
      return summaries;
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
