/**
 * A scriptable ClusterProvider in memory, for the unit tier. It behaves as the adapters promise the core
 * (functions/core/provider.ts): create refuses a name still held by a cluster (ResourceInUseError, also while that
 * cluster is being deleted), describe and delete throw ClusterNotFoundError for a cluster the provider no longer knows,
 * findByName answers who made a cluster (the `provisioner:request-id` tag on HyperPod, the owner marker on TIR) when the
 * cluster is this deployment's; listOwned lists this deployment's clusters of a location.
 *
 * A test scripts:
 *   - refusals: `refuseCreate(err, ...)` queues errors the next creates throw, one each, in order (`refuseDelete` and
 *     `refuseDescribe` too);
 *   - a cluster's life: `scriptNext(phase, ...)` for the next cluster created; each phase answers `describes` describes
 *     (default 1) and the last one holds (default life: Creating once, then ready);
 *   - deletion: a deleted cluster answers DELETING to `goneAfterDescribes` describes (default 1), then is gone;
 *   - a race: `onCreate` runs once the cluster exists and before create answers (throw there to lose the answer, as a
 *     Lambda that dies after the provider created the cluster).
 * Every call is recorded in `calls` (deep copies), so a test asserts what the core asked for.
 */
import {
  ClusterNotFoundError,
  InsufficientCapacityError,
  ResourceInUseError,
  ResourceLimitExceededError,
} from '../../functions/core/errors';
import type {
  ClusterDescription,
  ClusterLocation,
  ClusterProvider,
  ClusterRef,
  ClusterState,
  CreateClusterInput,
  CreatedCluster,
  ExistingCluster,
  GroupDescription,
  OwnedCluster,
} from '../../functions/core/provider';
import type { ProviderName, SageMakerClusterSpec, TirClusterSpec } from '../../functions/core/request';

/** One stage of a cluster's life as describe reports it. */
export interface Phase {
  /** DELETED: what a provider that keeps deleted clusters visible answers (the cleanup treats it as gone). */
  state: Exclude<ClusterState, 'DELETING'>;
  /** The provider's own status; defaults to the provider's word for `state`. */
  providerStatus?: string;
  /** E.g. HyperPod's FailureMessage. */
  message?: string;
  nodes?: { current: number; target: number };
  groups?: GroupDescription[];
  /** How many describes answer this phase before the next one (default 1; the last phase holds). */
  describes?: number;
}

export type ProviderCall =
  | { op: 'create'; input: CreateClusterInput }
  | { op: 'describe'; ref: ClusterRef }
  | { op: 'delete'; ref: ClusterRef }
  | { op: 'findByName'; location: ClusterLocation; clusterName: string }
  | { op: 'listOwned'; location: ClusterLocation };

export type ProviderOp = ProviderCall['op'];

/** A cluster as the fake holds it. */
export interface FakeCluster {
  providerId: string;
  clusterName: string;
  location: ClusterLocation;
  /** The requestId the create named (HyperPod tags it; TIR keeps it in the owner marker). */
  ownerRequestId?: string;
  /** It carries this deployment's name (every cluster create made; a seeded one when it names an owner, or says so). */
  ours: boolean;
  createdAt: string;
  phases: Phase[];
  phase: number;
  seenInPhase: number;
  target: number;
  /** Set once deletion started: describes left that answer DELETING. */
  deletingDescribesLeft?: number;
  goneAfterDescribes: number;
}

const PROVIDER_STATUS: Record<ProviderName, Record<ClusterState, string>> = {
  sagemaker: { CREATING: 'Creating', READY: 'InService', FAILED: 'Failed', DELETING: 'Deleting', DELETED: 'Deleted' },
  tir: { CREATING: 'Creating', READY: 'Running', FAILED: 'Failed', DELETING: 'Deleting', DELETED: 'Deleted' },
};

const copy = <T>(value: T): T => structuredClone(value);

const targetOf = (input: CreateClusterInput): number => {
  if ('InstanceGroups' in input.cluster) {
    return (input.cluster as SageMakerClusterSpec).InstanceGroups.reduce((sum, g) => sum + g.InstanceCount, 0);
  }
  return (input.cluster as TirClusterSpec).no_of_nodes;
};

// ---- the providers' own words, for scripting ----

/** EC2's insufficient-capacity wording, as HyperPod puts it in FailureMessage when a cluster rolls back. */
export const shortageMessage = (instanceType = 'ml.p5.48xlarge', zone = 'us-east-1a'): string =>
  `We currently do not have sufficient ${instanceType} capacity in the Availability Zone you requested (${zone}). ` +
  'Our system will be working on provisioning additional capacity. You can currently get ' +
  `${instanceType} capacity by not specifying an Availability Zone in your request or choosing us-east-1b, us-east-1c.`;

