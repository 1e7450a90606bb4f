/**
 * The simulated provider: capacity pools per offering (provider, region, instance type) that free and fill at random
 * times, behind the core's ClusterProvider port, so the workflow's task functions call it exactly as they call the
 * HyperPod adapter.
 *
 * A pool holds free instances, each stamped with the time it was freed. Capacity frees at the times of the
 * scenario's timeline; other tenants take free instances at random times (the timeline's fills), so capacity nobody
 * claims is lost again. It plays one of two kinds of provider:
 *   - `refuse` (TIR, EC2's RunInstances): a create that finds enough free instances of every type it asks for takes
 *     them and the cluster is READY `readySeconds` later; one that does not is refused with InsufficientCapacityError
 *     naming the instance type.
 *   - `rollback` (SageMaker HyperPod): every create is accepted (`Creating`). The capacity question is answered
 *     `launchSeconds` later: the instances are taken then (the groups' `CurrentCount` reaches the target, the cluster
 *     still `Creating`) and the cluster is `InService` `creationSeconds` after the create; or, short, it goes
 *     `RollingBack` with EC2's insufficient-capacity wording and `Failed` `rollbackSeconds` later. A delete takes
 *     `deleteSeconds` (from the roll back's end, for a cluster still rolling back: it shows `Deleting` from the delete
 *     on, an assumption), and the name is taken until then.
 *     HyperPod announces InService, RollingBack and Failed (its state-change events), not the launch.
 *
 * Every call is counted by operation, and the created clusters remember their request, so the bench checks that no
 * request ever holds two clusters.
 */
import { ClusterNotFoundError, InsufficientCapacityError, ResourceInUseError } from '../../functions/core/errors';
import type {
  ClusterDescription,
  ClusterLocation,
  ClusterProvider,
  ClusterRef,
  CreateClusterInput,
  CreatedCluster,
  ExistingCluster,
  OwnedCluster,
} from '../../functions/core/provider';
import type { SageMakerClusterSpec } from '../../functions/core/request';
import type { VirtualClock } from './queue';

export const poolKey = (region: string, instanceType: string): string => `sagemaker#${region}#${instanceType}`;

/** One capacity change of the timeline. */
export interface CapacityEvent {
  atMs: number;
  pool: string;
  /** free: `count` instances come free; fill: another tenant takes up to `count` free instances. */
  kind: 'free' | 'fill';
  count: number;
}

export interface Served {
  requestId: string;
  pool: string;
  /** When the instances were taken: at the create (refuse), at the launch (rollback). */
  atMs: number;
  /** When the create that got them was sent. */
  createdAtMs: number;
  /** When the capacity it took had been freed (the newest of the instances it took). */
  freedAtMs: number;
}

interface SimCluster {
  providerId: string;
  clusterName: string;
  region: string;
  requestId: string;
  createdAtMs: number;
  /** The provider's status (rollback kind). */
  status: 'Creating' | 'InService' | 'RollingBack' | 'Failed' | 'Deleting';
  /** Instances launched (rollback kind: at the launch). */
  launched: number;
  target: number;
  message?: string;
  /** Gone: the name is free again. */
  deleted: boolean;
  /** When the delete was asked (it completes `deleteSeconds` after the later of this and the Failed moment). */
  deleteAtMs?: number;
}

/**
 * HyperPod's timing in the `rollback` kind, seconds. The sources: HyperPod's user guide gives no figures for these;
 * provisioning "typically" takes 10 to 25 minutes (creation: 15 min), the rest is assumed (see bench/contention/scenarios.ts).
 */
export interface HyperPodTiming {
  /** Create to the capacity question answered: instances launched, or the roll back starting. */
  launchSeconds: number;
  /** Create to InService (lifecycle scripts and health checks after the launch). */
  creationSeconds: number;
  /** RollingBack to Failed. */
  rollbackSeconds: number;
  /** Delete to gone (the name free again). */
  deleteSeconds: number;
}

export type ProviderKind = { kind: 'refuse' } | ({ kind: 'rollback' } & HyperPodTiming);

export type ProviderOp = 'create' | 'describe' | 'delete' | 'findByName' | 'listOwned';

export class CapacityWorld {
  /** Free instances per pool: the time each was freed, oldest first. */
  private readonly pools = new Map<string, number[]>();
  readonly served: Served[] = [];
  /** Instances other tenants took. */
  lostToOthers = 0;

