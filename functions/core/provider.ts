/**
 * The provider port owned by the core. Adapters (functions/adapters/hyperpod.ts, tir.ts) implement it and throw only
 * the classes of ./errors.ts. Nothing here imports an SDK.
 */
import type { ProviderName, SageMakerClusterSpec, TirClusterSpec } from './request';

/** Normalized cluster state, the same for every provider. */
export type ClusterState = 'CREATING' | 'READY' | 'FAILED' | 'DELETING' | 'DELETED';

/** Where a cluster lives: enough to create, find, describe and delete it. Carries no credential. */
export type ClusterLocation =
  | { provider: 'sagemaker'; region: string }
  | { provider: 'tir'; projectId: number; location: string; activeIam?: number };

export interface ClusterRef {
  location: ClusterLocation;
  clusterName: string;
  /** HyperPod: the cluster ARN. TIR: the numeric cluster id as a string. Absent before the create answered. */
  providerId?: string;
}

export interface CreateClusterInput {
  location: ClusterLocation;
  requestId: string;
  cluster: SageMakerClusterSpec | TirClusterSpec;
}

export interface CreatedCluster {
  providerId: string;
  clusterName: string;
}

export interface ClusterDescription {
  providerId: string;
  clusterName: string;
  state: ClusterState;
  /** The provider's own status string, verbatim (`InService`, `Creating`, ...). */
  providerStatus: string;
  /** The provider's explanation, e.g. HyperPod FailureMessage. */
  message?: string;
  nodes: { current: number; target: number };
  /** Per instance group, where the provider reports groups (HyperPod). */
  groups?: GroupDescription[];
}

/** One instance group as the provider reports it. */
export interface GroupDescription {
  name: string;
  current: number;
  target: number;
  /** MinInstanceCount: the group counts as up from this many instances (HyperPod MinCount). */
  min?: number;
  /** The provider's status of the group (InService, Creating, Failed, ...). */
  status?: string;
  /** The instance types running, with their counts: for flexible groups, which of the listed types came up. */
  instanceTypes?: Array<{ type: string; count: number }>;
}

/** A cluster found by name, with what tells who made it. */
export interface ExistingCluster {
  providerId: string;
  clusterName: string;
  /**
   * The request of this deployment that created the cluster, read from what the provider keeps (HyperPod: the
   * `provisioner:request-id` tag; TIR: the owner marker of its lifecycle script). Set only when the cluster also names
   * this deployment (`provisioner:deployment`): a cluster of another deployment, or of nobody, has no owner here.
   */
  ownerRequestId?: string;
  /** ISO time the provider says the cluster was created, if it says. */
  createdAt?: string;
}

/** A cluster that carries this deployment's name, as `listOwned` finds it. */
export interface OwnedCluster {
  location: ClusterLocation;
  providerId: string;
  clusterName: string;
  /** The requestId the cluster names (HyperPod tag, TIR marker); absent when it names none. */
  requestId?: string;
  /** ISO time the provider says the cluster was created, if it says. */
  createdAt?: string;
  /** The provider's own status, verbatim (`InService`, `Deleting`, `Running`, ...). */
  providerStatus: string;
  /** The provider is deleting it already. */
  deleting: boolean;
}

/** Names the request that created the cluster (HyperPod tag; TIR keeps it in the owner marker). */
export const REQUEST_ID_TAG = 'provisioner:request-id';
/** Names the deployment (`<service>-<stage>`) that created the cluster: the sweeper touches only clusters with its own. */
export const DEPLOYMENT_TAG = 'provisioner:deployment';
/** The tags the provisioner sets on every HyperPod cluster itself: a request may not set them. */
export const PROVISIONER_TAGS: readonly string[] = [REQUEST_ID_TAG, DEPLOYMENT_TAG];
/** CreateCluster allows 50 tags; the provisioner's own leave this many to the request. */
export const MAX_REQUEST_TAGS = 50 - PROVISIONER_TAGS.length;

export interface ClusterProvider {
  readonly name: ProviderName;
  /**
   * Creates the cluster, marked with the request and this deployment (HyperPod: the `provisioner:request-id` and
   * `provisioner:deployment` tags; TIR: an owner marker appended to the lifecycle script).
   */
  create(input: CreateClusterInput): Promise<CreatedCluster>;
  /** Throws ClusterNotFoundError when the provider does not know the cluster. */
  describe(ref: ClusterRef): Promise<ClusterDescription>;
  /** Starts deletion. Throws ClusterNotFoundError when it is already gone. */
  delete(ref: ClusterRef): Promise<void>;
  /** Looks a cluster up by name (for adoption after ResourceInUse); undefined when there is none. */
  findByName(location: ClusterLocation, clusterName: string): Promise<ExistingCluster | undefined>;
  /**
   * Every cluster of the location (HyperPod: a region) that is provably this deployment's, and only those: it carries
   * this deployment's name, or (`recorded`: provider id -> requestId, the clusters this deployment's records hold) its id
   * is one a request of this deployment recorded. TIR uses `recorded` (it may hand no owner marker back); HyperPod's
   * tags always come back and it ignores it.
   */
  listOwned(location: ClusterLocation, recorded?: ReadonlyMap<string, string>): Promise<OwnedCluster[]>;
  /**
   * Whether an accepted create means the capacity was there (the provider refuses a create it has no capacity for,
   * as TIR does). HyperPod accepts the create and rolls the cluster back later: absent / false.
   */
  readonly capacityKnownAtCreate?: boolean;
  /**
   * The status of every cluster of the location, by provider id, in one listing (HyperPod: ListClusters, no tags).
   * Providers that announce their state changes have it: the reconciler uses it to catch an event that was lost.
   */
  statuses?(location: ClusterLocation): Promise<Map<string, string>>;
}
