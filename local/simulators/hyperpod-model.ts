/**
 * The HyperPod model behind the SageMaker simulator: capacity pools, quotas, clusters and their instance groups, and
 * what the clock makes of them (launch or roll back, InService, deletion). It knows nothing of HTTP: the server
 * (./sagemaker.ts) parses and validates a call and asks the model; the watcher (./hyperpod-events.ts) turns what the
 * model shows into HyperPod's events. Time comes from the injected `clock` (default `Date.now`), so a test can run
 * the model in virtual time.
 *
 * The capacity model, as HyperPod reports it (docs/providers.md "Simulators"; docs/capacity.md):
 *  - Regions. Clusters, ARNs, quota and capacity are per region: the same name in two regions is two clusters.
 *  - Quota is checked at CreateCluster. Each instance type has an account-level limit "<type> for cluster usage"
 *    (`quotas` / `regionQuotas` / `setQuota`, default `defaultQuota`). Usage = the instances the account's live
 *    clusters of that region hold or are still being given (Creating / InService, and what Deleting clusters still
 *    hold; RollingBack / Failed / gone hold none). usage + delta > limit answers 400 ResourceLimitExceeded with AWS's
 *    message. A capacity shortage never answers ResourceLimitExceeded.
 *  - Capacity is taken when the instances launch. CreateCluster is accepted and the cluster is `Creating`; at
 *    `launchAfterMs` (default: `readyAfterMs`, the same moment) every group takes its instances from the free capacity
 *    of its region and type (`capacity` / `regionCapacity` / `setCapacity`, default `defaultCapacity`), all groups or
 *    none. The groups then report what they hold in `CurrentCount` while the cluster is still `Creating` (an
 *    assumption: the API reference does not say when CurrentCount counts an instance), and the cluster is `InService`
 *    at `readyAfterMs`. A group needs its minimum: `MinInstanceCount` when given, else 0 in
 *    `NodeProvisioningMode: "Continuous"`, else its whole `InstanceCount`; it takes min(free, InstanceCount). When
 *    some group cannot get its minimum the cluster takes nothing, is `RollingBack` for `rollbackMs` and then
 *    `Failed`, with EC2's insufficient-capacity wording in `FailureMessage`.
 *    A group below its target keeps taking capacity as it frees up (reported `Creating` while below target, unless it
 *    has reached its `MinInstanceCount`). Flexible groups (`InstanceRequirements.InstanceTypes`) come up on the first
 *    type, in order, with room for their minimum and top up from the types in order.
 *  - A cluster (Failed ones too) keeps its name until a delete and `deleteAfterMs` have passed (ResourceInUse until
 *    then); capacity is released when the cluster is gone, rolled back, or failed through `failCluster`.
 *  - `nodesLagMs` additionally holds reported CurrentCount below what the groups hold for that long after the launch.
 *
 * Time is applied lazily: every call first settles, in time order, what the clock says has happened (launches,
 * deletions finishing, top-ups), so there are no timers.
 */
import { randomBytes } from 'node:crypto';
import { StateFile } from './common';
import { readState, STATE_FORMAT, storeCluster, type CapacityChange, type QuotaChange, type SageMakerState } from './hyperpod-state';

export interface HyperPodModelOptions {
  /** The region of a call that names none. Default us-east-1. */
  region?: string;
  /** Used in ARNs. Default 123456789012. */
  accountId?: string;
  /** Creating -> InService (or RollingBack, when capacity is short) after this long. Default 1000 ms. */
  readyAfterMs?: number;
  /** The creation time of one cluster, by name (default: `readyAfterMs` for every cluster). */
  readyAfterMsOf?: (clusterName: string) => number;
  /**
   * Create to the capacity question answered: the instances launched (the groups' CurrentCount at what they hold, the
   * cluster still Creating until its creation time), or the roll back starting. Default: the creation time (the
   * launch and InService at the same moment). Never later than the creation time.
   */
  launchAfterMs?: number;
  /** Deleting -> gone (and capacity released) after this long. Default 500 ms. */
  deleteAfterMs?: number;
  /** RollingBack -> Failed after this long. Default 100 ms. */
  rollbackMs?: number;
  /**
   * How long a group with `MinInstanceCount` keeps waiting for its minimum before the cluster rolls back (HyperPod: "If
   * this threshold isn't met within 3 hours, the instance group rolls back"). Until then the cluster is `Creating` and
   * takes its instances as soon as the minimum is free. Default 0: it rolls back at the launch, like a group
   * without a minimum. The roll back's FailureMessage is an assumption (HyperPod does not publish it):
   * `minimumNotMetMessage`.
   */
  minimumWaitMs?: number;
  /** Told each time a cluster rolls back for capacity (the instance type it was short of, and the region). */
  onShortage?: (shortOf: { instanceType: string; region: string; clusterName: string }) => void;
  /**
   * Reported CurrentCount stays below what the groups hold for this long after the launch. Default 0.
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
  /** Epoch milliseconds now (default `Date.now`): a test may run the model in virtual time. */
  clock?: () => number;
}