  constructor(readonly clock: VirtualClock) {}

  apply(event: CapacityEvent): void {
    const pool = this.pool(event.pool);
    if (event.kind === 'free') for (let i = 0; i < event.count; i++) pool.push(event.atMs);
    else this.lostToOthers += pool.splice(0, event.count).length;
  }

  /** Takes `need` instances of each pool for `requestId`, or none when one pool is short (then: the short pool). */
  take(requestId: string, need: Map<string, number>, createdAtMs = this.clock.ms): { ok: true } | { ok: false; short: string } {
    for (const [key, count] of need) if (this.pool(key).length < count) return { ok: false, short: key };
    for (const [key, count] of need) {
      const taken = this.pool(key).splice(0, count);
      this.served.push({ requestId, pool: key, atMs: this.clock.ms, createdAtMs, freedAtMs: Math.max(...taken) });
    }
    return { ok: true };
  }

  free(key: string): number {
    return this.pool(key).length;
  }

  private pool(key: string): number[] {
    let pool = this.pools.get(key);
    if (!pool) {
      pool = [];
      this.pools.set(key, pool);
    }
    return pool;
  }
}

/** Instances per type a cluster asks for. */
export const needOf = (region: string, cluster: SageMakerClusterSpec): Map<string, number> => {
  const need = new Map<string, number>();
  for (const g of cluster.InstanceGroups) {
    const key = poolKey(region, g.InstanceType ?? '');
    need.set(key, (need.get(key) ?? 0) + g.InstanceCount);
  }
  return need;
};

export class SimProvider implements ClusterProvider {
  readonly name = 'sagemaker' as const;
  /** The refuse kind refuses a create it has no capacity for; the rollback kind accepts it and rolls back later. */
  readonly capacityKnownAtCreate: boolean;
  readonly calls: Record<ProviderOp, number> = { create: 0, describe: 0, delete: 0, findByName: 0, listOwned: 0 };
  /** Clusters that rolled back for capacity (rollback kind), and of those the ones created while a window was open. */
  rolledBack = 0;
  windowRolledBack = 0;
  /** The window of a pool's queue when a create is sent (set by the runner of this project's policy). */
  windowOf?: (pool: string) => number;
  /** Requests that held two live clusters at once (must stay empty). */
  readonly doubles = new Set<string>();
  private readonly clusters = new Map<string, SimCluster>();
  private sequence = 0;
  /** Called when a created cluster changes status: InService, RollingBack, Failed (HyperPod's state-change events). */
  onStateChange?: (requestId: string, providerId: string, status: string) => Promise<void> | void;

  constructor(
    private readonly world: CapacityWorld,
    private readonly readySeconds: number,
    /** Where the provider's own moments (launch, InService, roll back, gone) are scheduled. */
    private readonly schedule: (seconds: number, run: () => Promise<void> | void) => void,
    readonly kind: ProviderKind = { kind: 'refuse' },
  ) {
    this.capacityKnownAtCreate = kind.kind === 'refuse';
  }

