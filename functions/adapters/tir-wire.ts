/**
 * What the TIR provider (./tir.ts) knows of the TIR API's wire: its envelopes and cluster fields, what is assumed beyond
 * the published examples (in one place), the error table, scrubbing, status normalization and the owner marker.
 */
import { ENV } from '../contract/environment.js';
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
import { DEPLOYMENT_TAG, REQUEST_ID_TAG, type ClusterDescription, type ClusterState } from '../core/provider';
import type { TirClusterSpec } from '../core/request';
import type { TirCredentials } from './tir-credentials';

export type TirOperation = 'create' | 'list' | 'get' | 'delete';

/** The envelope every TIR answer comes in. */
export interface Envelope {
  code?: number;
  data?: unknown;
  errors?: unknown;
  message?: unknown;
}

/** The list answer's envelope adds its page count (the list example: `total_count`, `total_page_number`). */
export interface ListEnvelope extends Envelope {
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

export type ErrorClass = new (message: string, details?: ErrorDetails) => ProvisionerError;

export interface TirErrorRow {
  match: (wire: TirWireError, operation: TirOperation) => boolean;
  /** What the row matches, in words (the docs' table is generated from it). */
  wire: string;
  to: ErrorClass;
  reason: string;
}

export const QUOTA_EXHAUSTED = TIR_ASSUMED.quotaWording;
export const CAPACITY_EXHAUSTED = TIR_ASSUMED.capacityWording;
export const NAME_TAKEN = TIR_ASSUMED.nameTakenWording;
export const clientError = (w: TirWireError): boolean => w.kind === 'http' && w.status !== undefined && w.status >= 400 && w.status < 500;

export const TIR_ERROR_TABLE: readonly TirErrorRow[] = [
  { match: (w) => w.status === 429, wire: 'HTTP 429', to: ProviderThrottledError, reason: 'HTTP 429: asked to slow down, retry later.' },
  {
    match: (w) => w.kind === 'timeout',
    wire: `no answer within \`${ENV.tirTimeoutMs}\``,
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

export const scrubberFor =
  (credentials: TirCredentials) =>
  (text: string): string => {
    let out = text.replace(/apikey=[^&\s"'<>]*/gi, 'apikey=***').replace(/Bearer\s+[^\s"',<>]+/gi, 'Bearer ***');
    for (const secret of [credentials.apiKey, credentials.authToken]) {
      if (secret) out = out.split(secret).join('***');
    }
    return out;
  };

/** `message; field: msg, msg; field: msg` from an envelope, at most 500 characters. */
export const envelopeText = (envelope: Envelope): string => {
  const parts: string[] = [];
  if (typeof envelope.message === 'string' && envelope.message) parts.push(envelope.message);
  if (envelope.errors && typeof envelope.errors === 'object') {
    for (const [field, value] of Object.entries(envelope.errors as Record<string, unknown>)) {
      parts.push(`${field}: ${Array.isArray(value) ? value.join(', ') : typeof value === 'string' ? value : JSON.stringify(value)}`);
    }
  } else if (typeof envelope.errors === 'string' && envelope.errors) parts.push(envelope.errors);
  return parts.join('; ').slice(0, 500);
};

export const hasErrors = (errors: unknown): boolean =>
  errors !== null && errors !== undefined && errors !== '' && (typeof errors !== 'object' || Object.keys(errors).length > 0);

export const parseEnvelope = (text: string): Envelope | undefined => {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Envelope) : undefined;
  } catch {
    return undefined;
  }
};

// ---- status normalization ----

export const normalized = (status: string): string => status.toLowerCase().replace(/[\s_-]/g, '');

/** A `worker_nodes` item counts as a node up unless it carries a status other than Running (TIR_ASSUMPTIONS, READY). */
export const workerUp = (item: unknown): boolean => {
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

export const OWNER_MARKER = new RegExp(`^# ${DEPLOYMENT_TAG}=(\\S+) ${REQUEST_ID_TAG}=(\\S+)$`);

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
