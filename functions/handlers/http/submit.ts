/** POST /clusters: 202 for a new request (Location header), 200 for an idempotent replay. */
import { RecordConflictError } from '../../core/errors';
import type { SubmitDeps } from '../../core/submit';
import { submitRequest } from '../../core/submit';
import { recordView } from '../../core/view';
import { submitDeps } from '../../wiring/submit';
import { HttpError, httpHandler, json } from '../../platform/middleware/http';
import { logger } from '../../platform/observability';

export const makeHandler = (deps: () => SubmitDeps) =>
  httpHandler(
    'httpSubmit',
    async (event) => {
      const { created, record } = await submitRequest(deps(), event.body).catch((err: unknown) => {
        // A requestId already used by another request: the 409 names the field, like the intake's rejection event.
        if (err instanceof RecordConflictError)
          throw new HttpError(409, 'Conflict', err.message, [{ path: '/requestId', message: err.message }]);
        throw err;
      });
      logger.appendKeys({ requestId: record.requestId });
      logger.info(created ? 'Request accepted' : 'Request replayed', { status: record.status, provider: record.provider });
      const location = `/clusters/${record.requestId}`;
      return json(created ? 202 : 200, { requestId: record.requestId, status: record.status, cluster: recordView(record) }, { location });
    },
    { jsonBody: true },
  );

export const handler = makeHandler(submitDeps);