  get totalCalls(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  /** Clusters created, per request. */
  clustersOf(requestId: string): number {
    return [...this.clusters.values()].filter((c) => c.requestId === requestId).length;
  }

  async create(input: CreateClusterInput): Promise<CreatedCluster> {
    this.calls.create += 1;
    const region = regionOf(input.location);
    const cluster = input.cluster as SageMakerClusterSpec;
    const holder = this.byName(cluster.ClusterName);
    if (holder) throw new ResourceInUseError(`Cluster ${cluster.ClusterName} already exists`, { providerCode: 'ResourceInUse' });
    const need = needOf(region, cluster);
    const target = [...need.values()].reduce((a, b) => a + b, 0);
    if (this.kind.kind === 'refuse') {
      const taken = this.world.take(input.requestId, need);
      if (!taken.ok) throw shortage(taken.short, region);
    }
    if ([...this.clusters.values()].some((c) => c.requestId === input.requestId && !c.deleted)) this.doubles.add(input.requestId);
    this.sequence += 1;
    const providerId = `arn:aws:sagemaker:${region}:123456789012:cluster/sim${String(this.sequence).padStart(5, '0')}`;
    const sim: SimCluster = {
      providerId,
      clusterName: cluster.ClusterName,
      region,
      requestId: input.requestId,
      createdAtMs: this.world.clock.ms,
      status: 'Creating',
      launched: this.kind.kind === 'refuse' ? target : 0,
      target,
      deleted: false,
    };
    this.clusters.set(providerId, sim);
    const event = (status: SimCluster['status']) => this.onStateChange?.(input.requestId, providerId, status);
    if (this.kind.kind === 'refuse') {
      this.schedule(this.readySeconds, () => {
        if (sim.status !== 'Creating') return;
        sim.status = 'InService';
        return event('InService');
      });
      return { providerId, clusterName: cluster.ClusterName };
    }
    const timing = this.kind;
    const inWindow = [...need.keys()].some((key) => (this.windowOf?.(key) ?? 1) > 1);
    this.schedule(timing.launchSeconds, () => {
      if (sim.status !== 'Creating') return;
      const taken = this.world.take(input.requestId, need, sim.createdAtMs);
      if (taken.ok) {
        sim.launched = target;
        this.schedule(Math.max(0, timing.creationSeconds - timing.launchSeconds), () => {
          if (sim.status !== 'Creating') return;
          sim.status = 'InService';
          return event('InService');
        });
        return;
      }
      sim.status = 'RollingBack';
      sim.message = shortage(taken.short, region).message;
      this.rolledBack += 1;
      if (inWindow) this.windowRolledBack += 1;
      this.schedule(timing.rollbackSeconds, () => {
        if (sim.deleteAtMs !== undefined) return this.schedule(timing.deleteSeconds, () => void (sim.deleted = true));
        sim.status = 'Failed';
        return event('Failed');
      });
      return event('RollingBack');
    });
    return { providerId, clusterName: cluster.ClusterName };
  }

  async describe(ref: ClusterRef): Promise<ClusterDescription> {
    this.calls.describe += 1;
    const cluster = this.find(ref);
    const state =
      cluster.status === 'InService'
        ? 'READY'
        : cluster.status === 'Creating'
          ? 'CREATING'
          : cluster.status === 'Deleting'
            ? 'DELETING'
            : 'FAILED';
    return {
      providerId: cluster.providerId,
      clusterName: cluster.clusterName,
      state,
      providerStatus: cluster.status,
      ...(cluster.message ? { message: cluster.message } : {}),
      nodes: { current: cluster.launched, target: cluster.target },
    };
  }

  async delete(ref: ClusterRef): Promise<void> {
    this.calls.delete += 1;
    const cluster = this.find(ref);
    if (this.kind.kind === 'refuse') {
      cluster.deleted = true;
      return;
    }
    if (cluster.deleteAtMs !== undefined) return;
    cluster.deleteAtMs = this.world.clock.ms;
    const rollingBack = cluster.status === 'RollingBack';
    cluster.status = 'Deleting';
    // A cluster still rolling back is gone a delete's time after the roll back ends (the roll back's end schedules it).
    if (!rollingBack) this.schedule(this.kind.deleteSeconds, () => void (cluster.deleted = true));
  }

  async findByName(_location: ClusterLocation, clusterName: string): Promise<ExistingCluster | undefined> {
    this.calls.findByName += 1;
    const c = this.byName(clusterName);
    return c ? { providerId: c.providerId, clusterName: c.clusterName, ownerRequestId: c.requestId } : undefined;
  }

  async listOwned(): Promise<OwnedCluster[]> {
    this.calls.listOwned += 1;
    return [];
  }

  private byName(name: string): SimCluster | undefined {
    for (const c of this.clusters.values()) if (c.clusterName === name && !c.deleted) return c;
    return undefined;
  }

  private find(ref: ClusterRef): SimCluster {
    const c = ref.providerId ? this.clusters.get(ref.providerId) : this.byName(ref.clusterName);
    if (!c || c.deleted) throw new ClusterNotFoundError(`Cluster ${ref.providerId ?? ref.clusterName} not found`);
    return c;
  }
}

const shortage = (pool: string, region: string): InsufficientCapacityError =>
  new InsufficientCapacityError(
    `We currently do not have sufficient ${pool.split('#')[2]} capacity in the Availability Zone you requested (${region}a).`,
    { providerCode: 'InsufficientInstanceCapacity' },
  );

const regionOf = (location: ClusterLocation): string => (location.provider === 'sagemaker' ? location.region : location.location);
