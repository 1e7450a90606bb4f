/**
 * The E2E Networks TIR provider: ClusterProvider over the TIR REST API with Node's fetch.
 *
 * Every call carries `project_id`, `location` (and `active_iam`) and the API key as query parameters, and the auth
 * token as `Authorization: Bearer`. Both are secrets: the request URL never goes into a log line or an error, and any
 * text taken from an answer is scrubbed of both before it becomes an error message. Failures leave this module as the
 * classes of ../core/errors, chosen by TIR_ERROR_TABLE; the `cause` is a fresh TirWireError (no URL, no headers).
 *
 * TIR has no tags. What proves who created a cluster is the owner marker: the last line of the lifecycle script the
 * adapter sends, a shell comment naming the deployment and the request (see withOwnerMarker). A cluster whose script
 * does not end with this deployment's marker is nobody's here: never adopted, never swept.
 */
import {
  ClusterNotFoundError,
  InvalidProviderRequestError,
  ProviderAuthFailedError,
  ProviderThrottledError,
  ProviderUnavailableError,
  type ProvisionerError,
  ResourceInUseError,
  InsufficientCapacityError,
  ResourceLimitExceededError,
  type ErrorDetails,
} from '../core/errors';
import {
  DEPLOYMENT_TAG,
  REQUEST_ID_TAG,
  type ClusterDescription,
  type ClusterLocation,
  type ClusterProvider,
  type ClusterRef,
  type ClusterState,
  type ExistingCluster,
  type OwnedCluster,
} from '../core/provider';
import type { TirClusterSpec } from '../core/request';
import { logger } from '../platform/observability';
import type { TirCredentials, TirCredentialsSource } from './tir-credentials';

export const TIR_PRODUCTION_BASE_URL = 'https://api.e2enetworks.com/myaccount/api/v1/gpu';
const CLUSTERS_PATH = '/distributed_jobs_v2/cluster/';
export const TIR_DEFAULT_TIMEOUT_MS = 15_000;

