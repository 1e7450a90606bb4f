/** POST /clusters: 202 for a new request (Location header), 200 for an idempotent replay. */
import type { SubmitDeps } from '../../core/submit';
import { submitRequest } from '../../core/submit';
import { recordView } from '../../core/view';
import { submitDeps } from '../../wiring/submit';
import { httpHandler, json, readJsonBody } from '../../platform/middleware/http';
import { logger } from '../../platform/observability';

export const makeHandler = (deps: () => SubmitDeps) =>
  httpHandler('httpSubmit', async (event) => {
    const { created, record } = await submitRequest(deps(), readJsonBody(event));
    logger.appendKeys({ requestId: record.requestId });
    logger.info(created ? 'Request accepted' : 'Request replayed', { status: record.status, provider: record.provider });
    const location = `/clusters/${record.requestId}`;
    return json(created ? 202 : 200, { requestId: record.requestId, status: record.status, cluster: recordView(record) }, { location });
  });

export const handler = makeHandler(submitDeps);
