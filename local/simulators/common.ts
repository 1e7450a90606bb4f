/**
 * Shared pieces of the provider simulators: a loopback HTTP server, the request log, fault injection, capacity and
 * the state file. The simulators keep their state in memory (and, given a `stateFile`, on disk too) and move clusters
 * through time lazily (every request and every control call first settles what the clock says should have happened),
 * so there are no timers to leak.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';

export interface LoggedRequest {
  /** The operation (`CreateCluster`, `create`, ...) or `METHOD /path` when the request matched none. */
  operation: string;
  /** ISO time the request arrived. */
  at: string;
  method: string;
  /** Path and query as received, with any credential removed. */
  path: string;
  /** The region the call was for (SageMaker: the SigV4 credential scope, else the simulator's default region). */
  region?: string;
  body?: unknown;
  /** HTTP status answered; absent while the answer is pending, or when the connection was dropped. */
  status?: number;
}

export interface Faults {
  /** Share (0..1) of requests answered with a server error. */
  errorRate?: number;
  /** Share (0..1) of requests answered with throttling. */
  throttleRate?: number;
  /** Delay before every answer, in ms. */
  latencyMs?: number;
}

/**
 * An entry of the deterministic error queue. Strings are the simulator's shorthand (an error name for SageMaker, a
 * status or `envelope-400` for TIR); `reset` drops the connection and `hang` never answers (for client timeouts).
 * Objects spell the answer out.
 */
export type InjectedError = string | { name: string; message?: string; status?: number };

export class FaultInjector {
  private faults: Faults = {};
  private readonly queues = new Map<string, InjectedError[]>();

  constructor(private readonly random: () => number = Math.random) {}

  set(faults: Faults): void {
    for (const rate of [faults.errorRate, faults.throttleRate]) {
      if (rate !== undefined && (rate < 0 || rate > 1)) throw new RangeError('fault rates are shares between 0 and 1');
    }
    this.faults = { ...faults };
  }

  inject(operation: string, errors: InjectedError[]): void {
    this.queues.set(operation, [...(this.queues.get(operation) ?? []), ...errors]);
  }

  clear(): void {
    this.faults = {};
    this.queues.clear();
  }

  get latencyMs(): number {
    return this.faults.latencyMs ?? 0;
  }

  /** The next fault for this operation: the queue first, then the random rates. */
  next(operation: string): InjectedError | 'random-error' | 'random-throttle' | undefined {
    const queued = this.queues.get(operation)?.shift();
    if (queued !== undefined) return queued;
    if (this.random() < (this.faults.throttleRate ?? 0)) return 'random-throttle';
    if (this.random() < (this.faults.errorRate ?? 0)) return 'random-error';
    return undefined;
  }
}

/** Nodes available per instance type / sku; create reserves, delete (once the cluster is gone) releases. */
export class CapacityPool<K extends string | number> {
  private readonly total = new Map<K, number>();
  private readonly used = new Map<K, number>();

  constructor(
    private readonly defaultPerKey: number,
    initial: Iterable<[K, number]> = [],
  ) {
    for (const [key, n] of initial) this.total.set(key, n);
  }

  set(key: K, nodes: number): void {
    this.total.set(key, nodes);
  }

  limit(key: K): number {
    return this.total.get(key) ?? this.defaultPerKey;
  }

  available(key: K): number {
    return Math.max(0, this.limit(key) - (this.used.get(key) ?? 0));
  }

  /** Reserves every demand or none; returns the first key that does not fit. */
  reserve(demand: Map<K, number>): { ok: true } | { ok: false; key: K; requested: number; available: number; limit: number } {
    for (const [key, n] of demand) {
      const available = this.available(key);
      if (n > available) return { ok: false, key, requested: n, available, limit: this.limit(key) };
    }
    for (const [key, n] of demand) this.used.set(key, (this.used.get(key) ?? 0) + n);
    return { ok: true };
  }

  release(demand: Map<K, number>): void {
    for (const [key, n] of demand) this.used.set(key, Math.max(0, (this.used.get(key) ?? 0) - n));
  }

  /** Counts these nodes as used without checking the limit (restoring what clusters already hold). */
  hold(demand: Map<K, number>): void {
    for (const [key, n] of demand) this.used.set(key, (this.used.get(key) ?? 0) + n);
  }
}

/**
 * A simulator's state in one JSON file, so that a restart on the same file finds the clusters a real provider would
 * still have. `save` writes only when the state differs from what it last wrote, and atomically: a temp file in the
 * same directory, flushed to disk, then renamed over the file. It is synchronous, so a simulator that saves before it
 * answers cannot lose an answered change to a `kill -9`.
 */
