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

/** The list answer's envelope adds its page count (the list example: `total_count`, `total_page_number`). */
interface ListEnvelope extends Envelope {
  total_count?: unknown;
  total_page_number?: unknown;
}

/**
 * A TIR cluster as the published examples show it (list and detail): `id`, `name`, `status`, `no_of_nodes`,
 * `worker_nodes` (an empty list in the detail example although the cluster is `Running`) and `available_gpu` (not
 * read). `lifecycle_script` is in no example: read when TIR hands it back (TIR_ASSUMPTIONS).
 */
export interface TirCluster {
  id: number;
  name?: string;
  status?: string;
  no_of_nodes?: number;
  worker_nodes?: unknown;
  available_gpu?: unknown;
  lifecycle_script?: string;
}

// ---- what is assumed beyond the published examples: one place ----

/**
 * Every value the adapter uses that TIR's published examples do not give. Each is the safe side of an unknown: an
 * unknown status is in progress (the workflow's deadline ends it), wording not clearly about capacity is a terminal
 * refusal, an unproven cluster is nobody's. docs/providers.md renders TIR_ASSUMPTIONS.
 */
export const TIR_ASSUMED = {
  /** Published: `Running` (the detail example). Compared case- and separator-insensitively. */
  runningStatus: 'running',
  /** Not published. Any other status not known here stays CREATING. */
  failedStatuses: ['failed', 'error', 'creationfailed'],
  deletingStatuses: ['deleting', 'terminating'],
  deletedStatuses: ['deleted', 'terminated'],
  /** Not published: TIR documents no capacity code; only wording that clearly says capacity is a shortage. */
  capacityWording:
    /insufficient (capacity|resources|nodes|gpus?)|capacity\b[^.;]{0,60}\b(exhausted|unavailable|not available|full)|out of stock|no (nodes?|gpus?|capacity|resources) (is |are )?(currently )?available|not enough (nodes|resources|capacity|gpus?)/i,
  quotaWording: /quota|limit exceeded/i,
  nameTakenWording: /already exists|already in use|already taken/i,
  /** The list's page size (no maximum is published); the pages read before giving up (never a partial answer). */
  listPageSize: 50,
  maxListPages: 200,
} as const;

export interface TirAssumption {
  topic: string;
  assumed: string;
  safeSide: string;
}

export const TIR_ASSUMPTIONS: readonly TirAssumption[] = [
  {
    topic: 'READY',
    assumed:
      '`status` `Running` with an empty `worker_nodes` (as in the detail example) means all `no_of_nodes` nodes are up; a non-empty `worker_nodes` lists one item per node, and an item with a `status` counts only when it is `Running`',
    safeSide: 'a non-empty `worker_nodes` shorter than `no_of_nodes` keeps the cluster CREATING until it fills or the deadline ends it',
  },
  {
    topic: 'Failure and deletion statuses',
    assumed: `\`${TIR_ASSUMED.failedStatuses.join('`, `')}\` are failures, \`${TIR_ASSUMED.deletingStatuses.join('`, `')}\` deletion in progress, \`${TIR_ASSUMED.deletedStatuses.join('`, `')}\` gone (only \`Creating\` and \`Running\` are published)`,
    safeSide: 'any other status is in progress: never READY, never FAILED; the workflow deadline ends a cluster that never gets there',
  },
  {
    topic: 'Capacity wording',
    assumed: `a 4xx whose message matches \`${TIR_ASSUMED.capacityWording.source}\` is a shortage (no capacity code is published)`,
    safeSide: 'any other refusal ("Image version unavailable", "SSH key unavailable") is a terminal invalid request, never waited out',
  },
  {
    topic: 'Quota and name wording',
    assumed: `a 4xx naming a quota or limit (\`${TIR_ASSUMED.quotaWording.source}\`) is a quota wait; one saying the name exists (\`${TIR_ASSUMED.nameTakenWording.source}\`) is a name clash; names are unique in a project and location`,
    safeSide: 'a name clash adopts nothing without proof; other wording is a terminal invalid request',
  },
  {
    topic: 'The create answer',
    assumed:
      'the 201 `data` (an object in the example) is the created cluster with its `id`; when it carries none, the cluster of that name in the project and location, read once right after the 201, is the one just created (names are unique there)',
    safeSide: 'no single cluster of that name: the answer counts as lost (retried; a lost answer is resolved as docs/providers.md says)',
  },
  {
    topic: '`lifecycle_script` in GET',
    assumed:
      'neither the list nor the detail example shows it: the adapter reads the owner marker when the detail hands the script back, and otherwise proves ownership by the cluster id this deployment recorded',
    safeSide: 'a cluster with neither proof is never adopted and never deleted',
  },
  {
    topic: 'Cluster ids',
    assumed: 'a cluster id is unique across projects and locations and never given to another cluster later',
    safeSide: "an id a record holds is the cluster TIR's own create answer gave that request: nothing weaker is taken as proof",
  },
  {
    topic: 'Pagination',
    assumed: `the list is read \`per_page=${TIR_ASSUMED.listPageSize}\` from \`page_no=1\` up to \`total_page_number\` (or to a page shorter than \`per_page\` when it is absent), at most ${TIR_ASSUMED.maxListPages} pages`,
    safeSide: 'a list longer than that fails the call (retried) instead of answering a partial list',
  },
  {
    topic: 'Timings',
    assumed: 'none published: how long creation and deletion take is not known',
    safeSide: 'polled on the growing interval up to `noEventMaxWaitSeconds`, ended by the provisioning deadline',
  },
];

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