export type ClusterStatus = 'Creating' | 'InService' | 'Deleting' | 'Failed' | 'RollingBack';

export interface InstanceGroupSpec {
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

export interface Tag {
  Key: string;
  Value: string;
}

/** What one instance group holds over its life. */
export interface GroupState {
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

export interface SimCluster {
  seq: number;
  name: string;
  arn: string;
  region: string;
  createdAt: number;
  groups: GroupState[];
  tags: Tag[];
  extra: Record<string, unknown>;
  /** What happened at the launch: the instances launched, or rolled back for capacity, at `at`. */
  outcome?: { ok: true; at: number } | { ok: false; at: number; message: string };
  /** Set by failCluster. */
  failure?: { status: 'Failed' | 'RollingBack'; message: string };
  /** When a group with MinInstanceCount first found its minimum short (the cluster waits `minimumWaitMs` from there). */
  minimumSince?: number;
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

/** A cluster's ARN (names and ARNs both find a cluster). */
export const CLUSTER_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:cluster\/[a-z0-9]{12}$/;

/** An error answer of the service (the server puts it on the wire). */
export class AwsError {
  constructor(
    readonly type: string,
    readonly message: string,
    readonly status = 400,
  ) {}
}

/** A group the Continuous mode's cluster events speak of: below its target, with no free capacity of its types. */
export interface ShortGroup {
  cluster: SimCluster;
  group: GroupState;
  held: number;
}

export class HyperPodModel {
  readonly defaultRegion: string;
  readonly accountId: string;
  /** Epoch milliseconds now. */
  readonly now: () => number;
  private readonly readyAfterMs: number;
  private readonly deleteAfterMs: number;
  private readonly rollbackMs: number;
  private readonly minimumWaitMs: number;
  private readonly nodesLagMs: number;
  private readonly capacity: RegionalTable;
  private readonly quotas: RegionalTable;
  /** By `${region}/${name}`, in creation order. */
  private readonly clusters = new Map<string, SimCluster>();
  private seq = 0;
  /** setCapacity / setQuota values, by region (or `*`) and type, for the state file. */
  private readonly capacityChanges = new Map<string, CapacityChange>();
  private readonly quotaChanges = new Map<string, QuotaChange>();
  private readonly stateFile?: StateFile;

  constructor(private readonly options: HyperPodModelOptions = {}) {
    this.defaultRegion = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.now = options.clock ?? Date.now;
    this.readyAfterMs = options.readyAfterMs ?? 1000;
    this.deleteAfterMs = options.deleteAfterMs ?? 500;
    this.rollbackMs = options.rollbackMs ?? 100;
    this.minimumWaitMs = options.minimumWaitMs ?? 0;
    this.nodesLagMs = options.nodesLagMs ?? 0;
    this.capacity = new RegionalTable(options.defaultCapacity ?? 64, options.capacity, options.regionCapacity);
    this.quotas = new RegionalTable(options.defaultQuota ?? 10_000, options.quotas, options.regionQuotas);
    if (options.stateFile !== undefined) {
      this.stateFile = new StateFile(options.stateFile, 'SageMaker simulator');
      const raw = this.stateFile.load();
      if (raw !== undefined) this.restore(readState(raw, this.stateFile));
    }
    this.persist(); // a new file, or one the directory does not let us write, shows at start
  }

