/**
 * The simulated provider: capacity pools per offering (provider, region, instance type) that free and fill at random
 * times, behind the core's ClusterProvider port, so the workflow's task functions call it exactly as they call the
 * HyperPod adapter.
 *
 * A pool holds free instances, each stamped with the time it was freed. Capacity frees at the times of the
 * scenario's timeline; other tenants take free instances at random times (the timeline's fills), so capacity nobody
 * claims is lost again. A create that finds enough free instances of every type it asks for takes the oldest and the
 * cluster is READY `readySeconds` later; one that does not is refused with InsufficientCapacityError naming the
 * instance type (the shortage is refused at create, as TIR and EC2's RunInstances answer; HyperPod's accepted create
 * that rolls back minutes later would add a describe and a delete to every failed attempt of every strategy).
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
  atMs: number;
  /** When the capacity it took had been freed (the newest of the instances it took). */
  freedAtMs: number;
}

interface SimCluster {
  providerId: string;
  clusterName: string;
  region: string;
  requestId: string;
  createdAtMs: number;
  deleted: boolean;
}

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
  take(requestId: string, need: Map<string, number>): { ok: true } | { ok: false; short: string } {
    for (const [key, count] of need) if (this.pool(key).length < count) return { ok: false, short: key };
    for (const [key, count] of need) {
      const taken = this.pool(key).splice(0, count);
      this.served.push({ requestId, pool: key, atMs: this.clock.ms, freedAtMs: Math.max(...taken) });
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
  /** This simulation refuses a create it has no capacity for (it does not model HyperPod's accept-then-roll-back). */
  readonly capacityKnownAtCreate = true;
  readonly calls: Record<ProviderOp, number> = { create: 0, describe: 0, delete: 0, findByName: 0, listOwned: 0 };
  /** Requests that held two live clusters at once (must stay empty). */
  readonly doubles = new Set<string>();
  private readonly clusters = new Map<string, SimCluster>();
  private sequence = 0;
  /** Called when a created cluster becomes InService (HyperPod's state-change event). */
  onReady?: (requestId: string, providerId: string) => Promise<void> | void;

  constructor(
    private readonly world: CapacityWorld,
    private readonly readySeconds: number,
    /** Where the InService moment is scheduled (for onReady). */
    private readonly schedule?: (seconds: number, run: () => Promise<void> | void) => void,
  ) {}

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
    const taken = this.world.take(input.requestId, needOf(region, cluster));
    if (!taken.ok) {
      const type = taken.short.split('#')[2];
      throw new InsufficientCapacityError(
        `We currently do not have sufficient ${type} capacity in the Availability Zone you requested (${region}a).`,
        { providerCode: 'InsufficientInstanceCapacity' },
      );
    }
    if ([...this.clusters.values()].some((c) => c.requestId === input.requestId && !c.deleted)) this.doubles.add(input.requestId);
    this.sequence += 1;
    const providerId = `arn:aws:sagemaker:${region}:123456789012:cluster/sim${String(this.sequence).padStart(5, '0')}`;
    this.clusters.set(providerId, {
      providerId,
      clusterName: cluster.ClusterName,
      region,
      requestId: input.requestId,
      createdAtMs: this.world.clock.ms,
      deleted: false,
    });
    this.schedule?.(this.readySeconds, () => this.onReady?.(input.requestId, providerId));
    return { providerId, clusterName: cluster.ClusterName };
  }

  async describe(ref: ClusterRef): Promise<ClusterDescription> {
    this.calls.describe += 1;
    const cluster = this.find(ref);
    const ready = this.world.clock.ms >= cluster.createdAtMs + this.readySeconds * 1000;
    return {
      providerId: cluster.providerId,
      clusterName: cluster.clusterName,
      state: ready ? 'READY' : 'CREATING',
      providerStatus: ready ? 'InService' : 'Creating',
      nodes: { current: ready ? 1 : 0, target: 1 },
    };
  }

  async delete(ref: ClusterRef): Promise<void> {
    this.calls.delete += 1;
    this.find(ref).deleted = true;
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

const regionOf = (location: ClusterLocation): string => (location.provider === 'sagemaker' ? location.region : location.location);
