/**
 * The commands that talk to a provisioner (local stack or deployed): submit, status, list, delete, events, reconcile, orphans.
 * Every one takes `--api URL` (env PROVISIONER_API_URL, default http://localhost:3000) and `--json`.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { FieldError } from '../../functions/core/errors';
import type { ReservedSuggestion } from '../../functions/core/offers';
import type { ProvisionRequest } from '../../functions/core/request';
import { normalizeRequest } from '../../functions/core/submit';
import { validateRequest } from '../../functions/core/validate';
import type { ClusterView } from '../../functions/core/view';
import { ApiUnreachableError, apiUrlFrom, createApi, type Api } from '../api';
import { EXIT, type CliIo, type Command } from '../types';
import { progressLine, watch } from '../watch';

const COMMON = {
  api: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Parsed = { values: Record<string, string | boolean | undefined>; positionals: string[] };

/** Parses, prints usage on --help or a bad flag, and turns an unreachable API into exit 2 with a clear message. */
const command = (
  summary: string,
  usage: string,
  options: ParseArgsConfig['options'],
  run: (args: Parsed, api: Api, io: CliIo) => Promise<number>,
): Command => ({
  summary,
  async run(argv, io) {
    let args: Parsed;
    try {
      args = parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: true, strict: true }) as Parsed;
    } catch (err) {
      io.stderr.write(`provision: ${(err as Error).message}\n\n${usage}`);
      return EXIT.usage;
    }
    if (args.values.help) {
      io.stdout.write(usage);
      return EXIT.ok;
    }
    try {
      return await run(args, createApi(apiUrlFrom(args.values.api as string | undefined)), io);
    } catch (err) {
      if (err instanceof ApiUnreachableError) {
        io.stderr.write(`provision: ${err.message}\n`);
        return EXIT.usage;
      }
      throw err;
    }
  },
});

const printErrors = (io: CliIo, prefix: string, errors: FieldError[]) => {
  for (const e of errors) io.stderr.write(`${prefix}${e.path || '/'}: ${e.message}\n`);
};

/** An API answer that is not a success: its message and field errors on stderr, exit 1. */
const refused = (io: CliIo, json: boolean, status: number, body: { code?: string; message?: string; errors?: FieldError[] }): number => {
  if (json) io.stdout.write(`${JSON.stringify({ status, ...body })}\n`);
  else {
    io.stderr.write(`provision: HTTP ${status}${body.code ? ` ${body.code}` : ''}: ${body.message ?? 'request refused'}\n`);
    printErrors(io, '  ', body.errors ?? []);
  }
  return status >= 500 ? EXIT.usage : EXIT.invalid;
};

const SUBMIT_USAGE = `Usage: provision submit FILE [--watch] [--via http|sqs|eventbridge] [--api URL] [--json]

Validates FILE locally, then submits it. --watch follows it to READY (exit 0) or FAILED (exit 1).
  --via http         POST /clusters (default)
  --via sqs          the local stack's queue intake (a real SQS batch event to the same handler)
  --via eventbridge  the local stack's bus (a "Provision Cluster Requested" event to the same rule)
  For a deployed stack, send to its queue or bus with the AWS CLI (see README), then: provision status ID --watch.
`;

