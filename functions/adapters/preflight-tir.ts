/**
 * The TIR half of the plan's read-only probes (functions/core/plan-checks/common.ts), over the TIR REST API with fetch. Each
 * call is one TIR documents (https://docs.e2enetworks.com/api/tir/); each check it cannot make throws CheckSkippedError
 * saying why (the plan shows it as `skipped`).
 *
 * - Credentials and project: `GET /distributed_jobs_v2/cluster/?project_id&location&page_no=1&per_page=1` (the cluster
 *   list). 401/403: the credentials are refused; another 4xx (or an envelope `code` >= 400): the project or location is
 *   refused; 429, 5xx, a timeout or a refused connection: the check is skipped.
 * - SKU and price: `GET /distributed_jobs_v2/cluster/plans/?project_id&location&variant` (`variant` is required; the docs
 *   list no values and a request names none, so the check runs only with `planVariant`). The plans' item fields are not
 *   published: read as `{ sku_id, sku_item_price_id, unit_price, currency }` (the plan list resolves the sku and the price,
 *   with `unit_price` taken as one node for an hour); items without a `sku_id` skip the check.
 * - Image: `GET /distributed_jobs_v2/deployment_images/{framework}/?project_id&location&job_type={framework}` (`job_type`
 *   must equal the path's framework; the docs list no framework values, so it runs only with `imageFramework`). Its item
 *   fields are not published: read as images with a `versions` list of `{ id }`; other items skip the check.
 * - Security group: `GET /security_groups/?project_id&location`, items with `id` (the operations page names them). It
 *   documents no page parameter: when the id is not on the one page and `total_page_number` says there are more, the
 *   check is skipped.
 * - SSH keys: the SSH key list's page could not be read (only `POST /ssh_keys/` is published here): skipped, saying so.
 * Both credentials are secrets: the URL (which carries the key) never reaches a message, a log line or an error.
 */
import { CheckSkippedError, TirAuthRejectedError, TirProjectRejectedError } from '../core/errors';
import type { PreflightProbes, TirPlanInfo } from '../core/plan-checks';
import type { TirCredentialsSource } from './tir-credentials';

type TirProbes = Pick<PreflightProbes, 'tirProject' | 'tirPlan' | 'tirSecurityGroup' | 'tirSshKeys'>;

export interface TirProbeOptions {
  baseUrl: string;
  credentials: TirCredentialsSource;
  /** Per call. Default 4000 ms (the plan skips a check after 5 s). */
  timeoutMs?: number;
  /** The plan list's required `variant`. Without it the SKU and price checks are skipped. */
  planVariant?: string;
  /** The image list's `{framework}` (and `job_type`). Without it the image check is skipped. */
  imageFramework?: string;
  fetch?: typeof fetch;
}

interface Envelope {
  code?: number;
  data?: unknown;
  message?: string;
  errors?: unknown;
  total_page_number?: unknown;
}

type Where = { projectId: number; location: string; activeIam?: number };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const createTirProbes = (options: TirProbeOptions): TirProbes => {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = options.timeoutMs ?? 4000;

  /** One GET; answers the status and the envelope. Throws CheckSkippedError when it says nothing. */
  const get = async (path: string, where: Where, extra: Record<string, string> = {}) => {
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

  /** The `data` list of a 2xx answer; a refusal or another shape skips the check, saying which list. */
  const listOf = async (what: string, path: string, where: Where, extra: Record<string, string> = {}) => {
    const { status, body } = await get(path, where, extra);
    if (status >= 400) throw new CheckSkippedError(`TIR ${what} refused (${messageOf(status, body)})`);
    if (!Array.isArray(body.data)) throw new CheckSkippedError(`TIR ${what} answered no list`);
    return { items: body.data.filter(isObject), body };
  };

  /** The price and whether the sku is offered, from the plan list of `planVariant`. */
  const planOf = async (where: Where, cluster: { sku_id: number; sku_item_price_id: number }) => {
    if (options.planVariant === undefined) {
      throw new CheckSkippedError('the plan list requires a `variant`, which the request does not name (its values are not published)');
    }
    const { items } = await listOf('plan list', '/distributed_jobs_v2/cluster/plans/', where, { variant: options.planVariant });
    if (!items.some((p) => Number.isInteger(p.sku_id))) throw new CheckSkippedError('the plan list names no sku_id');
    const ofSku = items.filter((p) => p.sku_id === cluster.sku_id);
    const priced = ofSku.find((p) => p.sku_item_price_id === cluster.sku_item_price_id) ?? ofSku[0];
    const unit = Number(priced?.unit_price);
    return {
      skuFound: ofSku.length > 0,
      ...(priced && Number.isFinite(unit)
        ? { price: { unitPerHour: unit, currency: typeof priced.currency === 'string' ? priced.currency : 'INR' } }
        : {}),
    };
  };

  /** Whether the image version is among the versions of the `imageFramework` images; undefined when it cannot tell. */
  const imageOf = async (where: Where, imageVersionId: number): Promise<boolean | undefined> => {
    const framework = options.imageFramework;
    if (framework === undefined) return undefined;
    const path = `/distributed_jobs_v2/deployment_images/${encodeURIComponent(framework)}/`;
    const { items } = await listOf('image list', path, where, { job_type: framework });
    const versions = items.flatMap((image) => (Array.isArray(image.versions) ? image.versions.filter(isObject) : []));
    if (versions.length === 0) return undefined;
    return versions.some((v) => v.id === imageVersionId);
  };

  return {
    async tirProject(where) {
      const { status, body } = await get('/distributed_jobs_v2/cluster/', where, { page_no: '1', per_page: '1' });
      if (status === 401 || status === 403) throw new TirAuthRejectedError(`refused (${messageOf(status, body)})`);
      if (status >= 400) throw new TirProjectRejectedError(`refused (${messageOf(status, body)})`);
    },

    async tirPlan(where, cluster): Promise<TirPlanInfo | undefined> {
      const [plan, image] = await Promise.allSettled([planOf(where, cluster), imageOf(where, cluster.image_version_id)]);
      if (plan.status === 'rejected') throw plan.reason;
      return { ...plan.value, ...(image.status === 'fulfilled' && image.value !== undefined ? { imageFound: image.value } : {}) };
    },

    async tirSecurityGroup(where, id) {
      const { items, body } = await listOf('security group list', '/security_groups/', where);
      if (items.some((g) => g.id === id)) return true;
      const pages = Number.isInteger(body.total_page_number) ? (body.total_page_number as number) : 1;
      if (pages > 1) throw new CheckSkippedError(`the security group list has ${pages} pages and documents no page parameter`);
      return false;
    },

    async tirSshKeys() {
      throw new CheckSkippedError('the SSH key list is not published (only adding a key is): the ids are checked at create');
    },
  };
};