export class StateFile {
  private written: string | undefined;

  constructor(
    /** The file. */
    readonly path: string,
    /** Who owns it, for error messages (`SageMaker simulator`). */
    private readonly owner: string,
  ) {}

  /**
   * The parsed contents, or undefined when the file does not exist (its directory is created then). Throws an Error
   * naming the file when it cannot be read or is not JSON.
   */
  load(): unknown {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        mkdirSync(dirname(this.path), { recursive: true });
        return undefined;
      }
      throw new Error(`${this.owner}: cannot read the state file ${this.path}: ${(err as Error).message}`);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw this.corrupt(`not JSON (${(err as Error).message})`);
    }
  }

  /** The error for a file whose contents are not a state this simulator wrote. */
  corrupt(reason: string): Error {
    return new Error(`${this.owner}: the state file ${this.path} is corrupt: ${reason}. Move it away to start with no clusters.`);
  }

  /** Writes the state atomically when it differs from the last state written. Throws an Error naming the file. */
  save(state: unknown): void {
    const text = `${JSON.stringify(state, null, 2)}\n`;
    if (text === this.written) return;
    const temp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const fd = openSync(temp, 'w', 0o600);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.path);
    } catch (err) {
      rmSync(temp, { force: true });
      throw new Error(`${this.owner}: cannot write the state file ${this.path}: ${(err as Error).message}`);
    }
    this.written = text;
  }
}

/** Reads the members of a state file's contents, throwing the file's `corrupt` error naming the member at fault. */
export class StateReader {
  constructor(private readonly file: StateFile) {}

  private check<T>(ok: boolean, value: unknown, path: string, expected: string): T {
    if (!ok)
      throw this.file.corrupt(`${path} is ${value === undefined ? 'missing' : JSON.stringify(value)?.slice(0, 80)}, expected ${expected}`);
    return value as T;
  }

  object(value: unknown, path: string): Record<string, unknown> {
    return this.check(value !== null && typeof value === 'object' && !Array.isArray(value), value, path, 'an object');
  }

  array(value: unknown, path: string): unknown[] {
    return this.check(Array.isArray(value), value, path, 'a list');
  }

  string(value: unknown, path: string): string {
    return this.check(typeof value === 'string', value, path, 'a string');
  }

  /** A finite number (times, counts). */
  number(value: unknown, path: string): number {
    return this.check(typeof value === 'number' && Number.isFinite(value), value, path, 'a number');
  }

  /** A count: an integer >= 0. */
  count(value: unknown, path: string): number {
    return this.check(typeof value === 'number' && Number.isInteger(value) && value >= 0, value, path, 'an integer >= 0');
  }

  oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
    return this.check(allowed.includes(value as T), value, path, `one of ${allowed.join(', ')}`);
  }

  /** `read(value)` when the value is present, else undefined. */
  optional<T>(value: unknown, read: (value: unknown) => T): T | undefined {
    return value === undefined ? undefined : read(value);
  }
}

export interface RunningServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  close(): Promise<void>;
}

/**
 * Serves `handler` on 127.0.0.1. A handler that throws answers 500 (a simulator bug must not hang the client).
 * `close()` drops open connections, including answers still waiting on injected latency.
 */
export const startServer = async (
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  port = 0,
): Promise<RunningServer> => {
  const server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`simulator error: ${err instanceof Error ? err.message : 'unknown'}`);
      } else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/**
 * How deep arrays and objects nest in a JSON text (outside strings), counted without parsing: a body nested thousands
 * of levels deep is refused before anything (JSON.parse, JSON.stringify, a validator) recurses into it.
 */
export const jsonNesting = (text: string): number => {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
};

/**
 * The deepest nesting the local endpoints take. An assumption (no published limit of EventBridge or SQS bodies): far
 * past any request (a DynamoDB item nests at most 32 levels), far below what overflows a recursive walk.
 */
export const MAX_JSON_NESTING = 256;

export const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
};

/** What an injected `reset` / `hang` does to the connection. Returns true when the request was consumed. */
export const applyConnectionFault = (fault: InjectedError | undefined, res: ServerResponse): boolean => {
  if (fault === 'reset') {
    res.socket?.destroy();
    return true;
  }
  if (fault === 'hang') return true; // never answered: the client's timeout fires, close() drops the socket
  return false;
};
