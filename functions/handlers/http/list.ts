/**
 * GET /clusters?status=&provider=&limit=&cursor=: a page of records, newest first. An admin sees every request; anyone
 * else only their own: the store filters by owner before it makes the page and its cursor (sealed, so it says nothing
 * of the records read past), reading at most a budget of records per call, so a page may hold fewer than `limit` items
 * (even none) while a cursor says more may follow.
 */
import { canAccess, isAdmin, principalOf } from '../../core/access';
import type { FieldError } from '../../core/errors';
import { PROVIDERS, type ProviderName } from '../../core/request';
import { STATUSES, type ClusterStatus, type ClusterStore, type ListQuery } from '../../core/store';
import { recordView } from '../../core/view';
import { adminPrincipals } from '../../wiring/access';
import { clusterStore } from '../../wiring/store';
import { callerArnOf, HttpError, httpHandler, json, type HttpEvent } from '../../platform/middleware/http';

const KNOWN = ['status', 'provider', 'limit', 'cursor'];

export const parseListQuery = (event: HttpEvent): ListQuery => {
  const q = event.queryStringParameters ?? {};
  const errors: FieldError[] = [];
  const at = (name: string) => `/queryStringParameters/${name}`;
  for (const name of Object.keys(q))
    if (!KNOWN.includes(name)) errors.push({ path: at(name), message: `is not a known parameter (${KNOWN.join(', ')})` });
  const query: ListQuery = {};
  if (q.status !== undefined) {
    if (STATUSES.includes(q.status as ClusterStatus)) query.status = q.status as ClusterStatus;
    else errors.push({ path: at('status'), message: `must be one of: ${STATUSES.join(', ')}` });
  }
  if (q.provider !== undefined) {
    if (PROVIDERS.includes(q.provider as ProviderName)) query.provider = q.provider as ProviderName;
    else errors.push({ path: at('provider'), message: `must be one of: ${PROVIDERS.join(', ')}` });
  }
  if (q.limit !== undefined) {
    const limit = Number(q.limit);
    if (/^\d+$/.test(q.limit) && limit >= 1 && limit <= 100) query.limit = limit;
    else errors.push({ path: at('limit'), message: 'must be an integer from 1 to 100' });
  }
  if (q.cursor !== undefined) {
    if (q.cursor.length > 0 && q.cursor.length <= 2048) query.cursor = q.cursor;
    else errors.push({ path: at('cursor'), message: 'must be a cursor returned by a previous page' });
  }
  // A bad cursor alone is the InvalidCursor the store answers for a cursor it did not issue.
  if (errors.length === 1 && errors[0]!.path === at('cursor'))
    throw new HttpError(400, 'InvalidCursor', 'The cursor is not one this service issued', errors);
  if (errors.length) throw new HttpError(400, 'ValidationFailed', 'The query is invalid', errors);
  return query;
};

export const makeHandler = (store: () => ClusterStore, admins: () => readonly string[] = adminPrincipals) =>
  httpHandler('httpList', async (event) => {
    const query = parseListQuery(event);
    const caller = principalOf(callerArnOf(event));
    const admin = isAdmin(caller, admins());
    if (!admin && caller === undefined) return json(200, { items: [] }); // no principal: owns nothing
    // Anyone but an admin lists their own records: the store filters before it makes the page and its cursor.
    const page = await store().list(admin ? query : { ...query, owner: caller });
    const items = admin ? page.items : page.items.filter((record) => canAccess(record, caller, admins()));
    return json(200, { items: items.map(recordView), ...(page.cursor ? { cursor: page.cursor } : {}) });
  });

export const handler = makeHandler(clusterStore);
