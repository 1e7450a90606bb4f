/**
 * DELETE /clusters/{requestId}: 202 and the delete workflow; 200 when a SCHEDULED request is cancelled; 404 unknown;
 * 409 not deletable (already deleted). Someone else's request (neither owner nor admin) is a 404, like an unknown one.
 */
import { canAccess, principalOf } from '../../core/access';
import { requestDeletion, type SubmitDeps } from '../../core/release';
import { recordView } from '../../core/view';
import { adminPrincipals } from '../../wiring/access';
import { submitDeps } from '../../wiring/submit';
import { callerArnOf, httpHandler, json, requestIdParam } from '../../platform/middleware/http';
import { logger } from '../../platform/observability';

export const makeHandler = (deps: () => SubmitDeps, admins: () => readonly string[] = adminPrincipals) =>
  httpHandler('httpDelete', async (event) => {
    const requestId = requestIdParam(event);
    logger.appendKeys({ requestId });
    const caller = principalOf(callerArnOf(event));
    const record = await requestDeletion(deps(), requestId, undefined, (found) => canAccess(found, caller, admins()));
    // 200 when a SCHEDULED request was simply cancelled; 202 when a delete workflow now runs.
    const status = record.status === 'DELETED' ? 200 : 202;
    return json(status, { requestId, status: record.status, cluster: recordView(record) }, { location: `/clusters/${requestId}` });
  });

export const handler = makeHandler(submitDeps);