export const submitCommand = command(
  'Submit a request file (HTTP, or the local queue / bus), optionally --watch it',
  SUBMIT_USAGE,
  { watch: { type: 'boolean', default: false }, via: { type: 'string', default: 'http' } },
  async ({ values, positionals }, api, io) => {
    const json = values.json as boolean;
    const via = values.via as string;
    if (positionals.length !== 1 || !['http', 'sqs', 'eventbridge'].includes(via)) {
      io.stderr.write(SUBMIT_USAGE);
      return EXIT.usage;
    }
    const file = positionals[0]!;
    let input: unknown;
    try {
      input = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
    } catch (err) {
      io.stderr.write(`provision: cannot read ${file}: ${(err as Error).message}\n`);
      return EXIT.usage;
    }
    const checked = validateRequest(input);
    if (!checked.valid || !checked.request) {
      printErrors(io, `${file}: `, checked.errors);
      return EXIT.invalid;
    }
    for (const w of checked.warnings) io.stderr.write(`${file}: warning: ${w.path}: ${w.message}\n`);

    let requestId: string;
    if (via === 'http') {
      const { status, body } = await api.call<{ requestId: string; status: string; message?: string }>('POST', '/clusters', input);
      if (status !== 200 && status !== 202) return refused(io, json, status, body);
      requestId = body.requestId;
      if (json && !values.watch) io.stdout.write(`${JSON.stringify({ requestId, status: body.status, replay: status === 200 })}\n`);
      else if (!json) io.stdout.write(`${requestId} ${status === 202 ? 'accepted' : 'already submitted'}: ${body.status}\n`);
    } else {
      // The queue and the bus answer no requestId: settle it here, the way the API would (same canonical hash).
      const request = checked.request as ProvisionRequest;
      requestId = request.requestId ?? normalizeRequest(request, process.env.AWS_REGION ?? 'us-east-1').requestId;
      const payload = { ...(input as object), requestId };
      const path = via === 'sqs' ? '/_local/sqs' : '/_local/events';
      const { status, body } = await api.call<{ batchItemFailures?: unknown[]; message?: string }>('POST', path, payload);
      if (status === 404) {
        io.stderr.write(
          `provision: ${api.base} has no local ${via} intake; for a deployed stack send the file with the AWS CLI (README, "Entry points").\n`,
        );
        return EXIT.usage;
      }
      if (status !== 200 || (body.batchItemFailures?.length ?? 0) > 0) return refused(io, json, status, body);
      if (!(input as { requestId?: string }).requestId && !json)
        io.stdout.write(`(no requestId in ${file}: using ${requestId}, derived from the request)\n`);
      if (json && !values.watch) io.stdout.write(`${JSON.stringify({ requestId, via })}\n`);
      else if (!json) io.stdout.write(`${requestId} sent via ${via}\n`);
    }
    if (!values.watch) return EXIT.ok;
    return watch(api, requestId, io, { goal: 'READY', json, ...pollEvery() });
  },
);

/** How often --watch polls: PROVISION_WATCH_INTERVAL_MS, default 1000. */
const pollEvery = (): { intervalMs: number } => {
  const ms = Number(process.env.PROVISION_WATCH_INTERVAL_MS);
  return { intervalMs: Number.isFinite(ms) && ms >= 50 ? ms : 1000 };
};

/** One reserved-capacity suggestion in words, each figure with its source and date. */
const describeSuggestion = (s: ReservedSuggestion): string =>
  `${s.instanceCount} x ${s.instanceType} ${s.where}${s.availabilityZone ? ` (${s.availabilityZone})` : ''}: offering ${s.offeringId}, ` +
  `from ${s.start ?? 'now'} for ${s.durationHours} h, upfront ${s.upfrontFee !== undefined ? `${s.upfrontFee} ${s.currency ?? 'USD'}` : 'fee not stated'}` +
  ` (${s.source}, ${s.asOf})` +
  (s.onDemand ? `; on demand the same hours: ${s.onDemand.usd} USD (${s.onDemand.source}, ${s.onDemand.asOf})` : '');

const STATUS_USAGE = `Usage: provision status ID [--watch] [--api URL] [--json]

Shows the record of a request: status, attempts, the last provider error, provider ids, history.
`;

export const statusCommand = command(
  "Show one request's record (--watch to follow it)",
  STATUS_USAGE,
  { watch: { type: 'boolean', default: false } },
  async ({ values, positionals }, api, io) => {
    if (positionals.length !== 1) {
      io.stderr.write(STATUS_USAGE);
      return EXIT.usage;
    }
    const id = positionals[0]!;
    if (values.watch) return watch(api, id, io, { goal: 'READY', json: values.json as boolean, ...pollEvery() });
    const { status, body } = await api.call<ClusterView & { message?: string }>('GET', `/clusters/${encodeURIComponent(id)}`);
    if (status !== 200) return refused(io, values.json as boolean, status, body as never);
    if (values.json) {
      io.stdout.write(`${JSON.stringify(body)}\n`);
      return EXIT.ok;
    }
    const where = body.provider === 'sagemaker' ? body.region : `${body.location} (project ${body.projectId})`;
    io.stdout.write(
      [
        `${body.requestId}  ${body.provider} ${where}  cluster ${body.clusterName}`,
        `  ${progressLine(body, Date.now() - Date.parse(body.acceptedAt))}`,
        ...(body.providerId ? [`  provider id ${body.providerId}`] : []),
        ...(body.landed
          ? [`  landed on ${body.landed.provider} ${'region' in body.landed ? body.landed.region : body.landed.location}`]
          : []),
        ...(body.cost
          ? [`  cost ${body.cost.usdPerHour} USD/h, ${body.cost.sinceReadyUsd} USD since ready (${body.cost.source}, ${body.cost.asOf})`]
          : []),
        ...(body.zoneHint
          ? [
              `  EC2 named capacity in ${body.zoneHint.zones.join(', ')}${body.zoneHint.shortIn ? ` (short in ${body.zoneHint.shortIn})` : ''} at ${body.zoneHint.at}`,
            ]
          : []),
        ...(body.reservedOffers
          ? [
              `  reserved capacity (training-plan offerings, not bought; looked ${body.reservedOffers.at}, waiting since ${body.reservedOffers.waitingSince}):`,
              ...(body.reservedOffers.suggestions.length > 0
                ? body.reservedOffers.suggestions.map((s) => `    ${describeSuggestion(s)}`)
                : ['    none offered for the rest of the horizon']),
              ...(body.reservedOffers.note ? [`    ${body.reservedOffers.note}`] : []),
            ]
          : []),
        ...(body.attemptLog?.length
          ? ['  attempts and skips:', ...body.attemptLog.map((e) => `  ${e.at}  ${e.where.padEnd(22)} ${e.outcome.padEnd(8)} ${e.reason}`)]
          : []),
        '  history:',
        ...body.history.map((h) => `  ${h.at}  ${(h.from ?? '').padEnd(20)} -> ${h.to.padEnd(20)} ${h.reason ?? ''}`),
        '',
      ].join('\n'),
    );
    return EXIT.ok;
  },
);

