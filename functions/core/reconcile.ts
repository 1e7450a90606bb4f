/**
 * The reconciler: nothing stays stuck. A record that is not final must have a workflow running for it; when its
 * execution died (a process killed, an execution stopped or timed out outside its Catch, a start that never happened),
 * the reconciler resumes it from the record's state. Every workflow's first step is idempotent on the record (create
 * answers CREATED for a recorded cluster and waits for a discarded one; delete answers gone for a cluster already
 * gone), so resuming is starting the same workflow again under a new execution name.
 *
 * Run every 5 minutes when deployed, at start and on an interval by the local stack, and on demand
 * (`provision reconcile`, `POST /reconcile`).
 */
import type { ClusterRecord, ClusterStatus, ClusterStore } from './store';
import { durationSeconds } from './duration';
import { releaseScheduled, requestDeletion, type ProvisionScheduler, type SubmitDeps, type WorkflowStarter } from './release';
import type { EventPublisher } from './events';
import type { ClusterProvider } from './provider';
import type { ProviderName } from './request';
import { DECISIVE_STATUSES, wakeRequest, type TaskWaker } from './wake';
import { announce, announcementPending, type TeardownScheduler } from './workflow';

export interface ExecutionInspector {
  /** Whether the execution runs now. An execution the service does not know is not running. */
  isRunning(executionArn: string): Promise<boolean>;
}

export interface ReconcileDeps {
  store: ClusterStore;
  starter: WorkflowStarter & ExecutionInspector;
  scheduler?: ProvisionScheduler & TeardownScheduler;
  now?: () => Date;
  /** A record written more recently than this is left alone (its submit may still be starting it). Default 60 s. */
  graceSeconds?: number;
  /** Records the sweep reads per run from the table itself (see SWEEP_LIMIT). */
  sweepLimit?: number;
  /** The bus, for completion events a dead workflow recorded but never put (without it they are left pending). */
  events?: { publisher: EventPublisher; busName: string };
  /**
   * Lost state-change events: the providers' one-call listing of their clusters' statuses, and the waker of parked
   * workflows. A workflow parked on a HyperPod cluster whose status changed without it hearing is woken.
   */
  watch?: { provider(name: ProviderName): ClusterProvider; waker: TaskWaker };
}

export type ReconcileAction = 'resumed' | 'started' | 'rescheduled' | 'teardown-rescheduled' | 'announced' | 'woken' | 'running' | 'recent';

export interface ReconcileReport {
  checked: number;
  actions: Array<{ requestId: string; status: ClusterStatus; action: ReconcileAction; executionArn?: string }>;
}

/**
 * Statuses that need a workflow (or a schedule) behind them. READY is here for its deleteAfter teardown and, with
 * FAILED and DELETED, for an announcement its workflow recorded but died before putting on the bus.
 */
const WATCHED: readonly ClusterStatus[] = [
  'SCHEDULED',
  'ACCEPTED',
  'CREATING',
  'WAITING_FOR_CAPACITY',
  'DELETING',
  'READY',
  'FAILED',
  'DELETED',
];
/** Final statuses are only looked at for pending announcements, among records accepted this recently (newest first). */
const FINAL_LOOKBACK_MS = 15 * 86_400_000;
const FINAL: readonly ClusterStatus[] = ['FAILED', 'DELETED'];

const DEFAULT_GRACE_SECONDS = 60;

/**
 * The sweep: besides the status index, every run reads the next SWEEP_LIMIT items of the table itself (a strongly
 * consistent Scan page resuming where the previous run stopped), so a record the index does not list under its status
 * (an eventually consistent index, or one a crash left out of step) is still found: the whole table is covered every
 * ceil(records / SWEEP_LIMIT) runs, at a bounded cost per run (one Scan page, one read and one write of the position).
 */
export const SWEEP_LIMIT = 200;

