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
import { releaseScheduled, requestDeletion, type ProvisionScheduler, type SubmitDeps, type WorkflowStarter } from './submit';
import type { TeardownScheduler } from './workflow';

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
}

export type ReconcileAction = 'resumed' | 'started' | 'rescheduled' | 'teardown-rescheduled' | 'running' | 'recent';

export interface ReconcileReport {
  checked: number;
  actions: Array<{ requestId: string; status: ClusterStatus; action: ReconcileAction; executionArn?: string }>;
}

/** Statuses that need a workflow (or a schedule) behind them. READY is here for its deleteAfter teardown. */
const WATCHED: readonly ClusterStatus[] = ['SCHEDULED', 'ACCEPTED', 'CREATING', 'WAITING_FOR_CAPACITY', 'DELETING', 'READY'];

const DEFAULT_GRACE_SECONDS = 60;

/** Checks every record that should have something running for it, and resumes what does not. Safe to run twice. */
export const reconcile = async (deps: ReconcileDeps): Promise<ReconcileReport> => {
  const now = (deps.now ?? (() => new Date()))();
  const grace = (deps.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
  const report: ReconcileReport = { checked: 0, actions: [] };
  for (const status of WATCHED) {
    let cursor: string | undefined;
    do {
      const page = await deps.store.list({ status, limit: 100, ...(cursor ? { cursor } : {}) });
      for (const listed of page.items) {
        report.checked++;
        // The index is eventually consistent: act on the record as it is now.
        const record = await deps.store.get(listed.requestId);
        if (!record || record.status !== status) continue;
        const action = await reconcileOne(deps, record, now, grace);
        if (action) report.actions.push({ requestId: record.requestId, status, ...action });
      }
      cursor = page.cursor;
    } while (cursor);
  }
  return report;
};

const reconcileOne = async (
  deps: ReconcileDeps,
  record: ClusterRecord,
  now: Date,
  grace: number,
): Promise<{ action: ReconcileAction; executionArn?: string } | undefined> => {
  // The record was read just now, possibly after this run began: age it against the present, not the run's start.
  const age = (deps.now ?? (() => new Date()))().getTime() - Date.parse(record.updatedAt);
  if (grace > 0 && age < grace) return record.status === 'READY' ? undefined : { action: 'recent' };
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
