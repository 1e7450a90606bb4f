/** DELETE /clusters/{requestId}: 202 and the delete workflow; 404 unknown; 409 not deletable (not READY / FAILED). */
import { requestDeletion, type SubmitDeps } from '../../core/submit';
import { recordView } from '../../core/view';
import { submitDeps } from '../../shared/deps/submit';
import { httpHandler, json, requestIdParam } from '../../shared/http';
import { logger } from '../../shared/observability';

export const makeHandler = (deps: () => SubmitDeps) =>
  httpHandler('httpDelete', async (event) => {
    const requestId = requestIdParam(event);
    logger.appendKeys({ requestId });
    const record = await requestDeletion(deps(), requestId);
    return json(202, { requestId, status: record.status, cluster: recordView(record) }, { location: `/clusters/${requestId}` });
  });

export const handler = makeHandler(submitDeps);
