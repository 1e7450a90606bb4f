/**
 * `--watch`: polls GET /clusters/{id} until the record reaches its goal (READY, or DELETED for a delete) or FAILED.
 * On a terminal one line is redrawn with a spinner; otherwise a plain line is printed each time something changes.
 */
import type { ClusterView } from '../functions/core/view';
import type { Api } from './api';
import type { CliIo } from './types';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

const elapsed = (ms: number): string => {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};

/** One line describing where the record is; `previousReason`: the wait reason of the line before, when it changed. */
export const progressLine = (r: ClusterView, ms: number, previousReason?: string): string => {
  const parts = [r.status.padEnd(20)];
  if (r.attempts) parts.push(`attempt ${r.attempts}`);
  if (r.status === 'WAITING_FOR_CAPACITY' && r.lastError?.reason)
    parts.push(
      `waiting for ${r.lastError.reason}${previousReason && previousReason !== r.lastError.reason ? ` (was ${previousReason})` : ''}`,
    );
  if (r.providerStatus) parts.push(`provider ${r.providerStatus}${r.nodes ? ` ${r.nodes.current}/${r.nodes.target} nodes` : ''}`);
  if (r.waiting) {
    const until = `${r.waiting.until.slice(11, 19)}Z`;
    parts.push(
      r.waiting.on === 'cluster-event' ? `parked until the cluster's event (poll at ${until})` : `parked until its turn (or ${until})`,
    );
    if (r.waiting.wokenAt) parts.push(`woken at ${r.waiting.wokenAt.slice(11, 19)}Z`);
  }
  if (r.lastError && (r.status === 'WAITING_FOR_CAPACITY' || r.status === 'FAILED')) {
    const next =
      r.lastError.nextAttemptAt && r.status === 'WAITING_FOR_CAPACITY'
        ? `, next attempt at ${r.lastError.nextAttemptAt.slice(11, 19)}Z`
        : '';
    const until = r.retryUntil && r.status === 'WAITING_FOR_CAPACITY' ? `, retrying until ${r.retryUntil.slice(0, 16)}Z` : '';
    parts.push(`${r.lastError.name}: ${r.lastError.message}${next}${until}`);
  }
  parts.push(elapsed(ms));
  return parts.join(' · ');
};

export interface WatchOptions {
  goal: 'READY' | 'DELETED';
  json: boolean;
  intervalMs?: number;
  /** Gives up (exit 2) after this long; default: never. */
  timeoutMs?: number;
}

export const watch = async (api: Api, requestId: string, io: CliIo, options: WatchOptions): Promise<number> => {
  const tty = Boolean((io.stdout as { isTTY?: boolean }).isTTY) && !options.json;
  const started = Date.now();
  let last = '';
  let frame = 0;
  /** The wait reason last shown, so a change of reason is named. */
  let shownReason: string | undefined;
  for (;;) {
    const { status, body } = await api.call<ClusterView & { message?: string }>('GET', `/clusters/${encodeURIComponent(requestId)}`);
    if (status !== 200) {
      if (tty) io.stdout.write('\n');
      io.stderr.write(`provision: cannot read ${requestId}: HTTP ${status} ${body.message ?? ''}\n`);
      return 2;
    }
    const ms = Date.now() - started;
    const reason = body.status === 'WAITING_FOR_CAPACITY' ? body.lastError?.reason : undefined;
    const line = progressLine(body, ms, shownReason);
    if (reason) shownReason = reason;
    const key = `${body.status}|${reason ?? ''}|${body.attempts}|${body.lastError?.at ?? ''}|${body.providerStatus ?? ''}|${body.nodes?.current ?? ''}|${body.waiting?.on ?? ''}|${body.waiting?.wokenAt ?? ''}`;
    if (options.json) {
      if (key !== last)
        io.stdout.write(
          `${JSON.stringify({ requestId, status: body.status, attempts: body.attempts, maxAttempts: body.maxAttempts, retryUntil: body.retryUntil, providerStatus: body.providerStatus, nodes: body.nodes, lastError: body.lastError, waiting: body.waiting, elapsedSeconds: Math.floor(ms / 1000) })}\n`,
        );
    } else if (tty) {
      io.stdout.write(`\r\x1b[2K${SPINNER[frame++ % SPINNER.length]} ${requestId} ${line}`);
    } else if (key !== last) {
      io.stdout.write(`${requestId} ${line}\n`);
    }
    last = key;
    const done = body.status === options.goal || body.status === 'FAILED' || (options.goal === 'READY' && body.status === 'DELETED');
    if (done) {
      if (tty) io.stdout.write('\n');
      if (body.status === options.goal) return 0;
      if (body.status === 'DELETED') {
        io.stderr.write(`${requestId} was already provisioned and deleted; to provision again, give the request a new requestId\n`);
      } else if (!options.json && body.lastError) {
        io.stderr.write(`${requestId} failed: ${body.lastError.name}: ${body.lastError.message}\n`);
      }
      return 1;
    }
    if (options.timeoutMs !== undefined && ms > options.timeoutMs) {
      if (tty) io.stdout.write('\n');
      io.stderr.write(`provision: gave up watching ${requestId} after ${elapsed(ms)}; it is ${body.status}\n`);
      return 2;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1000));
  }
};
