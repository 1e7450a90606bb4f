/**
 * DELETE /clusters/{requestId}: 202 and the delete workflow; 200 when a SCHEDULED request is cancelled; 404 unknown;
 * 409 not deletable (being provisioned, or already deleted).
 */
import { requestDeletion, type SubmitDeps } from '../../core/submit';
import { recordView } from '../../core/view';
import { submitDeps } from '../../wiring/submit';
import { httpHandler, json, requestIdParam } from '../../platform/middleware/http';
import { logger } from '../../platform/observability';

export const makeHandler = (deps: () => SubmitDeps) =>
  httpHandler('httpDelete', async (event) => {
    const requestId = requestIdParam(event);
    logger.appendKeys({ requestId });
    const record = await requestDeletion(deps(), requestId);
    // 200 when a SCHEDULED request was simply cancelled; 202 when a delete workflow now runs.
    const status = record.status === 'DELETED' ? 200 : 202;
    return json(status, { requestId, status: record.status, cluster: recordView(record) }, { location: `/clusters/${requestId}` });
  });

export const handler = makeHandler(submitDeps);
