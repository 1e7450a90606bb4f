/** GET /clusters/{requestId}: the record, or 404 (also when the caller is neither its owner nor an admin). */
import { canAccess, principalOf } from '../../core/access';
import { RecordNotFoundError } from '../../core/errors';
import type { ClusterStore } from '../../core/store';
import { recordView } from '../../core/view';
import { adminPrincipals } from '../../wiring/access';
import { clusterStore } from '../../wiring/store';
import { callerArnOf, httpHandler, json, requestIdParam } from '../../platform/middleware/http';

export const makeHandler = (store: () => ClusterStore, admins: () => readonly string[] = adminPrincipals) =>
  httpHandler('httpGet', async (event) => {
    const requestId = requestIdParam(event);
    const record = await store().get(requestId);
    // Someone else's request is answered like an unknown one: its existence is not revealed.
    if (!record || !canAccess(record, principalOf(callerArnOf(event)), admins()))
      throw new RecordNotFoundError(`No cluster request ${requestId}`);
    return json(200, recordView(record));
  });

export const handler = makeHandler(clusterStore);
