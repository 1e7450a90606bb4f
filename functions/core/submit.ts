/**
 * The one submit path. HTTP, SQS, EventBridge and the schedules all call `submitRequest`:
 *   validate -> record ACCEPTED (or SCHEDULED) with a conditional put on requestId -> start the execution named by
 *   the requestId.
 * The same id with the same canonical request is a replay and returns the existing record; the same id with another
 * request is a RecordConflictError. A failed start leaves the record ACCEPTED, and a replay starts it again (the
 * execution name makes the start itself idempotent), so a retry always goes through.
 */
import { placementsOf } from './placements';
import { PreflightFailedError, RecordConflictError, RequestValidationError } from './errors';
import { clusterNameOf, requestHash, withRequestId, type ProvisionRequest } from './request';
import { MAX_HORIZON_SECONDS } from './capacity';
import { checkPolicy } from './policy';
import type { ClusterRecord } from './store';
import { parseRequest } from './validate';
import { failuresOf, type Planner } from './plan';
import { startProvisioning, type SubmitDeps } from './release';

// What follows a recorded request reads no request body: ./release.ts, which bundles that only release, cancel or
// delete import directly, without the request validator.
export { releaseScheduled, requestDeletion, type ProvisionScheduler, type SubmitDeps, type WorkflowStarter } from './release';

export interface SubmitResult {
  /** false: an idempotent replay of a request already recorded. */
  created: boolean;
  record: ClusterRecord;
}

/** A startAt closer than this is treated as now: a schedule that close would fire late anyway. */
const SCHEDULE_THRESHOLD_MS = 60_000;
/** How far ahead a startAt may be: a year (and a day for leap years) is plenty for planning a training run. */
const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3600_000;

/**
 * Settles what the contract leaves to the deployment (the region), then the requestId. `$schema` (an editor's hint in
 * the examples) is not part of the request and is not recorded.
 */
export const normalizeRequest = (request: ProvisionRequest, defaultRegion: string) => {
  // `preflight` says how to submit, not what to provision: it is not recorded, and not part of the request's hash.
  const { $schema: _hint, preflight: _preflight, ...rest } = request as ProvisionRequest & { preflight?: boolean };
  let filled: ProvisionRequest = rest.provider === 'sagemaker' && rest.region === undefined ? { ...rest, region: defaultRegion } : rest;
  const alternatives = filled.alternatives;
  if (alternatives?.some((a) => a.provider === 'sagemaker' && a.region === undefined)) {
    // An alternative on HyperPod that names no region means the deployment's, like the request itself.
    const regioned = alternatives.map((a) => (a.provider === 'sagemaker' && a.region === undefined ? { ...a, region: defaultRegion } : a));
    filled = { ...filled, alternatives: regioned };
  }
  return withRequestId(filled);
};

export const newRecord = (
  request: ProvisionRequest & { requestId: string },
  now: Date,
  scheduledFor?: Date,
  owner?: string,
): ClusterRecord => {
  const at = now.toISOString();
  const status = scheduledFor ? 'SCHEDULED' : 'ACCEPTED';
  const where =
    request.provider === 'sagemaker'
      ? { region: request.region }
      : {
          projectId: request.projectId,
          location: request.location,
          ...(request.activeIam !== undefined ? { activeIam: request.activeIam } : {}),
        };
  return {
    requestId: request.requestId,
    ...(owner !== undefined ? { owner } : {}),
    provider: request.provider,
    ...where,
    clusterName: clusterNameOf(request),
    status,
    attempts: 0,
    requestHash: requestHash(request),
    request: request as unknown as Record<string, unknown>,
    ...(scheduledFor ? { scheduledFor: scheduledFor.toISOString() } : {}),
    ...(request.deleteAfter ? { deleteAfter: request.deleteAfter } : {}),
    // Where it may land, resolved once (patches applied): the workflow tries them in order.
    ...(request.alternatives?.length ? { placements: placementsOf(request, '') } : {}),
    acceptedAt: at,
    updatedAt: at,
    history: [{ to: status, at, reason: scheduledFor ? `scheduled for ${scheduledFor.toISOString()}` : 'request accepted' }],
  };
};

/**
 * Validates and records the request and starts (or schedules) its provisioning. Throws RequestValidationError.
 * `owner` is recorded on a new record (functions/core/access.ts); a replay returns the record as it is, whoever owns
 * it: the caller decides what a replay by someone else means.
 */
