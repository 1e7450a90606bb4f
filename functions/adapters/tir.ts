/**
 * The E2E Networks TIR provider: ClusterProvider over the TIR REST API with Node's fetch.
 *
 * Every call carries `project_id`, `location` (and `active_iam`) and the API key as query parameters, and the auth
 * token as `Authorization: Bearer`. Both are secrets: the request URL never goes into a log line or an error, and any
 * text taken from an answer is scrubbed of both before it becomes an error message. Failures leave this module as the
 * classes of ../core/errors, chosen by TIR_ERROR_TABLE; the `cause` is a fresh TirWireError (no URL, no headers).
 *
 * TIR has no tags. What proves who created a cluster is either the owner marker (the last line of the lifecycle script
 * the adapter sends, a shell comment naming the deployment and the request, see withOwnerMarker), read back when TIR
 * hands the script back, or the cluster id this deployment recorded from the create's answer (`listOwned`'s `recorded`;
 * the workflow compares the id itself). A cluster with neither is nobody's here: never adopted, never swept.
 *
 * The fields read are those of TIR's published examples (test/fixtures/providers/tir/); everything else the adapter
 * relies on is in TIR_ASSUMPTIONS, the one place that says what is assumed and which side is the safe one.
 */
import { ClusterNotFoundError, InvalidProviderRequestError, ProviderUnavailableError, type ProvisionerError } from '../core/errors';
import type { ClusterLocation, ClusterProvider, ClusterRef, ExistingCluster, OwnedCluster } from '../core/provider';
import type { TirClusterSpec } from '../core/request';
import { logger } from '../platform/observability';
import type { TirCredentials, TirCredentialsSource } from './tir-credentials';
import { TIR_DEFAULT_TIMEOUT_MS, TIR_PRODUCTION_BASE_URL } from './tir-endpoint';
import {
  type ListEnvelope,
  TIR_ASSUMED,
  TIR_ERROR_TABLE,
  type TirCluster,
  type TirErrorRow,
  type TirOperation,
  TirWireError,
  describeTirCluster,
  envelopeText,
  hasErrors,
  ownerOfScript,
  parseEnvelope,
  scrubberFor,
  withOwnerMarker,
} from './tir-wire';

export * from './tir-wire';
const CLUSTERS_PATH = '/distributed_jobs_v2/cluster/';

