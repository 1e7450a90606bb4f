/**
 * An E2E Networks TIR training-cluster simulator on loopback, served under `/myaccount/api/v1/gpu` like production:
 * pass `baseUrl` (`${endpoint}/myaccount/api/v1/gpu`) as the functions' TIR API root (`ENV.tirApiBaseUrl`).
 *
 * Endpoints: POST / GET (list) `/distributed_jobs_v2/cluster/`, GET / DELETE `/distributed_jobs_v2/cluster/{id}/`.
 * Every body is the envelope `{code, data, errors, message}`. A cluster is answered in the shape of TIR's published
 * examples (test/fixtures/providers/tir/, held to them by test/contract/tir-fixtures.test.ts): `id`, `name`,
 * `status`, `no_of_nodes`, `worker_nodes` (an empty list, even while Running) and `available_gpu`; the list is paginated
 * (`page_no`, `per_page`; it answers `total_count`, `total_page_number`) and never carries `lifecycle_script`; the detail
 * carries it only with `returnsLifecycleScript`. What the docs do not publish is modelled as SIM_ASSUMED says. Both credentials are required (`apikey` query parameter
 * and `Authorization: Bearer <token>`). The request log never holds either: the apikey is removed from logged paths
 * and headers are not logged. With `stateFile`, the clusters outlive the process like a real provider's (see the
 * option).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  applyConnectionFault,
  CapacityPool,
  FaultInjector,
  readBody,
  sendJson,
  sleep,
  startServer,
  StateFile,
  StateReader,
  type Faults,
  type InjectedError,
  type LoggedRequest,
  type RunningServer,
} from './common';

export const TIR_BASE_PATH = '/myaccount/api/v1/gpu';
const CLUSTERS_PATH = '/distributed_jobs_v2/cluster/';
const CLUSTER_ID_PATH = /^\/distributed_jobs_v2\/cluster\/(\d+)\/$/;
const SECURITY_GROUPS_PATH = '/security_groups/';

export type TirOperation = 'create' | 'list' | 'get' | 'delete';

export interface TirSimulatorOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** The API key the simulator accepts (query `apikey`). Default `sim-api-key`. */
  apiKey?: string;
  /** The token the simulator accepts (`Authorization: Bearer`). Default `sim-auth-token`. */
  authToken?: string;
  /** Creating -> Running after this long. Default 1000 ms. */
  readyAfterMs?: number;
  /** Deleting -> gone (and capacity released) after this long. Default 500 ms. */
  deleteAfterMs?: number;
  /**
   * The detail (GET by id) hands the create's `lifecycle_script` back: the case TIR's docs leave open (no published
   * example shows it). Default false: as the examples, no `lifecycle_script` anywhere.
   */
  returnsLifecycleScript?: boolean;
  /**
   * Serve the project's security group list (`GET /security_groups/`, as its published example: `data` items with `id`
   * and `name`, `total_page_number`, `total_count`) holding these ids, for the pre-flight. Default: not served (404).
   */
  securityGroupIds?: number[];
  /** The 201 answer's `data` is the created cluster (default true, SIM_ASSUMED); false: `{}`, as the create example. */
  createAnswersCluster?: boolean;
  /** Nodes available per `sku_id`; skus not listed get `defaultCapacity`. */
  capacity?: Record<number, number>;
  /** Default 64 nodes per sku. */
  defaultCapacity?: number;
  /** Accepted `location` values. Default Delhi and Chennai. */
  locations?: string[];
  /** Report this status (e.g. `Provisioning`) instead of `Creating` while the cluster is being created. */
  unknownStatus?: string;
  /** Source of randomness for the fault rates. */
  random?: () => number;
  /**
   * Epoch milliseconds now (default `Date.now`): the clusters' timings and the request log's times follow it, so a test
   * may run the simulator in virtual time (`readyAfterMs` and `deleteAfterMs` are then in that clock's milliseconds).
   */
  clock?: () => number;
  /**
   * Keep the clusters in this JSON file, so that a simulator started again on it (after `close()`, a crash or a
   * `kill -9`) answers exactly as before: every cluster with its id, project, location, body, sku and nodes (the
   * capacity they hold), creation time, failure and deletion in progress; the values set through `setCapacity`
   * (applied over the `capacity` option of the new start); the next id, so that ids never repeat.
   *
   * The file is loaded at start when it exists (else it is created, with its directory); a file that cannot be read or
   * is not a state this simulator wrote fails the start with an error naming the file. After every change (a create or
   * delete, a control call, a deletion the clock completed) it is rewritten atomically (temp file in the same
   * directory, fsync, rename), synchronously and before the call answers. Transitions are computed from the stored
   * times with the timing options of the running simulator (Running `readyAfterMs` after the original creation, gone
   * `deleteAfterMs` after the DELETE). The request log and injected faults are not kept. Two simulators must not
   * share a file.
   */
  stateFile?: string;
}

