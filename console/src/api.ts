/**
 * The console's client of the provisioner's HTTP API (the routes of functions/contract/routes.js), on the page's own
 * origin: the local stack serves the page beside the API; `provision console` serves it and forwards these calls to a
 * deployed API, signed. Every call carries the console's header, which the forwarding server requires (a page of
 * another origin cannot send it without a CORS preflight, which is never answered).
 */
import type { ClusterStatus } from '../../functions/contract/statuses.js';
import type { ShortOffering } from '../../functions/core/offerings';
import type { AttemptLogEntry, HistoryEntry, RecordedError } from '../../functions/core/store';
import type { ReservedSuggestion } from '../../functions/core/offers';
import type { ClusterView } from '../../functions/core/view';

import { CONSOLE_HEADER } from '../../functions/contract/routes.js';

export { CONSOLE_HEADER };
export type { AttemptLogEntry, HistoryEntry, RecordedError, ReservedSuggestion, ShortOffering };

/** What the console reads of a record (GET /clusters, GET /clusters/{requestId}): the API's own view of it. */
export type Cluster = ClusterView;

export interface BusEvent {
  DetailType: string;
  Time: string;
  Detail: Record<string, unknown>;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const call = async <T>(method: 'GET' | 'DELETE', path: string): Promise<T> => {
  let res: Response;
  try {
    res = await fetch(path, { method, headers: { accept: 'application/json', [CONSOLE_HEADER]: '1' }, cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'The API cannot be reached');
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { message: text.slice(0, 200) };
  }
  if (!res.ok) {
    const b = body as { code?: string; message?: string };
    throw new ApiError(res.status, `HTTP ${res.status}${b.code ? ` ${b.code}` : ''}: ${b.message ?? 'refused'}`);
  }
  return body as T;
};

/** Every request (newest first), following the cursor up to `max` records. */
export const listClusters = async (
  query: { status?: string; provider?: string },
  max = 300,
): Promise<{ items: Cluster[]; more: boolean }> => {
  const items: Cluster[] = [];
  let cursor: string | undefined;
  do {
    const params = new URLSearchParams({ limit: '100' });
    if (query.status) params.set('status', query.status);
    if (query.provider) params.set('provider', query.provider);
    if (cursor) params.set('cursor', cursor);
    const page = await call<{ items: Cluster[]; cursor?: string }>('GET', `/clusters?${params}`);
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor && items.length < max);
  return { items, more: cursor !== undefined };
};

export const getCluster = (requestId: string): Promise<Cluster> => call('GET', `/clusters/${encodeURIComponent(requestId)}`);

export const deleteCluster = (requestId: string): Promise<{ requestId: string; status: ClusterStatus }> =>
  call('DELETE', `/clusters/${encodeURIComponent(requestId)}`);

export const listShortOfferings = (): Promise<{ at: string; items: ShortOffering[] }> => call('GET', '/offerings');

/**
 * The bus events of a request, where the API offers them: the local stack keeps every event it put on its bus
 * (`GET /_local/events`); a deployed API has no such route (its events are on EventBridge), so this answers undefined.
 */
export const eventsOf = async (requestId: string): Promise<BusEvent[] | undefined> => {
  try {
    const body = await call<{ events: BusEvent[] }>('GET', '/_local/events?after=0');
    return body.events.filter((e) => e.Detail?.requestId === requestId);
  } catch {
    return undefined;
  }
};