export interface TirProviderOptions {
  /** This deployment's name (`<service>-<stage>`), written into the owner marker of every cluster it creates. */
  deployment: string;
  /** Default: production (the wiring passes TIR_API_BASE_URL). */
  baseUrl?: string;
  /** Fixed credentials, or a source asked before each call (./tir-credentials.ts; the wiring passes one). */
  credentials: TirCredentials | TirCredentialsSource;
  /** Per call. Default: 15 s (the wiring passes TIR_TIMEOUT_MS). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

type TirOperation = 'create' | 'list' | 'get' | 'delete';

/** The envelope every TIR answer comes in. */
interface Envelope {
  code?: number;
  data?: unknown;
  errors?: unknown;
  message?: unknown;
}

/** A TIR cluster as the API returns it (the fields the adapter reads). */
export interface TirCluster {
  id: number;
  name?: string;
  status?: string;
  no_of_nodes?: number;
  active_nodes?: number;
  nodes?: Array<{ name?: string; status?: string }>;
  created_at?: string;
  lifecycle_script?: string;
  failure_reason?: string;
  error_message?: string;
  status_message?: string;
}

// ---- the wire failure and the error table ----

/** What went wrong on the wire, already scrubbed of credentials. Used as `cause`: it holds no URL and no header. */
export class TirWireError extends Error {
  override readonly name = 'TirWireError';
  constructor(
    message: string,
    readonly kind: 'http' | 'timeout' | 'network',
    /** The failing status: HTTP status, or the envelope `code` of an error inside an HTTP 200. */
    readonly status?: number,
    /** The code kept as providerCode: the status as text, `TimeoutError`, or the connection error code. */
    readonly code: string = status !== undefined ? String(status) : kind,
  ) {
    super(message);
  }
}

type ErrorClass = new (message: string, details?: ErrorDetails) => ProvisionerError;

export interface TirErrorRow {
  match: (wire: TirWireError, operation: TirOperation) => boolean;
  /** What the row matches, in words (the docs' table is generated from it). */
  wire: string;
  to: ErrorClass;
  reason: string;
}

const QUOTA_EXHAUSTED = /quota|limit exceeded/i;
const CAPACITY_EXHAUSTED = /capacity|no nodes? available|not enough (nodes|resources)|out of stock|unavailable/i;
const NAME_TAKEN = /already exists|already in use|already taken/i;
const clientError = (w: TirWireError): boolean => w.kind === 'http' && w.status !== undefined && w.status >= 400 && w.status < 500;

export const TIR_ERROR_TABLE: readonly TirErrorRow[] = [
  { match: (w) => w.status === 429, wire: 'HTTP 429', to: ProviderThrottledError, reason: 'HTTP 429: asked to slow down, retry later.' },
  {
    match: (w) => w.kind === 'timeout',
    wire: 'no answer within `TIR_TIMEOUT_MS`',
    to: ProviderUnavailableError,
    reason: 'No answer within the timeout: transient.',
  },
  {
    match: (w) => w.kind === 'network',
    wire: 'connection refused or reset',
    to: ProviderUnavailableError,
    reason: 'Connection refused / reset: transient.',
  },
  {
    match: (w) => (w.status ?? 0) >= 500,
    wire: 'HTTP 5xx, or a non-JSON answer (a gateway page)',
    to: ProviderUnavailableError,
    reason: 'HTTP 5xx (or a gateway page): transient.',
  },
  {
    match: (w) => w.status === 401 || w.status === 403,
    wire: 'HTTP 401 / 403',
    to: ProviderAuthFailedError,
    reason: 'The API key or token is missing, wrong or not allowed: terminal until the secret is fixed.',
  },
  {
    match: (w, operation) => w.status === 404 && (operation === 'get' || operation === 'delete'),
    wire: '404 on get / delete',
    to: ClusterNotFoundError,
    reason: 'TIR does not know the cluster id: for a delete it is gone. (A 404 on create / list means a wrong base URL.)',
  },
  {
    match: (w) => clientError(w) && QUOTA_EXHAUSTED.test(w.message),
    wire: '4xx whose message names a quota or limit',
    to: ResourceLimitExceededError,
    reason:
      'A message naming a quota or limit: the account may fit once its other clusters are gone, so the workflow waits (reason quota).',
  },
  {
    match: (w) => clientError(w) && CAPACITY_EXHAUSTED.test(w.message),
    wire: '4xx whose message says capacity, stock or nodes are unavailable',
    to: InsufficientCapacityError,
    reason: 'TIR documents no capacity code, only a message saying capacity or stock is exhausted: a shortage, waited out.',
  },
  {
    match: (w) => clientError(w) && NAME_TAKEN.test(w.message),
    wire: '4xx whose message says the name already exists',
    to: ResourceInUseError,
    reason: 'The name exists in this project and location: the workflow checks whether it is ours, then retries.',
  },
  {
    match: () => true,
    wire: 'any other 4xx or error envelope',
    to: InvalidProviderRequestError,
    reason: 'Any other 4xx (or error envelope): the same request fails the same way.',
  },
];

// ---- scrubbing ----

const scrubberFor =
  (credentials: TirCredentials) =>
  (text: string): string => {
    let out = text.replace(/apikey=[^&\s"'<>]*/gi, 'apikey=***').replace(/Bearer\s+[^\s"',<>]+/gi, 'Bearer ***');
    for (const secret of [credentials.apiKey, credentials.authToken]) {
      if (secret) out = out.split(secret).join('***');
    }
    return out;
  };

/** `message; field: msg, msg; field: msg` from an envelope, at most 500 characters. */
const envelopeText = (envelope: Envelope): string => {
  const parts: string[] = [];
  if (typeof envelope.message === 'string' && envelope.message) parts.push(envelope.message);
  if (envelope.errors && typeof envelope.errors === 'object') {
    for (const [field, value] of Object.entries(envelope.errors as Record<string, unknown>)) {
      parts.push(`${field}: ${Array.isArray(value) ? value.join(', ') : typeof value === 'string' ? value : JSON.stringify(value)}`);
    }
  } else if (typeof envelope.errors === 'string' && envelope.errors) parts.push(envelope.errors);
  return parts.join('; ').slice(0, 500);
};

const hasErrors = (errors: unknown): boolean =>
  errors !== null && errors !== undefined && errors !== '' && (typeof errors !== 'object' || Object.keys(errors).length > 0);

const parseEnvelope = (text: string): Envelope | undefined => {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Envelope) : undefined;
  } catch {
    return undefined;
  }
};

// ---- status normalization ----

const normalized = (status: string): string => status.toLowerCase().replace(/[\s_-]/g, '');
/** The running states TIR is known to report (`Running`); readiness also needs every node up. */
const RUNNING = new Set(['running', 'active', 'ready']);
const FAILED = new Set(['failed', 'error', 'creationfailed']);
const DELETING = new Set(['deleting', 'terminating']);
const DELETED = new Set(['deleted', 'terminated']);
const NODE_UP = new Set(['running', 'active', 'ready', 'up', 'healthy']);

/**
 * READY only when the status is a known running state AND all `no_of_nodes` nodes are up. Statuses TIR has not
 * published (only "Creating" is) count as still in progress: the workflow's deadline ends a cluster that never gets there.
 */
export const describeTirCluster = (cluster: TirCluster): ClusterDescription => {
  const status = typeof cluster.status === 'string' ? cluster.status : 'Unknown';
  const target = cluster.no_of_nodes ?? cluster.nodes?.length ?? 0;
  const current = Array.isArray(cluster.nodes)
    ? cluster.nodes.filter((n) => typeof n.status === 'string' && NODE_UP.has(normalized(n.status))).length
    : (cluster.active_nodes ?? 0);
  const key = normalized(status);
  let state: ClusterState;
  if (FAILED.has(key)) state = 'FAILED';
  else if (DELETING.has(key)) state = 'DELETING';
  else if (DELETED.has(key)) state = 'DELETED';
  else if (RUNNING.has(key) && target > 0 && current >= target) state = 'READY';
  else state = 'CREATING';
  const message = cluster.failure_reason ?? cluster.error_message ?? cluster.status_message;
  return {
    providerId: String(cluster.id),
    clusterName: cluster.name ?? '',
    state,
    providerStatus: status,
    ...(state === 'FAILED' ? { message: message ?? `TIR reports the cluster as ${status}` } : {}),
    nodes: { current, target },
  };
};

// ---- ownership ----

const OWNER_MARKER = new RegExp(`^# ${DEPLOYMENT_TAG}=(\\S+) ${REQUEST_ID_TAG}=(\\S+)$`);

/** The marker line: a shell comment naming the deployment and the request that created the cluster. */
export const ownerMarker = (deployment: string, requestId: string): string =>
  `# ${DEPLOYMENT_TAG}=${deployment} ${REQUEST_ID_TAG}=${requestId}`;

/**
 * The create body with the owner marker as the last line of its lifecycle script. A script the request runs
 * (`script_added: true`) keeps every byte and gets the marker appended; otherwise the script is the marker alone (a
 * no-op `#!/bin/sh` run on each node), and `script_added` becomes true so that TIR keeps it. A script given with
 * `script_added` not true would not have run, and is not sent.
 */
export const withOwnerMarker = (spec: TirClusterSpec, deployment: string, requestId: string): TirClusterSpec => {
  const marker = ownerMarker(deployment, requestId);
  const script = spec.script_added === true && typeof spec.lifecycle_script === 'string' ? spec.lifecycle_script : '#!/bin/sh\n';
  return { ...spec, script_added: true, lifecycle_script: `${script}${script.endsWith('\n') ? '' : '\n'}${marker}\n` };
};

/** Who the marker of a lifecycle script names: its last non-blank line only (a request cannot write after it). */
export const ownerOfScript = (script: unknown): { deployment: string; requestId: string } | undefined => {
  if (typeof script !== 'string') return undefined;
  const last = script
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .pop();
  const match = last === undefined ? null : OWNER_MARKER.exec(last);
  return match ? { deployment: match[1]!, requestId: match[2]! } : undefined;
};

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