/** HyperPod's ResourceLimitExceeded, as the adapter translates it: the account quota with its numbers. */
export const quotaRefusal = (limit: number, usage: number, delta: number, instanceType = 'ml.p5.48xlarge'): ResourceLimitExceededError =>
  new ResourceLimitExceededError(
    `HyperPod CreateCluster failed (ResourceLimitExceeded): The account-level service limit '${instanceType} for cluster usage' ` +
      `is ${limit} Instances, with current utilization of ${usage} Instances and a request delta of ${delta} Instances. ` +
      'Please use AWS Service Quotas to request an increase for this quota.',
    { providerCode: 'ResourceLimitExceeded' },
  );

/** A capacity refusal at create (TIR answers this way; HyperPod rarely). */
export const capacityRefusal = (message = 'Insufficient capacity: no nodes available for the selected plan'): InsufficientCapacityError =>
  new InsufficientCapacityError(message, { providerCode: '400' });

export interface MemoryProviderOptions {
  now?: () => Date;
  /** Describes that answer DELETING after a delete, before the cluster is gone (default 1; 0 = gone at once). */
  goneAfterDescribes?: number;
}

export class MemoryProvider implements ClusterProvider {
  readonly calls: ProviderCall[] = [];
  /** Runs once a created cluster exists, before create answers. */
  onCreate?: (cluster: Readonly<FakeCluster>) => Promise<void> | void;

  private readonly clusters = new Map<string, FakeCluster>();
  private readonly createRefusals: Error[] = [];
  private readonly deleteRefusals: Error[] = [];
  private readonly describeRefusals: Error[] = [];
  private readonly scripts: Phase[][] = [];
  private readonly now: () => Date;
  private readonly goneAfterDescribes: number;
  private sequence = 0;

  constructor(
    readonly name: ProviderName,
    options: MemoryProviderOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.goneAfterDescribes = options.goneAfterDescribes ?? 1;
  }

  // ---- scripting ----

  /** The next creates throw these, one each, in order. */
  refuseCreate(...errors: Error[]): this {
    this.createRefusals.push(...errors);
    return this;
  }

  /** The next deletes (of a cluster that exists) throw these, one each, in order. */
  refuseDelete(...errors: Error[]): this {
    this.deleteRefusals.push(...errors);
    return this;
  }

  /** The next describes throw these, one each, in order. */
  refuseDescribe(...errors: Error[]): this {
    this.describeRefusals.push(...errors);
    return this;
  }

  /** The life of the next cluster created (each call scripts one more cluster). */
  scriptNext(...phases: Phase[]): this {
    if (phases.length === 0) throw new Error('a script needs at least one phase');
    this.scripts.push(phases);
    return this;
  }

  /** A cluster that exists before the test starts (someone else's, or one whose create answer was lost). */
  seed(cluster: {
    clusterName: string;
    location: ClusterLocation;
    providerId?: string;
    ownerRequestId?: string;
    /** Default: true when it names an owner. */
    ours?: boolean;
    createdAt?: string;
    phases?: Phase[];
    target?: number;
  }): string {
    const providerId = cluster.providerId ?? this.nextId(cluster.location);
    this.clusters.set(providerId, {
      providerId,
      clusterName: cluster.clusterName,
      location: copy(cluster.location),
      ...(cluster.ownerRequestId !== undefined ? { ownerRequestId: cluster.ownerRequestId } : {}),
      ours: cluster.ours ?? cluster.ownerRequestId !== undefined,
      createdAt: cluster.createdAt ?? this.now().toISOString(),
      phases: copy(cluster.phases ?? [{ state: 'READY' }]),
      phase: 0,
      seenInPhase: 0,
      target: cluster.target ?? 2,
      goneAfterDescribes: this.goneAfterDescribes,
    });
    return providerId;
  }

  // ---- inspection ----

  exists(providerId: string): boolean {
    return this.clusters.has(providerId);
  }

  isDeleting(providerId: string): boolean {
    return this.clusters.get(providerId)?.deletingDescribesLeft !== undefined;
  }

  /** Ids of the clusters the provider knows, oldest first. */
  clusterIds(): string[] {
    return [...this.clusters.keys()];
  }

  callsOf<O extends ProviderOp>(op: O): Array<Extract<ProviderCall, { op: O }>> {
    return this.calls.filter((c): c is Extract<ProviderCall, { op: O }> => c.op === op);
  }

  // ---- the port ----

  async create(input: CreateClusterInput): Promise<CreatedCluster> {
    this.calls.push({ op: 'create', input: copy(input) });
    const refusal = this.createRefusals.shift();
    if (refusal) throw refusal;
    const clusterName =
      'ClusterName' in input.cluster ? (input.cluster as SageMakerClusterSpec).ClusterName : (input.cluster as TirClusterSpec).name;
    const holder = this.byName(clusterName);
    if (holder) {
      throw new ResourceInUseError(`Cluster ${clusterName} already exists (${holder.providerId})`, { providerCode: 'ResourceInUse' });
    }
    const providerId = this.nextId(input.location);
    const cluster: FakeCluster = {
      providerId,
      clusterName,
      location: copy(input.location),
      // HyperPod keeps the provisioner's tags; TIR the owner marker.
      ownerRequestId: input.requestId,
      ours: true,
      createdAt: this.now().toISOString(),
      phases: this.scripts.shift() ?? [{ state: 'CREATING' }, { state: 'READY' }],
      phase: 0,
      seenInPhase: 0,
      target: targetOf(input),
      goneAfterDescribes: this.goneAfterDescribes,
    };
    this.clusters.set(providerId, cluster);
    await this.onCreate?.(copy(cluster));
    return { providerId, clusterName };
  }