  // ---- timing ----

  /** Create to InService. */
  private readyAfter(c: { name: string }): number {
    return this.options.readyAfterMsOf?.(c.name) ?? this.readyAfterMs;
  }

  /** Create to the launch (the capacity question answered): never after InService. */
  private launchAfter(c: { name: string }): number {
    const ready = this.readyAfter(c);
    return Math.min(this.options.launchAfterMs ?? ready, ready);
  }

  // ---- the state file ----

  private restore(state: SageMakerState): void {
    this.seq = Math.max(state.seq, ...state.clusters.map((c) => c.seq));
    for (const change of state.capacity) {
      this.capacity.set(change.instanceType, change.nodes, change.region);
      this.capacityChanges.set(changeKey(change.instanceType, change.region), change);
    }
    for (const change of state.quotas) {
      this.quotas.set(change.instanceType, change.limit, change.region);
      this.quotaChanges.set(changeKey(change.instanceType, change.region), change);
    }
    for (const c of state.clusters) {
      this.clusters.set(keyOf(c.region, c.name), { ...c, groups: c.groups.map((g) => ({ ...g, held: new Map(Object.entries(g.held)) })) });
    }
  }

  /** Writes the state file (when there is one and something changed): before every answer and after every control call. */
  persist(): void {
    this.stateFile?.save({
      format: STATE_FORMAT,
      version: 1,
      seq: this.seq,
      capacity: [...this.capacityChanges.values()],
      quotas: [...this.quotaChanges.values()],
      clusters: [...this.clusters.values()].map(storeCluster),
    } satisfies SageMakerState);
  }

  // ---- capacity and quota ----

  private inRegion(region: string): SimCluster[] {
    return [...this.clusters.values()].filter((c) => c.region === region);
  }

  /** Whether the cluster has launched and keeps taking capacity for its groups below target. */
  private growing(c: SimCluster): boolean {
    return c.outcome?.ok === true && !c.failure && c.deletingSince === undefined;
  }

  /** Free nodes of a type in a region: its capacity minus what the region's clusters hold. */
  free(type: string, region: string): number {
    let used = 0;
    for (const c of this.inRegion(region)) for (const g of c.groups) used += g.held.get(type) ?? 0;
    return Math.max(0, this.capacity.get(type, region) - used);
  }

  /**
   * Quota utilization of a type in a region: what live clusters hold, plus what Creating / InService clusters are
   * still to be given (charged to the type the quota check chose). RollingBack / Failed / gone clusters hold none.
   */
  usage(type: string, region: string): number {
    let used = 0;
    for (const c of this.inRegion(region)) {
      if (c.failure || c.outcome?.ok === false) continue;
      for (const g of c.groups) {
        used += g.held.get(type) ?? 0;
        if (c.deletingSince === undefined && g.quotaType === type) used += Math.max(0, g.spec.InstanceCount - heldOf(g));
      }
    }
    return used;
  }

  /**
   * At the launch: every group gets its minimum (then takes up to its count), or the cluster rolls back holding nothing.
   * A group waiting for its `MinInstanceCount` (`minimumWaitMs`) launches what is free meanwhile and holds it.
   */
  private decide(c: SimCluster, at: number): void {
    const taken = new Map<string, number>(); // by this cluster's earlier groups, not committed yet
    const room = (type: string): number => this.free(type, c.region) - (taken.get(type) ?? 0);
    const plan: Array<[GroupState, string, number]> = [];
    for (const g of c.groups) {
      if (heldOf(g) > 0) {
        // launched part of its minimum while waiting: it has it once what it holds and what is free reach it
        if (heldOf(g) + sum(g.types.map(room)) >= g.min) {
          let need = g.min - heldOf(g);
          for (const t of g.types) {
            const n = Math.max(0, Math.min(need, room(t)));
            taken.set(t, (taken.get(t) ?? 0) + n);
            need -= n;
          }
          continue;
        }
      } else {
        const type = g.types.find((t) => room(t) >= Math.max(g.min, 1)) ?? (g.min === 0 ? g.types[0]! : undefined);
        if (type !== undefined) {
          const n = Math.min(room(type), g.spec.InstanceCount);
          taken.set(type, (taken.get(type) ?? 0) + n);
          plan.push([g, type, n]);
          continue;
        }
      }
      const windowEnd = c.createdAt + this.launchAfter(c) + this.minimumWaitMs;
      if (g.spec.MinInstanceCount !== undefined && this.minimumWaitMs > 0) {
        // Its minimum may still come: the cluster stays Creating, looked at again on every settle, until the window
        // ends; its groups launch (and hold) what is free meanwhile.
        if (at < windowEnd) {
          c.minimumSince ??= at;
          this.launchWhatIsFree(c);
          return;
        }
        this.rollBack(c, windowEnd, minimumNotMetMessage(g.spec.InstanceGroupName, g.min), g.types[0]!);
        return;
      }
      this.rollBack(c, at, insufficientCapacityMessage(g.types[0]!, c.region), g.types[0]!);
      return;
    }
    for (const [g, type, n] of plan) if (n > 0) g.held.set(type, n);
    c.outcome = { ok: true, at };
    this.launchWhatIsFree(c); // a group that held part of its minimum takes the rest
  }

