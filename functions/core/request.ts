/**
 * The provisioning request contract (see README "The request").
 *
 * `cluster` is the provider's own create body with the field names of its document: the SageMaker CreateCluster
 * request for `sagemaker`, the TIR Create Training Cluster body for `tir`. The shape's one source is
 * functions/contract/request.schema.json (docs/contract.md); validation lives in ./validate.ts. The types below name
 * the members the provisioner reads; the CreateCluster ones admit every other member of the API.
 */
import { createHash } from 'node:crypto';

export { PROVIDERS } from '../contract/providers.js';
export type { ProviderName } from '../contract/providers.js';
import type { ProviderName } from '../contract/providers.js';

/** Another placement of the request, tried when the ones before it are short of capacity (functions/core/placements.ts). */
export interface Alternative {
  provider: ProviderName;
  region?: string;
  projectId?: number;
  location?: string;
  activeIam?: number;
  /** The provider's whole create body for this placement. */
  cluster?: Record<string, unknown>;
  /** An RFC 7396 JSON merge patch over the request's cluster (same provider only). */
  patch?: Record<string, unknown>;
}

/** Where a request's events are told (functions/core/notify/): a signed webhook, or an SNS topic. */
export type NotifyTarget = { webhook: string; secret: string } | { sns: string };

export interface CommonRequestFields {
  /** Up to 8 other placements, tried in order after this one when it is short of capacity. */
  alternatives?: Alternative[];
  /** The JSON Schema an editor checks the document with (examples/*.json carry one); not part of the request. */
  $schema?: string;
  /** Idempotency key, 1..64 of [A-Za-z0-9_-]; derived from the canonical request when absent. */
  requestId?: string;
  /** ISO 8601 date-time: provision at that time instead of now (a one-time schedule; the record shows SCHEDULED). */
  startAt?: string;
  /** ISO 8601 duration (e.g. PT8H): delete the cluster that long after it becomes READY. */
  deleteAfter?: string;
  /**
   * How long to keep trying while the provider has no capacity: exactly one of `for` (an ISO 8601 duration, PT1M..P14D,
   * from the first attempt) or `until` (an RFC 3339 date-time at most 14 days ahead). Absent: PT6H.
   */
  retry?: { for?: string; until?: string };
  /**
   * While the offering is short: `recreate` (the default) deletes a cluster rolled back for capacity and creates again;
   * `hold` (HyperPod only) creates once in Continuous provisioning mode and is READY at each group's minimum
   * (functions/core/strategy.ts).
   */
  capacityStrategy?: 'recreate' | 'hold';
  /** Up to 5 targets told of ready, failed, waiting (first wait and each change of reason) and deleted (core/notify/). */
  notify?: NotifyTarget[];
}

export interface SageMakerTag {
  Key: string;
  Value: string;
}

/** A CreateCluster instance group: exactly one of InstanceType or InstanceRequirements (a flexible group). */
export interface SageMakerInstanceGroup {
  [member: string]: unknown;
  InstanceGroupName: string;
  InstanceCount: number;
  MinInstanceCount?: number;
  InstanceType?: string;
  /** Instance types in order of preference: HyperPod falls back to the next when one has no capacity. */
  InstanceRequirements?: { InstanceTypes: string[] };
  CapacityRequirements?: { Spot: Record<string, never> } | { OnDemand: Record<string, never> };
  LifeCycleConfig: { SourceS3Uri: string; OnCreate: string; OnInitComplete?: string };
  ExecutionRole: string;
  ThreadsPerCore?: number;
  InstanceStorageConfigs?: Array<Record<string, unknown>>;
  OnStartDeepHealthChecks?: Array<'InstanceStress' | 'InstanceConnectivity'>;
  TrainingPlanArn?: string;
  OverrideVpcConfig?: { SecurityGroupIds: string[]; Subnets: string[] };
}

export interface SageMakerClusterSpec {
  [member: string]: unknown;
  ClusterName: string;
  InstanceGroups: SageMakerInstanceGroup[];
  Tags?: SageMakerTag[];
  VpcConfig?: { SecurityGroupIds: string[]; Subnets: string[] };
  Orchestrator?: { Eks: { ClusterArn: string } } | { Slurm: { SlurmConfigStrategy?: 'Overwrite' | 'Managed' | 'Merge' } };
  NodeRecovery?: 'Automatic' | 'None';
  /** Continuous: the cluster is InService while HyperPod keeps adding the instances it could not launch yet. */
  NodeProvisioningMode?: 'Continuous';
  RestrictedInstanceGroups?: Array<Record<string, unknown>>;
}

export interface TirMount {
  id: number;
  name?: string;
  mount_path?: string;
}

export interface TirClusterSpec {
  name: string;
  image_version_id: number;
  ssh_key_ids: number[];
  security_group_id: number;
  sku_id: number;
  no_of_nodes: number;
  sku_item_price_id: number;
  script_added?: boolean;
  lifecycle_script?: string;
  sfs_mount_list?: TirMount[];
  pfs_mount_list?: unknown[];
  dataset_mount_list?: unknown[];
}

export interface SageMakerRequest extends CommonRequestFields {
  provider: 'sagemaker';
  /** AWS region; defaults to the deployment's region. */
  region?: string;
  cluster: SageMakerClusterSpec;
}

export interface TirRequest extends CommonRequestFields {
  provider: 'tir';
  projectId: number;
  location: string;
  activeIam?: number;
  cluster: TirClusterSpec;
}

export type ProvisionRequest = SageMakerRequest | TirRequest;

/** A validated request with its requestId settled (and, for sagemaker, its region). */
export type AcceptedRequest = (SageMakerRequest & { region: string }) | TirRequest;
export type Accepted<R extends ProvisionRequest> = R & { requestId: string };

export const clusterNameOf = (request: ProvisionRequest): string =>
  request.provider === 'sagemaker' ? request.cluster.ClusterName : request.cluster.name;

/** JSON with object keys sorted at every level: the same request always serializes the same way. */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};

/**
 * SHA-256 of the canonical request without its requestId and `$schema` (an editor's hint, not part of the request):
 * equal for the same request however it is spelled.
 */
export const requestHash = (request: ProvisionRequest): string => {
  const { requestId: _ignored, $schema: _hint, ...rest } = request;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
};

/** The requestId of a request that brought none: `req-` and 40 hex digits of its canonical hash. */
export const deriveRequestId = (request: ProvisionRequest): string => `req-${requestHash(request).slice(0, 40)}`;

/** The request with its requestId settled (explicit, or derived from the canonical hash). */
export const withRequestId = <R extends ProvisionRequest>(request: R): Accepted<R> => ({
  ...request,
  requestId: request.requestId ?? deriveRequestId(request),
});