export interface TirSimulator extends RunningServer {
  /** `${endpoint}/myaccount/api/v1/gpu`: the value for the functions' TIR API root (`ENV.tirApiBaseUrl`). */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly authToken: string;
  /** Every request received; paths carry no apikey, headers are not recorded. */
  readonly requests: LoggedRequest[];
  /** The `stateFile` option, when given. */
  readonly stateFile?: string;
  setFaults(faults: Faults): void;
  /**
   * The next calls of `operation` answer these, in order: an HTTP status (`'429'`, `'500'`, `'502'` (an HTML gateway
   * page), ...), `capacity`, `name-taken`, `envelope-<any of those>` (the same error inside an HTTP 200 body),
   * `reset` (drop the connection) or `hang` (never answer).
   */
  injectErrors(operation: TirOperation, errors: InjectedError[]): void;
  clearFaults(): void;
  setCapacity(skuId: number, nodes: number): void;
  available(skuId: number): number;
  /** Marks the cluster Failed (SIM_ASSUMED.failedStatus; the message is kept in the state, TIR publishes no field for it). */
  failCluster(nameOrId: string | number, message: string): void;
  /** The cluster object GET would answer, or undefined when there is none. */
  cluster(nameOrId: string | number): Record<string, unknown> | undefined;
}

interface SimCluster {
  id: number;
  projectId: number;
  location: string;
  body: Record<string, unknown>;
  name: string;
  skuId: number;
  nodes: number;
  createdAt: number;
  failure?: string;
  deletingSince?: number;
}

const STATE_FORMAT = 'tir-simulator-state';

/** What `stateFile` holds. */
interface TirState {
  format: typeof STATE_FORMAT;
  version: 1;
  /** The id the next cluster gets. */
  nextId: number;
  /** setCapacity values. */
  capacity: Array<{ skuId: number; nodes: number }>;
  /** In creation order. */
  clusters: SimCluster[];
}

/** The state in a file this simulator wrote; throws the file's `corrupt` error for anything else. */
const readState = (raw: unknown, file: StateFile): TirState => {
  const r = new StateReader(file);
  const state = r.object(raw, 'the top level');
  if (state.format !== STATE_FORMAT) throw file.corrupt(`it is not a TIR simulator state (format ${JSON.stringify(state.format)})`);
  if (state.version !== 1) throw file.corrupt(`version ${JSON.stringify(state.version)} is not supported (expected 1)`);
  const ids = new Set<number>();
  const clusters = r.array(state.clusters, 'clusters').map((value, i): SimCluster => {
    const path = `clusters[${i}]`;
    const c = r.object(value, path);
    const id = r.count(c.id, `${path}.id`);
    if (ids.has(id)) throw file.corrupt(`${path} repeats the id ${id}`);
    ids.add(id);
    const failure = r.optional(c.failure, (v) => r.string(v, `${path}.failure`));
    const deletingSince = r.optional(c.deletingSince, (v) => r.number(v, `${path}.deletingSince`));
    return {
      id,
      projectId: r.number(c.projectId, `${path}.projectId`),
      location: r.string(c.location, `${path}.location`),
      body: r.object(c.body, `${path}.body`),
      name: r.string(c.name, `${path}.name`),
      skuId: r.number(c.skuId, `${path}.skuId`),
      nodes: r.count(c.nodes, `${path}.nodes`),
      createdAt: r.number(c.createdAt, `${path}.createdAt`),
      ...(failure !== undefined ? { failure } : {}),
      ...(deletingSince !== undefined ? { deletingSince } : {}),
    };
  });
  return {
    format: STATE_FORMAT,
    version: 1,
    nextId: r.count(state.nextId, 'nextId'),
    capacity: r.array(state.capacity, 'capacity').map((v, i) => {
      const o = r.object(v, `capacity[${i}]`);
      return { skuId: r.number(o.skuId, `capacity[${i}].skuId`), nodes: r.number(o.nodes, `capacity[${i}].nodes`) };
    }),
    clusters,
  };
};