const LIST_USAGE = `Usage: provision list [--status S] [--provider sagemaker|tir] [--limit N] [--cursor C] [--api URL] [--json]

Lists requests, newest first.
`;

export const listCommand = command(
  'List requests, newest first (filter by --status / --provider)',
  LIST_USAGE,
  { status: { type: 'string' }, provider: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } },
  async ({ values }, api, io) => {
    const query = new URLSearchParams();
    for (const key of ['status', 'provider', 'limit', 'cursor'] as const)
      if (typeof values[key] === 'string') query.set(key, values[key] as string);
    const { status, body } = await api.call<{ items: ClusterView[]; cursor?: string }>('GET', `/clusters${query.size ? `?${query}` : ''}`);
    if (status !== 200) return refused(io, values.json as boolean, status, body as never);
    if (values.json) {
      io.stdout.write(`${JSON.stringify(body)}\n`);
      return EXIT.ok;
    }
    for (const r of body.items)
      io.stdout.write(`${r.requestId.padEnd(40)} ${r.provider.padEnd(10)} ${r.status.padEnd(21)} ${r.clusterName}  ${r.acceptedAt}\n`);
    if (body.items.length === 0) io.stdout.write('(no requests)\n');
    if (body.cursor) io.stdout.write(`more: provision list --cursor ${body.cursor}\n`);
    return EXIT.ok;
  },
);

const DELETE_USAGE = `Usage: provision delete ID [--watch] [--api URL] [--json]

Deletes the request's cluster (READY or FAILED), or cancels a SCHEDULED request. --watch follows it to DELETED.
`;

export const deleteCommand = command(
  "Delete a request's cluster (--watch to follow it to DELETED)",
  DELETE_USAGE,
  { watch: { type: 'boolean', default: false } },
  async ({ values, positionals }, api, io) => {
    if (positionals.length !== 1) {
      io.stderr.write(DELETE_USAGE);
      return EXIT.usage;
    }
    const id = positionals[0]!;
    const { status, body } = await api.call<{ status: string; message?: string }>('DELETE', `/clusters/${encodeURIComponent(id)}`);
    if (status !== 200 && status !== 202) return refused(io, values.json as boolean, status, body as never);
    if (!values.watch) {
      io.stdout.write(values.json ? `${JSON.stringify({ requestId: id, status: body.status })}\n` : `${id} ${body.status}\n`);
      return EXIT.ok;
    }
    return watch(api, id, io, { goal: 'DELETED', json: values.json as boolean, ...pollEvery() });
  },
);

const EVENTS_USAGE = `Usage: provision events [--watch] [--api URL] [--json]

Prints the events the local stack put on its bus ($DATA_DIR/events.ndjson). --watch (or --follow) keeps printing
new ones as they happen, Cluster Waiting For Capacity with its wait reason included.
Deployed stacks: subscribe to the bus with an EventBridge rule instead.
`;

/** One event as a line: time, detail-type, requestId, status, and what it adds (an error, a wait reason). */
export const eventLine = (e: { DetailType: string; Time: string; Detail: Record<string, unknown> }): string => {
  const d = e.Detail;
  const error = (d.error as { name?: string } | undefined)?.name;
  const wait = d.wait as { reason?: string; previousReason?: string; nextAttemptAt?: string } | undefined;
  const waiting = wait?.reason
    ? ` waiting for ${wait.reason}${wait.previousReason ? ` (was ${wait.previousReason})` : ''}${
        wait.nextAttemptAt ? `, next attempt by ${wait.nextAttemptAt.slice(11, 19)}Z` : ''
      }`
    : '';
  return `${e.Time}  ${e.DetailType.padEnd(28)} ${String(d.requestId ?? '')}${d.status ? ` ${String(d.status)}` : ''}${error ? ` ${error}` : ''}${waiting}`;
};