/** Checks every record that should have something running for it, and resumes what does not. Safe to run twice. */
export const reconcile = async (deps: ReconcileDeps): Promise<ReconcileReport> => {
  const now = (deps.now ?? (() => new Date()))();
  const grace = (deps.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
  const report: ReconcileReport = { checked: 0, actions: [] };
  const parked: ClusterRecord[] = [];
  const seen = new Set<string>();
  const check = async (record: ClusterRecord): Promise<void> => {
    seen.add(record.requestId);
    report.checked++;
    const action = await reconcileOne(deps, record, now, grace);
    if (action) report.actions.push({ requestId: record.requestId, status: record.status, ...action });
    if (record.status === 'CREATING' && action?.action === 'running' && record.parked?.purpose === 'poll') parked.push(record);
  };
  for (const status of WATCHED) {
    let cursor: string | undefined;
    do {
      const page = await deps.store.list({ status, limit: 100, ...(cursor ? { cursor } : {}) });
      // Final records are listed newest first: past the lookback (longer than any retry horizon) nothing is pending.
      const recent = FINAL.includes(status)
        ? page.items.filter((r) => now.getTime() - Date.parse(r.acceptedAt) < FINAL_LOOKBACK_MS)
        : page.items;
      if (recent.length < page.items.length) page.cursor = undefined;
      for (const listed of recent) {
        // The index is eventually consistent: act on the record as it is now (one listed under another status is
        // checked under the one it has, or by the sweep).
        const record = await deps.store.get(listed.requestId);
        if (!record || record.status !== status || seen.has(record.requestId)) continue;
        await check(record);
      }
      cursor = page.cursor;
    } while (cursor);
  }
  for (const record of (await deps.store.sweep?.(deps.sweepLimit ?? SWEEP_LIMIT)) ?? []) {
    if (seen.has(record.requestId) || (FINAL.includes(record.status) && !announcementPending(record))) continue;
    await check(record);
  }
  if (deps.watch) report.actions.push(...(await catchLostEvents(deps, deps.watch, parked)));
  return report;
};

/**
 * One listing per location for the parked workflows of providers that announce their state changes: a cluster whose
 * status changed to one that matters (or that is gone) while its workflow waits for the event is woken now. So a lost
 * event costs at most the reconciler's interval, and the workflow's own poll can wait until the deadline. A cluster
 * listed InService whose record is still CREATING is below its minimum (Continuous mode): it is woken on every run.
 */
const catchLostEvents = async (
  deps: ReconcileDeps,
  watch: NonNullable<ReconcileDeps['watch']>,
  parked: ClusterRecord[],
): Promise<ReconcileReport['actions']> => {
  const byLocation = new Map<string, ClusterRecord[]>();
  for (const record of parked) {
    // TIR announces nothing and is polled every 30 s: only HyperPod's parked workflows wait on an event.
    if (!record.providerId || record.provider !== 'sagemaker' || !watch.provider(record.provider).statuses) continue;
    const key = `${record.provider}#${record.region ?? record.location ?? ''}`;
    byLocation.set(key, [...(byLocation.get(key) ?? []), record]);
  }
  const actions: ReconcileReport['actions'] = [];
  for (const records of byLocation.values()) {
    const first = records[0]!;
    const provider = watch.provider(first.provider);
    let statuses: Map<string, string>;
    try {
      statuses = await provider.statuses!(
        first.provider === 'sagemaker'
          ? { provider: 'sagemaker', region: first.region ?? '' }
          : { provider: 'tir', projectId: first.projectId ?? 0, location: first.location ?? '' },
      );
    } catch {
      continue; // the provider did not answer: the next run (or the workflow's own poll) looks again
    }
    for (const record of records) {
      const status = statuses.get(record.providerId!);
      // InService while the record is still CREATING: the cluster is below its minimum (Continuous mode), and
      // nothing announces the instances HyperPod adds: its workflow describes it again.
      const belowMinimum = status === 'InService' && record.providerStatus === 'InService';
      if (!belowMinimum && status !== undefined && (status === record.providerStatus || !DECISIVE_STATUSES.has(status))) continue;
      const wakeDeps = { store: deps.store, waker: watch.waker, ...(deps.now ? { now: deps.now } : {}) };
      if (await wakeRequest(wakeDeps, record.requestId, belowMinimum ? 'InService below its minimum' : `listed ${status ?? 'gone'}`)) {
        actions.push({ requestId: record.requestId, status: record.status, action: 'woken' });
      }
    }
  }
  return actions;
};

const reconcileOne = async (
  deps: ReconcileDeps,
  fromList: ClusterRecord,
  now: Date,
  grace: number,
): Promise<{ action: ReconcileAction; executionArn?: string } | undefined> => {
  let record = fromList;
  // The record was read just now, possibly after this run began: age it against the present, not the run's start.
  const age = (deps.now ?? (() => new Date()))().getTime() - Date.parse(record.updatedAt);
  if (grace > 0 && age < grace) return record.status === 'READY' || FINAL.includes(record.status) ? undefined : { action: 'recent' };
  if (announcementPending(record)) {
    // The workflow recorded the outcome and died before the event went out (a live one puts it within seconds).
    const execution = record.status === 'DELETED' ? record.deleteExecutionArn : (record.deleteExecutionArn ?? record.executionArn);
    if (execution && (await deps.starter.isRunning(execution))) return { action: 'running' };
    if (!deps.events) return undefined;
    record = await announce(
      { store: deps.store, eventBusName: deps.events.busName, events: deps.events.publisher, ...(deps.now ? { now: deps.now } : {}) },
      record,
    );
    if (record.status !== 'READY') return { action: 'announced' };
  }
  if (FINAL.includes(record.status)) return undefined;
  const submitDeps: SubmitDeps = {
    store: deps.store,
    starter: deps.starter,
    defaultRegion: record.region ?? '',
    ...(deps.now ? { now: deps.now } : {}),
  };

  switch (record.status) {
    case 'SCHEDULED': {
      const due = record.scheduledFor === undefined || Date.parse(record.scheduledFor) <= now.getTime();
      if (due) {
        const started = await releaseScheduled(submitDeps, record.requestId);
        return { action: 'started', ...(started.executionArn ? { executionArn: started.executionArn } : {}) };
      }
      // Making the schedule again is idempotent: one that exists is kept.
      await deps.scheduler?.scheduleProvisioning(record.requestId, new Date(record.scheduledFor!));
      return { action: 'rescheduled' };
    }
    case 'READY': {
      if (!record.deleteAfter || !record.readyAt || !deps.scheduler) return undefined;
      const at = new Date(Date.parse(record.readyAt) + (durationSeconds(record.deleteAfter) ?? 0) * 1000);
      if (at.getTime() > now.getTime()) {
        await deps.scheduler.scheduleDeletion(record.requestId, at);
        return { action: 'teardown-rescheduled' };
      }
      // The teardown is overdue: the schedule fired into a failure or was lost. Start the deletion now.
      const deleting = await requestDeletion(submitDeps, record.requestId, 'deleteAfter elapsed (teardown resumed)');
      return { action: 'started', ...(deleting.deleteExecutionArn ? { executionArn: deleting.deleteExecutionArn } : {}) };
    }
    case 'DELETING': {
      if (record.deleteExecutionArn && (await deps.starter.isRunning(record.deleteExecutionArn))) return { action: 'running' };
      const resumes = (record.resumes ?? 0) + 1;
      const base = record.deleteExecutionArn?.split(':').pop() ?? `${record.requestId}-delete-1`;
      const { executionArn } = await deps.starter.startDeletion(record.requestId, `${base.replace(/-resume-\d+$/, '')}-resume-${resumes}`);
      await deps.store.update(record.requestId, { deleteExecutionArn: executionArn, resumes }, ['DELETING']);
      return { action: 'resumed', executionArn };
    }
    default: {
      // ACCEPTED, CREATING, WAITING_FOR_CAPACITY: the provision workflow.
      if (record.executionArn && (await deps.starter.isRunning(record.executionArn))) return { action: 'running' };
      const resumes = (record.resumes ?? 0) + 1;
      const { executionArn } = await deps.starter.startProvisioning(record.requestId, `${record.requestId}-resume-${resumes}`);
      await deps.store.update(record.requestId, { executionArn, resumes }, ['ACCEPTED', 'CREATING', 'WAITING_FOR_CAPACITY']);
      return { action: 'resumed', executionArn };
    }
  }
};