  private rollBack(c: SimCluster, at: number, message: string, instanceType: string): void {
    for (const g of c.groups) g.held.clear(); // a cluster rolled back holds nothing
    c.outcome = { ok: false, at, message };
    this.options.onShortage?.({ instanceType, region: c.region, clusterName: c.name });
  }

  /** The cluster's groups take what is free of their types, in order, up to their count. */
  private launchWhatIsFree(c: SimCluster): void {
    for (const g of c.groups) {
      let missing = g.spec.InstanceCount - heldOf(g);
      for (const type of g.types) {
        if (missing <= 0) break;
        const n = Math.min(missing, this.free(type, c.region));
        if (n > 0) {
          g.held.set(type, (g.held.get(type) ?? 0) + n);
          missing -= n;
        }
      }
    }
  }

  /** Groups below target take what is free, oldest cluster first, types in order. */
  private topUp(): void {
    for (const c of this.clusters.values()) if (this.growing(c)) this.launchWhatIsFree(c);
  }

  /** Applies, in time order, what the clock says has happened: launches, deletions finishing, top-ups. */
  settle(now = this.now()): void {
    const due: Array<{ at: number; c: SimCluster; kind: 'decide' | 'gone' }> = [];
    for (const c of this.clusters.values()) {
      if (c.deletingSince !== undefined) {
        if (c.deletingSince + this.deleteAfterMs <= now) due.push({ at: c.deletingSince + this.deleteAfterMs, c, kind: 'gone' });
      } else if (!c.outcome && !c.failure && c.createdAt + this.launchAfter(c) <= now) {
        // A cluster waiting for its minimum is decided again now (or at the end of its window, when that has passed).
        const launch = c.createdAt + this.launchAfter(c);
        const at = c.minimumSince === undefined ? launch : Math.min(now, launch + this.minimumWaitMs);
        due.push({ at, c, kind: 'decide' });
      }
    }
    due.sort((a, b) => a.at - b.at || a.c.seq - b.c.seq);
    for (const event of due) {
      if (event.kind === 'gone')
        this.clusters.delete(keyOf(event.c.region, event.c.name)); // its capacity is free again
      else this.decide(event.c, event.at);
      this.topUp();
    }
    this.topUp();
  }

  // ---- clusters ----

  /** The cluster of a call: by name, or by ARN, in the call's region. */
  find(nameOrArn: string, region: string): SimCluster | undefined {
    this.settle();
    if (CLUSTER_ARN.test(nameOrArn)) return this.inRegion(region).find((c) => c.arn === nameOrArn);
    return this.clusters.get(keyOf(region, nameOrArn));
  }

  /** For control calls: the given region; else by ARN anywhere; else the default region, else the only cluster of that name. */
  locate(nameOrArn: string, region?: string): SimCluster | undefined {
    if (region !== undefined) return this.find(nameOrArn, region);
    this.settle();
    if (CLUSTER_ARN.test(nameOrArn)) return [...this.clusters.values()].find((c) => c.arn === nameOrArn);
    const named = this.clusters.get(keyOf(this.defaultRegion, nameOrArn));
    if (named) return named;
    const anywhere = [...this.clusters.values()].filter((c) => c.name === nameOrArn);
    return anywhere.length === 1 ? anywhere[0] : undefined;
  }