export const eventsCommand = command(
  "Print the local stack's bus events (--watch)",
  EVENTS_USAGE,
  { follow: { type: 'boolean', short: 'f', default: false }, watch: { type: 'boolean', short: 'w', default: false } },
  async ({ values }, api, io) => {
    let after = 0;
    for (;;) {
      const { status, body } = await api.call<{
        events: Array<{ DetailType: string; Time: string; Detail: Record<string, unknown> }>;
        next: number;
      }>('GET', `/_local/events?after=${after}`);
      if (status === 404) {
        io.stderr.write(`provision: ${api.base} is not a local stack; subscribe to a deployed stack's bus with an EventBridge rule.\n`);
        return EXIT.usage;
      }
      for (const e of body.events) io.stdout.write(`${values.json ? JSON.stringify(e) : eventLine(e)}\n`);
      after = body.next;
      if (!values.follow && !values.watch) return EXIT.ok;
      await new Promise((resolve) => setTimeout(resolve, pollEvery().intervalMs));
    }
  },
);

const RECONCILE_USAGE = `Usage: provision reconcile [--api URL] [--json]

Runs the reconciler now (it runs every 5 minutes anyway): every provisioning or deletion whose workflow died is
resumed from its record, a due scheduled request is started, a lost teardown is made again. Prints what it did.
`;

export const reconcileCommand = command('Resume every workflow that died, now', RECONCILE_USAGE, {}, async ({ values }, api, io) => {
  const { status, body } = await api.call<{ checked: number; actions: Array<{ requestId: string; status: string; action: string }> }>(
    'POST',
    '/reconcile',
  );
  if (status !== 200) return refused(io, Boolean(values.json), status, body as { code?: string; message?: string });
  if (values.json) {
    io.stdout.write(`${JSON.stringify(body)}\n`);
    return EXIT.ok;
  }
  const done = body.actions.filter((a) => a.action !== 'running' && a.action !== 'recent');
  for (const a of done) io.stdout.write(`${a.requestId}  ${a.status}  ${a.action}\n`);
  io.stdout.write(`checked ${body.checked} record(s); ${done.length === 0 ? 'nothing to resume' : `${done.length} acted on`}\n`);
  return EXIT.ok;
});

const ORPHANS_USAGE = `Usage: provision orphans [--api URL] [--json]

Lists this deployment's clusters that no record owns, without touching them (the sweeper runs every hour):
  orphan    it names no request, or one no record has: reported by the sweep, never deleted (delete it yourself)
  leftover  its record is DELETED or FAILED, or owns another cluster: the sweep deletes it after the date shown
Only clusters carrying this deployment's name are looked at (HyperPod tag provisioner:deployment, TIR owner marker).
`;

interface OrphanLine {
  location: { provider: string; region?: string; projectId?: number; location?: string };
  clusterName: string;
  providerId: string;
  requestId?: string;
  finding: string;
  reason: string;
  dueAt?: string;
}

export const orphansCommand = command("List this deployment's clusters no record owns", ORPHANS_USAGE, {}, async ({ values }, api, io) => {
  const { status, body } = await api.call<{
    orphans: OrphanLine[];
    failures: Array<{ location: OrphanLine['location']; error: { message: string } }>;
  }>('GET', '/orphans');
  if (status !== 200) return refused(io, Boolean(values.json), status, body as { code?: string; message?: string });
  if (values.json) {
    io.stdout.write(`${JSON.stringify(body)}\n`);
    return EXIT.ok;
  }
  const where = (l: OrphanLine['location']) => (l.provider === 'sagemaker' ? `sagemaker ${l.region}` : `tir ${l.projectId}/${l.location}`);
  for (const o of body.orphans) {
    const due = o.finding === 'leftover' && o.dueAt ? `  deleted after ${o.dueAt}` : '';
    io.stdout.write(`${o.finding.padEnd(8)}  ${where(o.location)}  ${o.clusterName}  ${o.providerId}  ${o.reason}${due}\n`);
  }
  for (const f of body.failures) io.stderr.write(`provision: could not list ${where(f.location)}: ${f.error.message}\n`);
  io.stdout.write(`${body.orphans.length === 0 ? 'no orphan' : `${body.orphans.length} found`}\n`);
  return body.failures.length > 0 ? EXIT.invalid : EXIT.ok;
});