  async describe(ref: ClusterRef): Promise<ClusterDescription> {
    this.calls.push({ op: 'describe', ref: copy(ref) });
    const refusal = this.describeRefusals.shift();
    if (refusal) throw refusal;
    const cluster = this.find(ref);
    if (cluster.deletingDescribesLeft !== undefined) {
      if (cluster.deletingDescribesLeft <= 0) {
        this.clusters.delete(cluster.providerId);
        throw new ClusterNotFoundError(`Cluster ${ref.providerId ?? ref.clusterName} not found`, { providerCode: 'ResourceNotFound' });
      }
      cluster.deletingDescribesLeft -= 1;
      return {
        providerId: cluster.providerId,
        clusterName: cluster.clusterName,
        state: 'DELETING',
        providerStatus: PROVIDER_STATUS[this.name].DELETING,
        nodes: { current: 0, target: cluster.target },
      };
    }
    const phase = cluster.phases[cluster.phase] as Phase;
    cluster.seenInPhase += 1;
    if (cluster.phase < cluster.phases.length - 1 && cluster.seenInPhase >= (phase.describes ?? 1)) {
      cluster.phase += 1;
      cluster.seenInPhase = 0;
    }
    return {
      providerId: cluster.providerId,
      clusterName: cluster.clusterName,
      state: phase.state,
      providerStatus: phase.providerStatus ?? PROVIDER_STATUS[this.name][phase.state],
      ...(phase.message !== undefined ? { message: phase.message } : {}),
      nodes: copy(phase.nodes ?? { current: phase.state === 'READY' ? cluster.target : 0, target: cluster.target }),
      ...(phase.groups ? { groups: copy(phase.groups) } : {}),
    };
  }

  async delete(ref: ClusterRef): Promise<void> {
    this.calls.push({ op: 'delete', ref: copy(ref) });
    const cluster = this.find(ref);
    const refusal = this.deleteRefusals.shift();
    if (refusal) throw refusal;
    if (cluster.deletingDescribesLeft !== undefined) return; // already being deleted
    if (cluster.goneAfterDescribes <= 0) {
      this.clusters.delete(cluster.providerId);
      return;
    }
    cluster.deletingDescribesLeft = cluster.goneAfterDescribes;
  }

  async findByName(location: ClusterLocation, clusterName: string): Promise<ExistingCluster | undefined> {
    this.calls.push({ op: 'findByName', location: copy(location), clusterName });
    const cluster = this.byName(clusterName);
    if (!cluster) return undefined;
    return {
      providerId: cluster.providerId,
      clusterName: cluster.clusterName,
      ...(cluster.ours && cluster.ownerRequestId !== undefined ? { ownerRequestId: cluster.ownerRequestId } : {}),
      createdAt: cluster.createdAt,
    };
  }

  async listOwned(location: ClusterLocation): Promise<OwnedCluster[]> {
    this.calls.push({ op: 'listOwned', location: copy(location) });
    return [...this.clusters.values()]
      .filter((c) => c.ours && JSON.stringify(c.location) === JSON.stringify(location))
      .map((c) => ({
        location: copy(c.location),
        providerId: c.providerId,
        clusterName: c.clusterName,
        ...(c.ownerRequestId !== undefined ? { requestId: c.ownerRequestId } : {}),
        createdAt: c.createdAt,
        providerStatus: c.deletingDescribesLeft !== undefined ? PROVIDER_STATUS[this.name].DELETING : 'listed',
        deleting: c.deletingDescribesLeft !== undefined,
      }));
  }

  // ---- internals ----

  private nextId(location: ClusterLocation): string {
    this.sequence += 1;
    return location.provider === 'sagemaker'
      ? `arn:aws:sagemaker:${location.region}:123456789012:cluster/fake${String(this.sequence).padStart(4, '0')}`
      : String(7000 + this.sequence);
  }

  private byName(clusterName: string): FakeCluster | undefined {
    return [...this.clusters.values()].find((c) => c.clusterName === clusterName);
  }

  private find(ref: ClusterRef): FakeCluster {
    const cluster = ref.providerId !== undefined ? this.clusters.get(ref.providerId) : this.byName(ref.clusterName);
    if (!cluster)
      throw new ClusterNotFoundError(`Cluster ${ref.providerId ?? ref.clusterName} not found`, { providerCode: 'ResourceNotFound' });
    return cluster;
  }
}