  /** The clusters that exist (any status, not yet gone), in creation order; of one region when given. */
  list(region?: string): SimCluster[] {
    return region === undefined ? [...this.clusters.values()] : this.inRegion(region);
  }

  /**
   * CreateCluster, validated already: ResourceInUse when the name is taken, ResourceLimitExceeded over the quota;
   * else the cluster is `Creating`. Returns its ARN.
   */
  create(body: Record<string, unknown>, region: string): string {
    const name = body.ClusterName as string;
    if (this.find(name, region)) throw new AwsError('ResourceInUse', `Cluster with name ${name} already exists. Choose a different name.`);
    const specs = (body.InstanceGroups as InstanceGroupSpec[] | undefined) ?? [];
    const charged = this.checkQuota(region, specs);
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
    do arn = `arn:${partitionOf(region)}:sagemaker:${region}:${this.accountId}:cluster/${randomBytes(8).toString('hex').slice(0, 12)}`;
    while ([...this.clusters.values()].some((c) => c.arn === arn));
    const { ClusterName: _n, InstanceGroups: _g, Tags, ...extra } = body;
    this.seq += 1;
    this.clusters.set(keyOf(region, name), {
      seq: this.seq,
      name,
      arn,
      region,
      createdAt: this.now(),
      groups,
      tags: (Tags as Tag[] | undefined) ?? [],
      extra,
    });
    return arn;
  }

  /** DeleteCluster: the cluster is Deleting (again: a second delete is accepted) and gone `deleteAfterMs` later. */
  startDeleting(c: SimCluster): void {
    c.deletingSince ??= this.now();
  }

  /** The quota check of CreateCluster: charges each group to a type (a flexible group to the first that fits). */
  private checkQuota(region: string, specs: InstanceGroupSpec[]): string[] {
    const delta = new Map<string, number>();
    const fits = (type: string, n: number): boolean =>
      this.usage(type, region) + (delta.get(type) ?? 0) + n <= this.quotas.get(type, region);
    const charged = specs.map((spec) => {
      const types = spec.InstanceRequirements?.InstanceTypes ?? [spec.InstanceType!];
      const type = types.find((t) => fits(t, spec.InstanceCount)) ?? types[0]!;
      delta.set(type, (delta.get(type) ?? 0) + spec.InstanceCount);
      return type;
    });
    for (const [type, n] of delta) {
      const limit = this.quotas.get(type, region);
      const used = this.usage(type, region);
      if (used + n > limit) throw new AwsError('ResourceLimitExceeded', quotaExceededMessage(type, limit, used, n));
    }
    return charged;
  }

  /** The creation time after the create, and never sooner after the launch than the creation time takes after it. */
  private inServiceAt(c: SimCluster, launchedAt: number): number {
    return Math.max(c.createdAt + this.readyAfter(c), launchedAt + this.readyAfter(c) - this.launchAfter(c));
  }

  statusOf(c: SimCluster, now: number): ClusterStatus {
    if (c.deletingSince !== undefined) return 'Deleting';
    if (c.failure) return c.failure.status;
    if (c.outcome?.ok === false) return now - c.outcome.at < this.rollbackMs ? 'RollingBack' : 'Failed';
    return c.outcome?.ok && now >= this.inServiceAt(c, c.outcome.at) ? 'InService' : 'Creating';
  }

  /** What DescribeCluster reports of what a group holds: everything, except during `nodesLagMs` after the launch. */
  private reportedCount(c: SimCluster, held: number, now: number): number {
    if (!c.outcome?.ok || this.nodesLagMs <= 0) return held;
    const age = now - c.outcome.at;
    if (age >= this.nodesLagMs) return held;
    return Math.max(0, Math.min(held - 1, Math.floor(held * (age / this.nodesLagMs))));
  }

  private describeGroup(c: SimCluster, g: GroupState, status: ClusterStatus, now: number): Record<string, unknown> {
    const { spec } = g;
    const current = this.reportedCount(c, heldOf(g), now);
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
  }

