/**
 * The plan function: invoked synchronously (Lambda Invoke, RequestResponse) by the submit path for
 * `POST /clusters?dryRun=true` and for a submit that asks for the plan first (`preflight`). Event `{ request }`;
 * answers `{ report }` (functions/core/plan.ts), or `{ invalid: errors }` when the request does not pass the gate
 * submit applies (the caller has applied it already: this only guards a direct invoke). Reads only; records and
 * creates nothing. One log line with the counts, never the request.
 */
import type { Context } from 'aws-lambda';
import { RequestValidationError } from '../core/errors';
import { planAccepted, type PlanAnswer, type PlanDeps } from '../core/plan';
import type { DeploymentPolicy } from '../core/policy';
import { acceptRequest } from '../core/submit';
import { asyncHandler } from '../platform/middleware/async';
import { logger } from '../platform/observability';
import { planDeps } from '../wiring/plan';

export const makeHandler = (deps: () => PlanDeps & { policy?: DeploymentPolicy }) =>
  asyncHandler<{ request?: unknown }, PlanAnswer>('plan', async (event: { request?: unknown }, _context: Context) => {
    const d = deps();
    let request: ReturnType<typeof acceptRequest>;
    try {
      request = acceptRequest(d, event?.request);
    } catch (err) {
      if (err instanceof RequestValidationError) return { invalid: err.errors };
      throw err;
    }
    logger.appendKeys({ requestId: request.requestId });
    const report = await planAccepted(d, request);
    logger.info('Plan made', { ok: report.ok, placements: report.placements.length, ...report.summary });
    return { report };
  });

export const handler = makeHandler(planDeps);