const QUOTA_EXHAUSTED = TIR_ASSUMED.quotaWording;
const CAPACITY_EXHAUSTED = TIR_ASSUMED.capacityWording;
const NAME_TAKEN = TIR_ASSUMED.nameTakenWording;
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
    wire: '4xx whose message clearly says capacity: insufficient capacity, capacity exhausted or unavailable, out of stock, no nodes available, not enough nodes or resources',
    to: InsufficientCapacityError,
    reason:
      'TIR documents no capacity code: only wording that clearly says capacity is a shortage, waited out (an "Image version unavailable" is not).',
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

/** A `worker_nodes` item counts as a node up unless it carries a status other than Running (TIR_ASSUMPTIONS, READY). */
const workerUp = (item: unknown): boolean => {
  const status = item !== null && typeof item === 'object' ? (item as { status?: unknown }).status : undefined;
  return typeof status !== 'string' || normalized(status) === TIR_ASSUMED.runningStatus;
};

/**
 * READY when `status` is `Running`; a non-empty `worker_nodes` must also count `no_of_nodes` nodes up (an empty list,
 * as in the detail example of a Running cluster, says nothing). Statuses TIR has not published count as still in
 * progress: the workflow's deadline ends a cluster that never gets there.
 */
export const describeTirCluster = (cluster: TirCluster): ClusterDescription => {
  const status = typeof cluster.status === 'string' ? cluster.status : 'Unknown';
  const target = typeof cluster.no_of_nodes === 'number' && cluster.no_of_nodes >= 0 ? cluster.no_of_nodes : 0;
  const workers = Array.isArray(cluster.worker_nodes) && cluster.worker_nodes.length > 0 ? cluster.worker_nodes : undefined;
  const key = normalized(status);
  const running = key === TIR_ASSUMED.runningStatus;
  const current = workers ? workers.filter(workerUp).length : running ? target : 0;
  let state: ClusterState;
  if ((TIR_ASSUMED.failedStatuses as readonly string[]).includes(key)) state = 'FAILED';
  else if ((TIR_ASSUMED.deletingStatuses as readonly string[]).includes(key)) state = 'DELETING';
  else if ((TIR_ASSUMED.deletedStatuses as readonly string[]).includes(key)) state = 'DELETED';
  else if (running && current >= target) state = 'READY';
  else state = 'CREATING';
  return {
    providerId: String(cluster.id),
    clusterName: cluster.name ?? '',
    state,
    providerStatus: status,
    ...(state === 'FAILED' ? { message: `TIR reports the cluster as ${status}` } : {}),
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