export const submitRequest = async (deps: SubmitDeps, input: unknown, owner?: string): Promise<SubmitResult> => {
  const parsed = parseRequest(input);
  // The deployment's allow-lists: a role, bucket or region it does not allow is refused before anything is recorded.
  const denied = deps.policy ? checkPolicy(deps.policy, parsed, deps.defaultRegion) : [];
  if (denied.length > 0) throw new RequestValidationError(denied);
  const request = normalizeRequest(parsed, deps.defaultRegion);
  const now = (deps.now ?? (() => new Date()))();
  // A replay (redelivery, client retry) is answered from the record, whatever the clock says now: the clock-dependent
  // rules below judged it when it was first accepted.
  const existing = await deps.store.get(request.requestId);
  if (existing && existing.requestHash === requestHash(request)) return continueRecorded(deps, existing, false, now);
  checkClock(request, now);
  const startAt = request.startAt ? new Date(request.startAt) : undefined;
  const scheduledFor = startAt && startAt.getTime() - now.getTime() > SCHEDULE_THRESHOLD_MS ? startAt : undefined;
  if (scheduledFor && !deps.scheduler) throw new RecordConflictError('Scheduled provisioning (startAt) is not available here');
  // The plan first, when asked (nothing awaited otherwise: a submit without it is exactly as before).
  if (deps.planner && ((parsed as { preflight?: boolean }).preflight ?? deps.preflightByDefault ?? false))
    await preflight(deps.planner, request);

  const { created, record } = await deps.store.create(newRecord(request, now, scheduledFor, owner));
  if (!created && record.requestHash !== requestHash(request)) {
    throw new RecordConflictError(`requestId ${request.requestId} is already used by a different request`);
  }
  return continueRecorded(deps, record, created, now);
};

/**
 * The rules that depend on the clock (not in validate), checked before anything is recorded or scheduled: a startAt at
 * most 366 days ahead; a retry.until after the first attempt can start, and at most P14D after it.
 */
export const checkClock = (request: ProvisionRequest, now: Date): void => {
  const startAt = request.startAt ? new Date(request.startAt) : undefined;
  if (startAt && startAt.getTime() - now.getTime() > MAX_SCHEDULE_AHEAD_MS) {
    throw new RequestValidationError([{ path: '/startAt', message: 'must be at most 366 days from now' }]);
  }
  const until = (request as { retry?: { until?: string } }).retry?.until;
  if (until !== undefined) {
    const from = Math.max(now.getTime(), startAt?.getTime() ?? 0);
    const end = Date.parse(until);
    if (end <= from)
      throw new RequestValidationError([{ path: '/retry/until', message: `must be later than ${startAt ? 'startAt' : 'now'}` }]);
    if (end - from > MAX_HORIZON_SECONDS * 1000)
      throw new RequestValidationError([{ path: '/retry/until', message: `must be at most P14D after ${startAt ? 'startAt' : 'now'}` }]);
  }
};

/**
 * The gate of submit without the submit: the contract, the deployment's allow-lists and the clock rules (throws
 * RequestValidationError with pointers, as submit does), then the request as submit would record it. The dry run
 * (`POST /clusters?dryRun=true`) and the plan function use it.
 */
export const acceptRequest = (deps: Pick<SubmitDeps, 'defaultRegion' | 'policy' | 'now'>, input: unknown) => {
  const parsed = parseRequest(input);
  const denied = deps.policy ? checkPolicy(deps.policy, parsed, deps.defaultRegion) : [];
  if (denied.length > 0) throw new RequestValidationError(denied);
  const request = normalizeRequest(parsed, deps.defaultRegion);
  checkClock(request, (deps.now ?? (() => new Date()))());
  return request;
};

/**
 * Runs the plan first when the request asks (`preflight: true`) or the deployment does by default (`preflight: false`
 * opts out): any failed check refuses the request with PreflightFailedError before anything is recorded. A plan that
 * cannot be had at all (the plan function failed) does not block: like a skipped check, it is logged by the caller's
 * planner and the request goes on.
 */
const preflight = async (planner: Planner, request: ProvisionRequest): Promise<void> => {
  const report = await planner.plan(request).catch(() => undefined);
  if (report && !report.ok) throw new PreflightFailedError(failuresOf(report), report);
};

/** After the record is written (or found): schedule or start what it needs; a replay starts nothing new. */
const continueRecorded = async (deps: SubmitDeps, record: ClusterRecord, created: boolean, now: Date): Promise<SubmitResult> => {
  if (record.status === 'SCHEDULED') {
    await deps.scheduler?.scheduleProvisioning(record.requestId, new Date(record.scheduledFor ?? now.toISOString()));
    return { created, record };
  }
  if (record.status === 'ACCEPTED') {
    // New, or a replay whose start may have failed: starting again is safe, the execution name is the requestId.
    return { created, record: await startProvisioning(deps, record) };
  }
  return { created, record };
};