  /** One HTTP call, one log line (operation, cluster, status, duration; never the URL or a body). Returns `data`. */
  const call = async (
    operation: TirOperation,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    location: TirLocation,
    clusterName: string,
    body?: unknown,
  ): Promise<unknown> => {
    const credentials = await credentialsOf();
    const scrub = scrubberFor(credentials);
    const url = new URL(`${baseUrl}${path}`);
    url.searchParams.set('project_id', String(location.projectId));
    url.searchParams.set('location', location.location);
    if (location.activeIam !== undefined) url.searchParams.set('active_iam', String(location.activeIam));
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

    if (status < 300 && text.trim() === '') return undefined; // an empty success (e.g. 204)
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
    return envelope.data;
  };

  const clusterPath = (id: string): string => {
    if (!/^\d+$/.test(id)) throw new InvalidProviderRequestError(`A TIR cluster id is an integer, got "${id}"`);
    return `${CLUSTERS_PATH}${id}/`;
  };

  const listClusters = async (location: ClusterLocation, clusterName: string): Promise<TirCluster[]> => {
    const data = await call('list', 'GET', CLUSTERS_PATH, tirLocation(location), clusterName);
    const list: unknown[] = Array.isArray(data)
      ? data
      : Array.isArray((data as { results?: unknown })?.results)
        ? (data as { results: unknown[] }).results
        : [];
    return list.filter(isCluster);
  };

