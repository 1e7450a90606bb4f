/** GET /clusters/{requestId}: the record, or 404. */
import { RecordNotFoundError } from '../../core/errors';
import type { ClusterStore } from '../../core/store';
import { recordView } from '../../core/view';
import { clusterStore } from '../../wiring/store';
import { httpHandler, json, requestIdParam } from '../../platform/middleware/http';

export const makeHandler = (store: () => ClusterStore) =>
  httpHandler('httpGet', async (event) => {
    const requestId = requestIdParam(event);
    const record = await store().get(requestId);
    if (!record) throw new RecordNotFoundError(`No cluster request ${requestId}`);
    return json(200, recordView(record));
  });

export const handler = makeHandler(clusterStore);