  /** The DescribeCluster answer for a cluster. */
  describe(c: SimCluster, now = this.now()): Record<string, unknown> {
    const status = this.statusOf(c, now);
    const failureMessage = c.failure?.message ?? (c.outcome?.ok === false ? c.outcome.message : undefined);
    const echoed = Object.fromEntries(ECHOED_MEMBERS.filter((m) => c.extra[m] !== undefined).map((m) => [m, c.extra[m]]));
    return {
      ClusterArn: c.arn,
      ClusterName: c.name,
      ClusterStatus: status,
      CreationTime: c.createdAt / 1000,
      ...(failureMessage !== undefined ? { FailureMessage: failureMessage } : {}),
      InstanceGroups: c.groups.map((g) => this.describeGroup(c, g, status, now)),
      ...echoed,
    };
  }

  /**
   * The groups of Continuous-mode clusters whose capacity question was answered (launched, or waiting for a minimum)
   * that are below their target while none of their types has a free instance.
   */
  shortGroups(): ShortGroup[] {
    const short: ShortGroup[] = [];
    for (const c of this.clusters.values()) {
      if (c.extra.NodeProvisioningMode !== 'Continuous' || c.failure || c.deletingSince !== undefined || c.outcome?.ok === false) continue;
      if (!c.outcome && c.minimumSince === undefined) continue; // not yet decided
      for (const g of c.groups) {
        const held = heldOf(g);
        if (held >= g.spec.InstanceCount || g.types.some((t) => this.free(t, c.region) > 0)) continue;
        short.push({ cluster: c, group: g, held });
      }
    }
    return short;
  }

  // ---- control ----

  /** Nodes of a type in one region, or (without region) in every region that has no value of its own. */
  setCapacity(type: string, nodes: number, region?: string): void {
    this.settle(); // what happened before the change happened with the old capacity
    this.capacity.set(type, nodes, region);
    this.capacityChanges.delete(changeKey(type, region)); // re-inserted last: the order to apply them in
    this.capacityChanges.set(changeKey(type, region), { instanceType: type, ...(region !== undefined ? { region } : {}), nodes });
    this.persist();
  }

  /** The "<type> for cluster usage" limit in one region, or (without region) in every region that has no value of its own. */
  setQuota(type: string, limit: number, region?: string): void {
    this.quotas.set(type, limit, region);
    this.quotaChanges.delete(changeKey(type, region));
    this.quotaChanges.set(changeKey(type, region), { instanceType: type, ...(region !== undefined ? { region } : {}), limit });
    this.persist();
  }

  /** Marks the cluster Failed (or RollingBack) with this FailureMessage and releases what it holds. */
  failCluster(c: SimCluster, message: string, status: 'Failed' | 'RollingBack'): void {
    c.failure = { status, message };
    for (const g of c.groups) g.held.clear(); // a failed cluster holds no instances
  }

  /** The clusters that exist, for tests. */
  summaries(region?: string): SimulatedClusterSummary[] {
    const now = this.now();
    this.settle(now);
    return this.list(region).map((c) => {
      const held: Record<string, number> = {};
      for (const g of c.groups) for (const [type, n] of g.held) held[type] = (held[type] ?? 0) + n;
      return { name: c.name, arn: c.arn, region: c.region, status: this.statusOf(c, now), held };
    });
  }
}

const keyOf = (region: string, name: string): string => `${region}/${name}`;
const changeKey = (type: string, region?: string): string => `${region ?? '*'} ${type}`;

/** Instances a group holds, of every type. */
export const heldOf = (g: GroupState): number => sum(g.held.values());

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

export const partitionOf = (region: string): string =>
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

/**
 * The FailureMessage of a roll back for a MinInstanceCount not met in time. HyperPod documents the roll back, not its
 * wording: this one is an assumption (docs/providers.md).
 */
export const minimumNotMetMessage = (group: string, min: number): string =>
  `Instance group ${group} did not reach its MinInstanceCount of ${min} instances in time and was rolled back.`;

/** EC2's wording in the published Cluster Event example ("cluster events reference"). */
export const clusterEventCapacityMessage = (instanceType: string): string =>
  `We currently do not have sufficient capacity to launch new ${instanceType} instances. Please try again.`;

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