  /** The request of this deployment the cluster's marker names; the detail is read when the list leaves the script out. */
  const ownerOf = async (location: ClusterLocation, cluster: TirCluster): Promise<string | undefined> => {
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

  const findByName = async (location: ClusterLocation, clusterName: string): Promise<ExistingCluster | undefined> => {
    const found = (await listClusters(location, clusterName)).find((c) => c.name === clusterName);
    if (!found) return undefined;
    const ownerRequestId = await ownerOf(location, found);
    return {
      providerId: String(found.id),
      clusterName,
      ...(ownerRequestId !== undefined ? { ownerRequestId } : {}),
      ...(found.created_at ? { createdAt: new Date(found.created_at).toISOString() } : {}),
    };
  };

  /** The cluster id of a ref; a ref without one (the create's answer was lost) is looked up by name. */
  const idOf = async (ref: ClusterRef): Promise<string> => {
    if (ref.providerId) return ref.providerId;
    const found = await findByName(ref.location, ref.clusterName);
    if (!found) throw new ClusterNotFoundError(`TIR has no cluster named ${ref.clusterName}`);
    return found.providerId;
  };

  return {
    name: 'tir',
    // TIR says it has no capacity by refusing the create (its answer to POST /distributed_jobs_v2/cluster/,
    // https://docs.e2enetworks.com/api/tir/clusters/training-cluster/post-distributed-jobs-v2-cluster/).
    capacityKnownAtCreate: true,

    async create(input) {
      const spec = input.cluster as TirClusterSpec;
      const body = withOwnerMarker(spec, options.deployment, input.requestId);
      const data = await call('create', 'POST', CLUSTERS_PATH, tirLocation(input.location), spec.name, body);
      if (!isCluster(data)) {
        // Created or not, we cannot tell: a retry answers "already exists" and the workflow adopts the cluster.
        throw new ProviderUnavailableError(`TIR create ${spec.name} answered without a cluster id`);
      }
      return { providerId: String(data.id), clusterName: data.name ?? spec.name };
    },

    async describe(ref) {
      const location = tirLocation(ref.location);
      const data = await call('get', 'GET', clusterPath(await idOf(ref)), location, ref.clusterName);
      if (!isCluster(data)) throw new ProviderUnavailableError(`TIR get ${ref.clusterName} answered without a cluster`);
      return describeTirCluster(data);
    },

    async delete(ref) {
      const location = tirLocation(ref.location);
      await call('delete', 'DELETE', clusterPath(await idOf(ref)), location, ref.clusterName);
    },

    findByName,

    async listOwned(location) {
      const where = tirLocation(location);
      const owned: OwnedCluster[] = [];
      for (const cluster of await listClusters(where, '*')) {
        const requestId = await ownerOf(where, cluster);
        if (requestId === undefined) continue;
        const description = describeTirCluster(cluster);
        owned.push({
          location: where,
          providerId: String(cluster.id),
          clusterName: cluster.name ?? '',
          requestId,
          ...(cluster.created_at ? { createdAt: new Date(cluster.created_at).toISOString() } : {}),
          providerStatus: description.providerStatus,
          deleting: description.state === 'DELETING' || description.state === 'DELETED',
        });
      }
      return owned;
    },
  };
};
