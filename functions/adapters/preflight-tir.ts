/**
 * The TIR half of the plan's read-only probes (functions/core/plan-checks.ts), over the TIR REST API with fetch.
 *
 * - Credentials and project: `GET /distributed_jobs_v2/cluster/?project_id&location&page_no=1&per_page=1` (the list the
 *   provisioner already uses). 401/403: the credentials are refused; another 4xx (or an envelope `code` >= 400): the
 *   project or location is refused; 429, 5xx, a timeout or a refused connection: the check is skipped.
 * - SKU, image and price: `GET /distributed_jobs_v2/cluster/plans/?project_id&location` (the TIR API
 *   reference, https://docs.e2enetworks.com/api/tir/, names the plan list with `unit_price` and `currency`). Its item shape is not published; read here as a list of
 *   `{ sku_id, sku_item_price_id, unit_price, currency, image_version_ids? }` (under `data`, or `data.plans`). A 404
 *   means this API answers no plan list: the checks are skipped. `unit_price` is taken as the price of one node for an
 *   hour.
 * Both credentials are secrets: the URL (which carries the key) never reaches a message, a log line or an error.
 */
import {
  CheckSkippedError,
  TirAuthRejectedError,
  TirProjectRejectedError,
  type PreflightProbes,
  type TirPlanInfo,
} from '../core/plan-checks';
import type { TirCredentialsSource } from './tir-credentials';

type TirProbes = Pick<PreflightProbes, 'tirProject' | 'tirPlan'>;

export interface TirProbeOptions {
  baseUrl: string;
  credentials: TirCredentialsSource;
  /** Per call. Default 4000 ms (the plan skips a check after 5 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

interface Envelope {
  code?: number;
  data?: unknown;
  message?: string;
  errors?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const createTirProbes = (options: TirProbeOptions): TirProbes => {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = options.timeoutMs ?? 4000;

  /** One GET; answers the status and the envelope. Throws CheckSkippedError when it says nothing. */
  const get = async (
    path: string,
    where: { projectId: number; location: string; activeIam?: number },
    extra: Record<string, string> = {},
  ) => {
    let credentials: { apiKey: string; authToken: string };
    try {
      credentials = await options.credentials();
    } catch (err) {
      throw new CheckSkippedError(`TIR credentials unavailable (${(err as Error).name})`);
    }
    const url = new URL(`${baseUrl}${path}`);
    url.searchParams.set('project_id', String(where.projectId));
    url.searchParams.set('location', where.location);
    if (where.activeIam !== undefined) url.searchParams.set('active_iam', String(where.activeIam));
    for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
    url.searchParams.set('apikey', credentials.apiKey);
    let response: Response;
    try {
      response = await fetchFn(url, {
        method: 'GET',
        headers: { Authorization: `Bearer ${credentials.authToken}`, Accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      // Only the error's name: a fetch failure may carry the URL, and the URL carries the key.
      throw new CheckSkippedError(`TIR unreachable (${(err as Error).name})`);
    }
    let body: Envelope = {};
    try {
      const parsed = (await response.json()) as unknown;
      if (isObject(parsed)) body = parsed as Envelope;
    } catch {
      // not JSON: judged by the status alone
    }
    const status = typeof body.code === 'number' && body.code >= 400 && response.status < 400 ? body.code : response.status;
    if (status === 429) throw new CheckSkippedError('TIR throttled (HTTP 429)');
    if (status >= 500) throw new CheckSkippedError(`TIR unavailable (HTTP ${status})`);
    return { status, body };
  };

  const messageOf = (status: number, body: Envelope): string => {
    const text = typeof body.message === 'string' ? body.message.slice(0, 200) : '';
    return `HTTP ${status}${text ? `: ${text.replace(/apikey=[^&\s]*/gi, 'apikey=***')}` : ''}`;
  };

  return {
    async tirProject(where) {
      const { status, body } = await get('/distributed_jobs_v2/cluster/', where, { page_no: '1', per_page: '1' });
      if (status === 401 || status === 403) throw new TirAuthRejectedError(`refused (${messageOf(status, body)})`);
      if (status >= 400) throw new TirProjectRejectedError(`refused (${messageOf(status, body)})`);
    },

    async tirPlan(where, cluster): Promise<TirPlanInfo | undefined> {
      const { status, body } = await get('/distributed_jobs_v2/cluster/plans/', where);
      if (status === 404) return undefined;
      if (status >= 400) throw new CheckSkippedError(`TIR plan list refused (${messageOf(status, body)})`);
      const data = isObject(body.data) && Array.isArray(body.data.plans) ? body.data.plans : body.data;
      if (!Array.isArray(data)) throw new CheckSkippedError('TIR plan list has no list of plans');
      const items = data.filter(isObject);
      const ofSku = items.filter((p) => p.sku_id === cluster.sku_id);
      const priced = ofSku.find((p) => p.sku_item_price_id === cluster.sku_item_price_id) ?? ofSku[0];
      const images = ofSku.flatMap((p) => (Array.isArray(p.image_version_ids) ? p.image_version_ids : []));
      const unit = Number(priced?.unit_price);
      return {
        skuFound: ofSku.length > 0,
        ...(images.length > 0 ? { imageFound: images.includes(cluster.image_version_id) } : {}),
        ...(priced && Number.isFinite(unit)
          ? { price: { unitPerHour: unit, currency: typeof priced.currency === 'string' ? priced.currency : 'INR' } }
          : {}),
      };
    },
  };
};
