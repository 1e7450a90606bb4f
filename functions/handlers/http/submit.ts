/**
 * POST /clusters: 202 for a new request (Location header), 200 for an idempotent replay. The caller's principal is
 * recorded as the request's owner; a replay of a request the caller may not read is a 409, like a reused requestId.
 */
import { canAccess, principalOf } from '../../core/access';
import { RecordConflictError } from '../../core/errors';
import type { SubmitDeps } from '../../core/submit';
import { submitRequest } from '../../core/submit';
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
      const caller = principalOf(callerArnOf(event));
      const { created, record } = await submitRequest(deps(), event.body, caller).catch((err: unknown) => {
        // A requestId already used by another request: the 409 names the field, like the intake's rejection event.
        if (err instanceof RecordConflictError) throw conflict(err.message);
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

export const handler = makeHandler(submitDeps);