export interface TirProviderOptions {
  /** This deployment's name (`<service>-<stage>`), written into the owner marker of every cluster it creates. */
  deployment: string;
  /** Default: production (the wiring passes `ENV.tirApiBaseUrl`). */
  baseUrl?: string;
  /** Fixed credentials, or a source asked before each call (./tir-credentials.ts; the wiring passes one). */
  credentials: TirCredentials | TirCredentialsSource;
  /** Per call. Default: 15 s (the wiring passes `ENV.tirTimeoutMs`). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

// ---- the provider ----

type TirLocation = Extract<ClusterLocation, { provider: 'tir' }>;

const tirLocation = (location: ClusterLocation): TirLocation => {
  if (location.provider !== 'tir') throw new InvalidProviderRequestError(`The TIR provider cannot serve a ${location.provider} location`);
  return location;
};

const isCluster = (value: unknown): value is TirCluster =>
  value !== null && typeof value === 'object' && Number.isInteger((value as { id?: unknown }).id);

export const createTirProvider = (options: TirProviderOptions): ClusterProvider => {
  const baseUrl = (options.baseUrl ?? TIR_PRODUCTION_BASE_URL).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? TIR_DEFAULT_TIMEOUT_MS;
  const fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  const given = options.credentials;
  const credentialsOf: TirCredentialsSource = typeof given === 'function' ? given : async () => given;

  /** One HTTP call, one log line (operation, cluster, status, duration; never the URL or a body). Returns the envelope. */
  const exchange = async (
    operation: TirOperation,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    location: TirLocation,
    clusterName: string,
    body?: unknown,
    query: Record<string, string> = {},
  ): Promise<ListEnvelope> => {
    const credentials = await credentialsOf();
    const scrub = scrubberFor(credentials);
    const url = new URL(`${baseUrl}${path}`);
    url.searchParams.set('project_id', String(location.projectId));
    url.searchParams.set('location', location.location);
    if (location.activeIam !== undefined) url.searchParams.set('active_iam', String(location.activeIam));
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    url.searchParams.set('apikey', credentials.apiKey);

    const started = Date.now();
    const fields = { provider: 'tir', operation, clusterName };
    const failed = (wire: TirWireError): ProvisionerError => {
      const row = TIR_ERROR_TABLE.find((r) => r.match(wire, operation)) as TirErrorRow;
      const error = new row.to(`TIR ${operation} ${clusterName} failed: ${wire.message}`, { providerCode: wire.code, cause: wire });
      logger.info('provider call failed', {
        ...fields,
        statusCode: wire.status,
        error: error.name,
        providerCode: wire.code,
        durationMs: Date.now() - started,
      });
      return error;
    };

    let status: number;
    let text: string;
    try {
      const response = await fetchFn(url, {
        method,
        headers: {
          Authorization: `Bearer ${credentials.authToken}`,
          Accept: 'application/json',
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (err) {
      // A fetch failure may carry the request (and so the URL): only a scrubbed description leaves this block.
      const e = (err ?? {}) as { name?: string; code?: string; cause?: { code?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw failed(new TirWireError(`no answer within ${timeoutMs} ms`, 'timeout', undefined, 'TimeoutError'));
      }
      const code = e.cause?.code ?? e.code ?? 'NetworkError';
      throw failed(new TirWireError(scrub(`connection failed (${code})`), 'network', undefined, code));
    }

    if (status < 300 && text.trim() === '') return {}; // an empty success (e.g. 204)
    const envelope = parseEnvelope(text);
    const envelopeCode = typeof envelope?.code === 'number' ? envelope.code : undefined;
    if (status >= 400 || envelope === undefined || (envelopeCode !== undefined && envelopeCode >= 400) || hasErrors(envelope.errors)) {
      // A non-JSON answer is a gateway's page (502 / 504 from nginx): treated as the provider being unavailable.
      const failingStatus =
        status >= 400 ? status : envelopeCode !== undefined && envelopeCode >= 400 ? envelopeCode : envelope ? 400 : 502;
      const detail = envelope ? scrub(envelopeText(envelope)) || 'no message' : `a non-JSON answer (HTTP ${status})`;
      const inside = status < 400 && envelope ? ` (inside an HTTP ${status} answer)` : '';
      throw failed(new TirWireError(`HTTP ${failingStatus}${inside}: ${detail}`, 'http', failingStatus));
    }
    logger[operation === 'create' || operation === 'delete' ? 'info' : 'debug']('provider call', {
      ...fields,
      statusCode: status,
      durationMs: Date.now() - started,
    });
    return envelope;
  };

  /** One call's `data`. */
  const call = async (...args: Parameters<typeof exchange>): Promise<unknown> => (await exchange(...args)).data;

  const clusterPath = (id: string): string => {
    if (!/^\d+$/.test(id)) throw new InvalidProviderRequestError(`A TIR cluster id is an integer, got "${id}"`);
    return `${CLUSTERS_PATH}${id}/`;
  };

  /** Every cluster of the project and location: every page, `page_no` 1 up to `total_page_number` (TIR_ASSUMED). */
  const listClusters = async (location: ClusterLocation, clusterName: string): Promise<TirCluster[]> => {
    const where = tirLocation(location);
    const size = TIR_ASSUMED.listPageSize;
    const clusters: TirCluster[] = [];
    for (let page = 1; ; page++) {
      if (page > TIR_ASSUMED.maxListPages) {
        throw new ProviderUnavailableError(`TIR list has more than ${TIR_ASSUMED.maxListPages} pages of ${size}: not read in part`);
      }
      const envelope = await exchange('list', 'GET', CLUSTERS_PATH, where, clusterName, undefined, {
        page_no: String(page),
        per_page: String(size),
      });
      const items: unknown[] = Array.isArray(envelope.data) ? envelope.data : [];
      clusters.push(...items.filter(isCluster));
      const pages = Number.isInteger(envelope.total_page_number) ? (envelope.total_page_number as number) : undefined;
      if (items.length === 0 || (pages !== undefined ? page >= pages : items.length < size)) return clusters;
    }
  };

  /** The request of this deployment the cluster's owner marker names, when TIR hands the script back (the detail). */
  const markedOwner = async (location: ClusterLocation, cluster: TirCluster): Promise<string | undefined> => {
    let script = cluster.lifecycle_script;
    if (script === undefined) {
      try {
        const detail = await call('get', 'GET', clusterPath(String(cluster.id)), tirLocation(location), cluster.name ?? '');
        script = isCluster(detail) ? detail.lifecycle_script : undefined;
      } catch (err) {
        if (err instanceof ClusterNotFoundError) return undefined; // gone between the two calls
        throw err;
      }
    }
    const owner = ownerOfScript(script);
    return owner?.deployment === options.deployment ? owner.requestId : undefined;
  };

  /**
   * The cluster of this name, with the request its owner marker names when TIR hands the script back. The workflow
   * adopts it only on that proof or when its id is the one the request recorded: never by the name alone.
   */
  const findByName = async (location: ClusterLocation, clusterName: string): Promise<ExistingCluster | undefined> => {
    const found = (await listClusters(location, clusterName)).find((c) => c.name === clusterName);
    if (!found) return undefined;
    const ownerRequestId = await markedOwner(location, found);
    return { providerId: String(found.id), clusterName, ...(ownerRequestId !== undefined ? { ownerRequestId } : {}) };
  };

  /** The cluster id of a ref. Only an id is used: a cluster is never described or deleted by its name. */
  const idOf = (ref: ClusterRef): string => {
    if (!ref.providerId) throw new ClusterNotFoundError(`No TIR cluster id is recorded for ${ref.clusterName}`);
    return ref.providerId;
  };

  return {
    name: 'tir',
    // TIR says it has no capacity by refusing the create (its wording: TIR_ASSUMPTIONS, capacity wording).
    capacityKnownAtCreate: true,

    async create(input) {
      const spec = input.cluster as TirClusterSpec;
      const body = withOwnerMarker(spec, options.deployment, input.requestId);
      const data = await call('create', 'POST', CLUSTERS_PATH, tirLocation(input.location), spec.name, body);
      if (isCluster(data)) return { providerId: String(data.id), clusterName: data.name ?? spec.name };
      // A 201 without the cluster's id (TIR_ASSUMPTIONS, the create answer): the name is unique in the project and
      // location and was free, so the one cluster of that name now is the one just created.
      const named = (await listClusters(input.location, spec.name)).filter((c) => c.name === spec.name);
      if (named.length === 1) return { providerId: String(named[0]!.id), clusterName: spec.name };
      // Created or not, we cannot tell: a retry answers "already exists", resolved as a lost create answer.
      throw new ProviderUnavailableError(`TIR create ${spec.name} answered without a cluster id`);
    },

    async describe(ref) {
      const location = tirLocation(ref.location);
      const data = await call('get', 'GET', clusterPath(idOf(ref)), location, ref.clusterName);
      if (!isCluster(data)) throw new ProviderUnavailableError(`TIR get ${ref.clusterName} answered without a cluster`);
      return describeTirCluster(data);
    },

    async delete(ref) {
      const location = tirLocation(ref.location);
      await call('delete', 'DELETE', clusterPath(idOf(ref)), location, ref.clusterName);
    },

    findByName,

    /**
     * The clusters of this deployment: those whose id a record holds (`recorded`: id -> requestId, the proof that needs
     * nothing from TIR), and those whose owner marker names this deployment when TIR hands the script back.
     */
    async listOwned(location, recorded) {
      const where = tirLocation(location);
      const owned: OwnedCluster[] = [];
      for (const cluster of await listClusters(where, '*')) {
        const requestId = recorded?.get(String(cluster.id)) ?? (await markedOwner(where, cluster));
        if (requestId === undefined) continue;
        const description = describeTirCluster(cluster);
        owned.push({
          location: where,
          providerId: String(cluster.id),
          clusterName: cluster.name ?? '',
          requestId,
          providerStatus: description.providerStatus,
          deleting: description.state === 'DELETING' || description.state === 'DELETED',
        });
      }
      return owned;
    },
  };
};