interface Answer {
  status: number;
  code: number;
  message: string;
  data?: unknown;
  errors?: Record<string, string[]>;
  /** The list's page count (`total_count`, `total_page_number`), beside `data`. */
  pages?: { total_count: number; total_page_number: number };
  /** A raw non-JSON body (a gateway's HTML page). */
  html?: string;
}

/**
 * What TIR does not publish and this simulator models anyway, in one place (the adapter's own list of assumptions is
 * TIR_ASSUMPTIONS in functions/adapters/tir-wire.ts): the failure and deletion statuses, the wording of a capacity refusal
 * and of a name clash, the list's default page size, and that a 201 carries the created cluster.
 */
export const SIM_ASSUMED = {
  failedStatus: 'Failed',
  deletingStatus: 'Deleting',
  capacityMessage: 'Insufficient capacity: no nodes available for the selected plan',
  nameTakenMessage: (name: string): string => `Cluster with name '${name}' already exists`,
  defaultPerPage: 10,
} as const;

const CAPACITY_MESSAGE = SIM_ASSUMED.capacityMessage;
const nameTakenMessage = SIM_ASSUMED.nameTakenMessage;

const STATUS_MESSAGES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized access.',
  403: 'You do not have permission to perform this action.',
  404: 'Not Found',
  429: 'Request was throttled. Expected available in 1 second.',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const gatewayPage = (status: number): string =>
  `<html>\r\n<head><title>${status} Bad Gateway</title></head>\r\n<body>\r\n<center><h1>${status} Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;

/** An error answer: `{code, errors, message}` as the create page's 400 example, `{code, message}` as its 401. */
const fail = (status: number, message = STATUS_MESSAGES[status] ?? 'Error', errors: Record<string, string[]> = {}): Answer => ({
  status,
  code: status,
  message,
  ...(status === 401 ? {} : { errors }),
});

/** What an injected entry answers. */
const injectedAnswer = (fault: InjectedError, random: () => number): Answer => {
  if (fault === 'random-throttle') return fail(429);
  if (fault === 'random-error') {
    const status = [500, 502, 503][Math.floor(random() * 3)] ?? 500;
    return status === 502 ? { status, code: status, message: '', html: gatewayPage(status) } : fail(status);
  }
  const spec = typeof fault === 'string' ? { name: fault } : fault;
  if (spec.name.startsWith('envelope-')) {
    const inner = injectedAnswer({ ...spec, name: spec.name.slice('envelope-'.length) }, random);
    return { ...inner, status: 200, html: undefined };
  }
  let answer: Answer;
  if (spec.name === 'capacity') answer = fail(400, CAPACITY_MESSAGE);
  else if (spec.name === 'name-taken') answer = fail(400, nameTakenMessage('injected'), { name: [nameTakenMessage('injected')] });
  else if (/^\d{3}$/.test(spec.name)) {
    const status = Number(spec.name);
    if (status === 502 || status === 504) answer = { status, code: status, message: '', html: gatewayPage(status) };
    else answer = status === 400 ? fail(400, 'Bad Request', { non_field_errors: ['Injected error'] }) : fail(status);
  } else answer = fail(400, `Injected ${spec.name}`);
  return { ...answer, ...(spec.message ? { message: spec.message } : {}), ...(spec.status ? { status: spec.status } : {}) };
};

// ---- validation, Django REST style: errors is field -> messages ----

const isPositiveInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v > 0;

const validateCreate = (body: Record<string, unknown>): Record<string, string[]> => {
  const errors: Record<string, string[]> = {};
  const add = (field: string, message: string): void => {
    (errors[field] ??= []).push(message);
  };
  if (body.name === undefined) add('name', 'This field is required.');
  else if (typeof body.name !== 'string' || body.name.trim() === '') add('name', 'This field may not be blank.');
  else if (body.name.length > 63) add('name', 'Ensure this field has no more than 63 characters.');
  for (const field of ['image_version_id', 'security_group_id', 'sku_id', 'sku_item_price_id', 'no_of_nodes']) {
    if (body[field] === undefined) add(field, 'This field is required.');
    else if (!isPositiveInt(body[field])) {
      add(
        field,
        typeof body[field] === 'number' && Number.isInteger(body[field])
          ? 'Ensure this value is greater than or equal to 1.'
          : 'A valid integer is required.',
      );
    }
  }
  if (body.ssh_key_ids === undefined) add('ssh_key_ids', 'This field is required.');
  else if (!Array.isArray(body.ssh_key_ids)) add('ssh_key_ids', 'Expected a list of items.');
  else if (body.ssh_key_ids.length === 0) add('ssh_key_ids', 'This list may not be empty.');
  else if (!body.ssh_key_ids.every(isPositiveInt)) add('ssh_key_ids', 'A valid integer is required.');
  if (body.script_added !== undefined && typeof body.script_added !== 'boolean') add('script_added', 'Must be a valid boolean.');
  if (body.script_added === true && (typeof body.lifecycle_script !== 'string' || body.lifecycle_script.trim() === '')) {
    add('lifecycle_script', 'This field is required when script_added is true.');
  }
  for (const field of ['sfs_mount_list', 'pfs_mount_list', 'dataset_mount_list']) {
    if (body[field] !== undefined && !Array.isArray(body[field])) add(field, 'Expected a list of items.');
  }
  return errors;
};

const queryErrors = (query: URLSearchParams, locations: string[]): Record<string, string[]> => {
  const errors: Record<string, string[]> = {};
  const projectId = query.get('project_id');
  if (projectId === null) errors.project_id = ['This field is required.'];
  else if (!/^\d+$/.test(projectId)) errors.project_id = ['A valid integer is required.'];
  const location = query.get('location');
  if (location === null || location === '') errors.location = ['This field is required.'];
  else if (!locations.includes(location)) errors.location = [`"${location}" is not a valid choice.`];
  const activeIam = query.get('active_iam');
  if (activeIam !== null && !/^\d+$/.test(activeIam)) errors.active_iam = ['A valid integer is required.'];
  return errors;
};

/** The path and query as logged: without the apikey. */
const loggablePath = (url: URL): string => {
  const query = new URLSearchParams(url.search);
  query.delete('apikey');
  const rest = query.toString();
  return `${url.pathname}${rest ? `?${rest}` : ''}`;
};

export const startTirSimulator = async (options: TirSimulatorOptions = {}): Promise<TirSimulator> => {
  const apiKey = options.apiKey ?? 'sim-api-key';
  const authToken = options.authToken ?? 'sim-auth-token';
  const readyAfterMs = options.readyAfterMs ?? 1000;
  const deleteAfterMs = options.deleteAfterMs ?? 500;
  const returnsLifecycleScript = options.returnsLifecycleScript ?? false;
  const createAnswersCluster = options.createAnswersCluster ?? true;
  const locations = options.locations ?? ['Delhi', 'Chennai'];
  const random = options.random ?? Math.random;
  const now = options.clock ?? Date.now;
  const faults = new FaultInjector(random);
  const capacity = new CapacityPool<number>(
    options.defaultCapacity ?? 64,
    Object.entries(options.capacity ?? {}).map(([sku, n]) => [Number(sku), n] as [number, number]),
  );
  const clusters = new Map<number, SimCluster>();
  const requests: LoggedRequest[] = [];
  let nextId = 1001;

  const capacityChanges = new Map<number, number>(); // setCapacity values, for the state file
  const stateFile = options.stateFile === undefined ? undefined : new StateFile(options.stateFile, 'TIR simulator');
  if (stateFile) {
    const raw = stateFile.load();
    if (raw !== undefined) {
      const state = readState(raw, stateFile);
      nextId = Math.max(nextId, state.nextId, ...state.clusters.map((c) => c.id + 1));
      for (const { skuId, nodes } of state.capacity) {
        capacity.set(skuId, nodes);
        capacityChanges.set(skuId, nodes);
      }
      for (const c of state.clusters) {
        clusters.set(c.id, c);
        capacity.hold(new Map([[c.skuId, c.nodes]])); // a cluster holds its nodes until it is gone
      }
    }
  }
  /** Writes the state file (when there is one and something changed): before every answer and after every control call. */
  const persist = (): void => {
    stateFile?.save({
      format: STATE_FORMAT,
      version: 1,
      nextId,
      capacity: [...capacityChanges].map(([skuId, nodes]) => ({ skuId, nodes })),
      clusters: [...clusters.values()],
    } satisfies TirState);
  };
  persist(); // a new file, or one the directory does not let us write, shows at start

  const settle = (at = now()): void => {
    for (const [id, c] of clusters) {
      if (c.deletingSince !== undefined && at - c.deletingSince >= deleteAfterMs) {
        clusters.delete(id);
        capacity.release(new Map([[c.skuId, c.nodes]]));
      }
    }
  };

  const find = (nameOrId: string | number): SimCluster | undefined => {
    settle();
    const byId = clusters.get(Number(nameOrId));
    return byId ?? [...clusters.values()].find((c) => c.name === nameOrId);
  };

  /** A cluster as the published examples show it; `withScript` adds the create's `lifecycle_script` (the open case). */
  const clusterJson = (c: SimCluster, withScript = false): Record<string, unknown> => {
    const at = now();
    const status =
      c.deletingSince !== undefined
        ? SIM_ASSUMED.deletingStatus
        : c.failure
          ? SIM_ASSUMED.failedStatus
          : at - c.createdAt < readyAfterMs
            ? (options.unknownStatus ?? 'Creating')
            : 'Running';
    const script = c.body.lifecycle_script;
    return {
      id: c.id,
      name: c.name,
      status,
      no_of_nodes: c.nodes,
      worker_nodes: [],
      // Its meaning is not published: not modelled.
      available_gpu: 0,
      ...(withScript && typeof script === 'string' ? { lifecycle_script: script } : {}),
    };
  };

  const route = (method: string, path: string): { operation: TirOperation; id?: number } | undefined => {
    if (path === CLUSTERS_PATH) {
      if (method === 'POST') return { operation: 'create' };
      if (method === 'GET') return { operation: 'list' };
      return undefined;
    }
    const match = CLUSTER_ID_PATH.exec(path);
    if (!match) return undefined;
    if (method === 'GET') return { operation: 'get', id: Number(match[1]) };
    if (method === 'DELETE') return { operation: 'delete', id: Number(match[1]) };
    return undefined;
  };

  const operate = (operation: TirOperation, id: number | undefined, query: URLSearchParams, body: unknown): Answer => {
    const projectId = Number(query.get('project_id'));
    const location = query.get('location') as string;
    if (operation === 'create') {
      const input = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
      if (!input) return fail(400, 'Bad Request', { non_field_errors: ['Invalid data. Expected a dictionary.'] });
      const errors = validateCreate(input);
      if (Object.keys(errors).length > 0) return fail(400, 'Bad Request', errors);
      settle();
      const name = input.name as string;
      const taken = [...clusters.values()].some((c) => c.name === name && c.projectId === projectId && c.location === location);
      if (taken) return fail(400, nameTakenMessage(name), { name: [nameTakenMessage(name)] });
      const skuId = input.sku_id as number;
      const nodes = input.no_of_nodes as number;
      if (!capacity.reserve(new Map([[skuId, nodes]])).ok) return fail(400, CAPACITY_MESSAGE);
      const cluster: SimCluster = { id: nextId++, projectId, location, body: input, name, skuId, nodes, createdAt: now() };
      clusters.set(cluster.id, cluster);
      const data = createAnswersCluster ? clusterJson(cluster) : {};
      return { status: 201, code: 201, message: 'Cluster created successfully', data, errors: {} };
    }
    if (operation === 'list') {
      settle();
      const pageErrors: Record<string, string[]> = {};
      const number = (name: string, fallback: number): number => {
        const raw = query.get(name);
        if (raw === null) return fallback;
        if (!/^[1-9]\d*$/.test(raw)) pageErrors[name] = ['A valid integer is required.'];
        return Number(raw);
      };
      const page = number('page_no', 1);
      const perPage = number('per_page', SIM_ASSUMED.defaultPerPage);
      if (Object.keys(pageErrors).length > 0) return fail(400, 'Bad Request', pageErrors);
      const mine = [...clusters.values()].filter((c) => c.projectId === projectId && c.location === location);
      const pages = Math.max(1, Math.ceil(mine.length / perPage));
      const data = mine.slice((page - 1) * perPage, page * perPage).map((c) => clusterJson(c));
      return {
        status: 200,
        code: 200,
        message: 'Success',
        data,
        errors: {},
        pages: { total_count: mine.length, total_page_number: pages },
      };
    }
    settle();
    const c = clusters.get(id as number);
    if (!c || c.projectId !== projectId) return fail(404, 'Cluster not found');
    if (operation === 'get') {
      return { status: 200, code: 200, message: 'Success', data: clusterJson(c, returnsLifecycleScript), errors: {} };
    }
    c.deletingSince ??= now();
    return { status: 200, code: 200, message: 'Success', data: 'Cluster deleted successfully', errors: {} };
  };

  const send = (res: ServerResponse, entry: LoggedRequest, answer: Answer): void => {
    entry.status = answer.status;
    if (answer.html !== undefined) {
      res.writeHead(answer.status, { 'content-type': 'text/html' });
      res.end(answer.html);
      return;
    }
    sendJson(
      res,
      answer.status,
      {
        code: answer.code,
        ...(answer.data !== undefined ? { data: answer.data } : {}),
        ...(answer.errors !== undefined ? { errors: answer.errors } : {}),
        message: answer.message,
        ...(answer.pages ?? {}),
      },
      { 'content-type': 'application/json' },
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = req.method ?? 'GET';
    const path = url.pathname.startsWith(TIR_BASE_PATH) ? url.pathname.slice(TIR_BASE_PATH.length) : undefined;
    const target = path === undefined ? undefined : route(method, path);
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      body = raw;
    }
    const entry: LoggedRequest = {
      operation: target?.operation ?? `${method} ${url.pathname}`,
      at: new Date(now()).toISOString(),
      method,
      path: loggablePath(url),
      ...(body !== undefined ? { body } : {}),
    };
    requests.push(entry);
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);

    if (url.searchParams.get('apikey') !== apiKey || req.headers.authorization !== `Bearer ${authToken}`) {
      return send(res, entry, fail(401));
    }
    if (method === 'GET' && path === SECURITY_GROUPS_PATH && options.securityGroupIds !== undefined) {
      const invalid = queryErrors(url.searchParams, locations);
      if (Object.keys(invalid).length > 0) return send(res, entry, fail(400, 'Bad Request', invalid));
      const groups = options.securityGroupIds.map((id) => ({ id, name: `sg-${id}` }));
      return send(res, entry, {
        status: 200,
        code: 200,
        message: 'Success',
        data: groups,
        errors: {},
        pages: { total_count: groups.length, total_page_number: 1 },
      });
    }
    if (!target) {
      const known = path !== undefined && (path === CLUSTERS_PATH || CLUSTER_ID_PATH.test(path));
      return send(res, entry, known ? fail(405, `Method "${method}" not allowed.`) : fail(404));
    }
    const fault = faults.next(target.operation);
    if (applyConnectionFault(fault, res)) return;
    if (fault !== undefined) return send(res, entry, injectedAnswer(fault, random));
    const invalidQuery = queryErrors(url.searchParams, locations);
    if (Object.keys(invalidQuery).length > 0) return send(res, entry, fail(400, 'Bad Request', invalidQuery));
    if (target.operation === 'create' && typeof body === 'string') {
      return send(res, entry, fail(400, 'Bad Request', { non_field_errors: ['JSON parse error'] }));
    }
    const answer = operate(target.operation, target.id, url.searchParams, body);
    persist(); // before answering: an answered change survives a kill -9
    send(res, entry, answer);
  };

  const server = await startServer(handle, options.port ?? 0);
  return {
    ...server,
    baseUrl: `${server.endpoint}${TIR_BASE_PATH}`,
    apiKey,
    authToken,
    requests,
    ...(options.stateFile !== undefined ? { stateFile: options.stateFile } : {}),
    setFaults: (f) => faults.set(f),
    injectErrors: (operation, errors) => faults.inject(operation, errors),
    clearFaults: () => faults.clear(),
    setCapacity: (skuId, nodes) => {
      capacity.set(skuId, nodes);
      capacityChanges.delete(skuId);
      capacityChanges.set(skuId, nodes);
      persist();
    },
    available: (skuId) => {
      settle();
      persist();
      return capacity.available(skuId);
    },
    failCluster: (nameOrId, message) => {
      const c = find(nameOrId);
      if (!c) {
        persist();
        throw new Error(`No cluster ${String(nameOrId)} in the simulator`);
      }
      c.failure = message;
      persist();
    },
    cluster: (nameOrId) => {
      const c = find(nameOrId);
      persist();
      return c ? clusterJson(c) : undefined;
    },
  };
};
