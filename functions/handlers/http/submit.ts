/**
 * POST /clusters: 202 for a new request (Location header), 200 for an idempotent replay. The caller's principal is
 * recorded as the request's owner; a replay of a request the caller may not read is a 409, like a reused requestId.
 * `?dryRun=true`: the same validation, then 200 with the pre-flight plan (docs/plan.md), nothing recorded; a request
 * whose plan ran first (`preflight`) and failed is a 422 naming the failed checks.
 */
import { canAccess, principalOf } from '../../core/access';
import { PreflightFailedError, RecordConflictError, RequestValidationError } from '../../core/errors';
import type { SubmitDeps } from '../../core/submit';
import { acceptRequest, submitRequest } from '../../core/submit';
import { recordView } from '../../core/view';
import { adminPrincipals } from '../../wiring/access';
import { submitDeps } from '../../wiring/submit';
import { callerArnOf, HttpError, httpHandler, json } from '../../platform/middleware/http';
import { logger } from '../../platform/observability';

export const makeHandler = (deps: () => SubmitDeps, admins: () => readonly string[] = adminPrincipals) =>
  httpHandler(
    'httpSubmit',
    async (event) => {
      const conflict = (message: string) => new HttpError(409, 'Conflict', message, [{ path: '/requestId', message }]);
      // ?dryRun=true: the pre-flight plan (functions/core/plan.ts), after the same validation; nothing recorded.
      if (dryRunOf(event.queryStringParameters?.dryRun)) return json(200, await dryRun(deps(), event.body));
      const caller = principalOf(callerArnOf(event));
      const { created, record } = await submitRequest(deps(), event.body, caller).catch((err: unknown) => {
        // A requestId already used by another request: the 409 names the field, like the intake's rejection event.
        if (err instanceof RecordConflictError) throw conflict(err.message);
        // The plan ran first (`preflight`) and a check failed: nothing recorded, nothing created.
        if (err instanceof PreflightFailedError)
          throw new HttpError(422, 'PreflightFailed', 'The pre-flight plan failed; nothing was recorded or created', err.errors);
        throw err;
      });
      // The same request recorded by someone else: its record is not shown, the id is just taken.
      if (!created && !canAccess(record, caller, admins())) throw conflict(`requestId ${record.requestId} is already used`);
      logger.appendKeys({ requestId: record.requestId });
      logger.info(created ? 'Request accepted' : 'Request replayed', { status: record.status, provider: record.provider });
      const location = `/clusters/${record.requestId}`;
      return json(created ? 202 : 200, { requestId: record.requestId, status: record.status, cluster: recordView(record) }, { location });
    },
    { jsonBody: true },
  );

/** `dryRun`: absent or `false` submits, `true` plans; anything else is a 400 naming the parameter. */
const dryRunOf = (value: string | undefined): boolean => {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new HttpError(400, 'ValidationFailed', 'The query is invalid', [
    { path: '/queryStringParameters/dryRun', message: 'must be true or false' },
  ]);
};

/** Validates like submit (400 with pointers), then asks the plan function; when it cannot answer, a 503. */
const dryRun = async (deps: SubmitDeps, body: unknown) => {
  const request = acceptRequest(deps, body);
  const unavailable = (why: string) => new HttpError(503, 'PlanUnavailable', `The pre-flight plan is not available: ${why}`);
  if (!deps.planner) throw unavailable('no plan function is configured');
  const report = await deps.planner.plan(request).catch((err: unknown) => {
    if (err instanceof RequestValidationError) throw err;
    throw unavailable((err as Error).message);
  });
  logger.appendKeys({ requestId: request.requestId });
  logger.info('Plan answered', { ok: report.ok, ...report.summary });
  return report;
};

export const handler = makeHandler(submitDeps);
