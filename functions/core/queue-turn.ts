/**
 * The turn of an offering's queue: when it passes on, and to how many.
 *
 * A request in an offering's queue holds its turn until the provider has answered the capacity question for its
 * cluster. A provider that refuses a create it has no capacity for (TIR) answers it at create. HyperPod accepts the
 * create and answers later: the cluster's instances are launched (its instance groups' `CurrentCount` reaches what the
 * cluster needs while it is still `Creating`), or it rolls back for capacity. The turn passes on at that answer, not at
 * READY: the lifecycle scripts and health checks that make up most of a creation no longer hold up the requests
 * behind it.
 *
 * Passing the turn on after a HyperPod success widens the offering's window (a provider that refuses a create without
 * capacity needs none: the next request is woken and answered at once), doubling up to `QueueWindowMax`: the next
 * waiting requests then try together, in submit order, and a burst of freed capacity is taken in a few rounds. The
 * first roll back for capacity sets the window back to one probe per interval (`narrow`), and only a success whose
 * create was sent after that widens it again (`widenedFor`, ./offerings.ts). A window of `w` costs at most `w - 1`
 * extra failed attempts (accepted creates that roll back, on HyperPod) per shortage it runs into.
 */
import type { OfferingMemory } from './offerings';
import type { ClusterDescription } from './provider';
import type { ClusterRecord } from './store';
import { wakeRequest, type TaskWaker } from './wake';

/** The window's cap when the policy sets none. */
export const DEFAULT_QUEUE_WINDOW_MAX = 16;

/** The cap of an offering's window (1: strictly one request at a time). */
export const windowMax = (policy: { QueueWindowMax?: number } | undefined): number =>
  policy?.QueueWindowMax !== undefined && policy.QueueWindowMax >= 1 ? Math.floor(policy.QueueWindowMax) : DEFAULT_QUEUE_WINDOW_MAX;

/**
 * Whether the cluster, still being created, shows the instances it needs launched: every instance group at its
 * minimum (`MinInstanceCount`) or, without one, at its target. HyperPod's DescribeCluster counts a group's launched
 * instances in `CurrentCount` while the cluster is `Creating` (an assumption the API reference does not state: it
 * says "the number of instances that are currently in the instance group"); a provider that reports no groups is
 * judged by its node count.
 */
export const instancesLaunched = (description: ClusterDescription): boolean => {
  if (description.state !== 'CREATING' && description.state !== 'READY') return false;
  const groups = description.groups ?? [];
  if (groups.length > 0) return groups.every((g) => g.target > 0 && g.current >= (g.min ?? g.target));
  return description.nodes.target > 0 && description.nodes.current >= description.nodes.target;
};

/** Whether the capacity question of the record's current cluster was answered already (its instances launched). */
export const capacityAnswered = (record: ClusterRecord): boolean =>
  record.launched !== undefined && record.launched.providerId === record.providerId;

/**
 * The wait before the next poll of a cluster whose request may hold a queue's turn (it queued on the offering and its
 * capacity question is open): half as long again as the last, up to twice the queue's probe interval (30 s, 45 s, 60 s,
 * … by default), so the turn passes on within a minute of the launch for a few describes.
 */
export const turnPollWait = (
  record: ClusterRecord,
  waitSeconds: number,
  lastWaitSeconds: number,
  probeSeconds: number | undefined,
  heldTurn: boolean,
): number =>
  heldTurn && probeSeconds !== undefined && probeSeconds > 0 && !capacityAnswered(record)
    ? Math.max(1, Math.min(waitSeconds, Math.ceil(lastWaitSeconds * 1.5), Math.ceil(2 * probeSeconds)))
    : waitSeconds;

export interface TurnDeps {
  offerings?: OfferingMemory;
  waker?: TaskWaker;
  store: Parameters<typeof wakeRequest>[0]['store'];
  now: () => Date;
}

/**
 * A request got capacity on the offerings with a create sent at `createdAt`: they are no longer short for anyone, and
 * their windows widen (when the create was sent after they were last narrowed).
 */
export const gotCapacity = async (
  deps: Pick<TurnDeps, 'offerings'>,
  keys: readonly string[],
  max: number,
  createdAt: string | undefined,
): Promise<void> => {
  if (!deps.offerings || keys.length === 0) return;
  await deps.offerings.forget(keys);
  await deps.offerings.widen?.(keys, max, createdAt);
};

/**
 * The request leaves the queues of `keys`, and every request whose turn it now is (the offering's window, in submit
 * order; a memory without windows: the head) is woken, so it tries without waiting out its own backoff. A woken
 * request that finds the offering short again parks without a provider call.
 */
export const leaveQueuesOf = async (deps: TurnDeps, requestId: string, keys: readonly string[]): Promise<void> => {
  const memory = deps.offerings;
  if (!memory?.dequeue || keys.length === 0) return;
  await memory.dequeue(keys, requestId);
  if (!deps.waker) return;
  const now = deps.now();
  const turns = new Set<string>();
  for (const key of keys) {
    if (memory.turns) for (const w of await memory.turns(key, now)) turns.add(w.requestId);
    else if (memory.head) {
      const head = await memory.head(key, now);
      if (head) turns.add(head.requestId);
    }
  }
  for (const next of turns) {
    await wakeRequest({ store: deps.store, waker: deps.waker, now: deps.now }, next, `${requestId} left the queue`, 'retry');
  }
};
