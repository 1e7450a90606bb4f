/**
 * Fuzz: thousands of hostile inputs (test/faults/mutate.ts: mutations of the shipped examples and the request
 * fixtures) driven through the real entry points over the real store (dynalite) with a recording starter:
 * POST /clusters through its middy stack (every answer checked against the OpenAPI document), SQS batches, EventBridge
 * events and the recurring schedule's template.
 *
 * For every input: no 5xx, nothing thrown out of a handler (an SQS item failure counts: it would be redelivered), a
 * rejection names at least one JSON Pointer, a rejected input causes no write, start or schedule, and each input (an
 * SQS batch) answers within its time budget; one that does not answer at all is reported as stuck and the run goes on.
 * At the end, every record in the table belongs to an accepted input, none to a rejected one.
 *
 *   npm run test:faults                                    # the default run (see DEFAULT_COUNT)
 *   FUZZ_COUNT=200000 npm test -- test/faults              # a bigger run
 *   FUZZ_SEED=7 FUZZ_COUNT=50000 npm run test:faults       # another sequence; a failure names its seed and index
 *
 * A synchronous hang cannot be interrupted from inside the worker: the input each entry point is running is always
 * written to $TMPDIR/provisioner-fuzz-current.json, which then names it (among at most four).
 */
import { ftruncateSync, openSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_ID } from '../../functions/contract/request-id.js';
import { normalizeRequest } from '../../functions/core/submit';
import { occurrenceRequestId } from '../../functions/handlers/schedule-target';
import { startFaultHarness, type Effects, type FaultHarness } from './harness';
import { inputSeed, makeInput, mulberry32, type FuzzInput } from './mutate';

/** Inputs across the four entry points (11,400 through HTTP, SQS and EventBridge): well within a minute on two cores. */
const DEFAULT_COUNT = 12_000;
const COUNT = Number(process.env.FUZZ_COUNT ?? DEFAULT_COUNT);
const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
/**
 * What one input (one SQS batch) may take before it is reported as slow: far above what any takes alone (the slowest,
 * an accepted request written to dynalite while the other entry points run, takes about a second at worst), so a
 * loaded CI machine stays within it and a runaway input does not.
 */
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 5_000);
/** Past this, an input is reported as stuck and the run moves on without it. */
const STUCK_MS = 6 * BUDGET_MS;

const ENTRIES = ['http', 'sqs', 'eventbridge', 'schedule'] as const;
type Entry = (typeof ENTRIES)[number];
const SHARE: Record<Entry, number> = { http: 0.4, sqs: 0.35, eventbridge: 0.2, schedule: 0.05 };
const COUNTS = Object.fromEntries(ENTRIES.map((e) => [e, Math.round(COUNT * SHARE[e])])) as Record<Entry, number>;

/** A lane's own time limit grows with the count (the per-input budget above is what judges the inputs). */
const LANE_TIMEOUT_MS = Math.max(300_000, COUNT * 20);

const CURRENT = join(tmpdir(), 'provisioner-fuzz-current.json');
/** What each entry point is running now (written before each input, so a hang that blocks the worker is named). */
const running: Partial<Record<Entry, unknown>> = {};
const current = openSync(CURRENT, 'w');

interface Problem {
  entry: Entry;
  index: number;
  what: string;
  input: FuzzInput;
}

interface Stats {
  inputs: number;
  accepted: number;
  rejected: number;
  times: number[];
}

/** One harness (its own table, its own recorded effects) per entry point: the four run at the same time. */
const harness = {} as Record<Entry, FaultHarness>;
const problems: Problem[] = [];
const stats = Object.fromEntries(ENTRIES.map((e): [Entry, Stats] => [e, { inputs: 0, accepted: 0, rejected: 0, times: [] }])) as Record<
  Entry,
  Stats
>;
/** Per entry point: every requestId an accepted input was recorded under, and every explicit one a rejected input carried. */
const acceptedIds = Object.fromEntries(ENTRIES.map((e) => [e, new Set<string>()])) as Record<Entry, Set<string>>;
const rejectedIds = Object.fromEntries(ENTRIES.map((e) => [e, new Set<string>()])) as Record<Entry, Set<string>>;
const started = Date.now();

beforeAll(async () => {
  for (const entry of ENTRIES) harness[entry] = await startFaultHarness();
});

const inputFor = (entry: Entry, index: number): FuzzInput =>
  makeInput(mulberry32(inputSeed(SEED, ENTRIES.indexOf(entry), index)), `fz-${entry}-${index}`);

const parse = (text: string): { value: unknown } | undefined => {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
};

/** The explicit, well-formed requestId an input carries, if any. */
const explicitId = (value: unknown): string | undefined => {
  const id = value !== null && typeof value === 'object' ? (value as { requestId?: unknown }).requestId : undefined;
  return typeof id === 'string' && REQUEST_ID.test(id) ? id : undefined;
};

/** The requestId an accepted request is recorded under (explicit, or derived from the request). */
const recordedId = (value: unknown): string => normalizeRequest(value as Parameters<typeof normalizeRequest>[0], 'us-east-1').requestId;

const POINTER = /^(\/([^~]|~[01])*)*$/;
const namesPointers = (errors: unknown): boolean =>
  Array.isArray(errors) &&
  errors.length > 0 &&
  errors.every((e) => typeof (e as { path?: unknown }).path === 'string' && POINTER.test((e as { path: string }).path));

const mark = (effects: Effects) => ({ writes: effects.writes.length, starts: effects.starts.length, schedules: effects.schedules.length });
const since = (effects: Effects, at: ReturnType<typeof mark>) => ({
  writes: effects.writes.slice(at.writes),
  starts: effects.starts.slice(at.starts),
  schedules: effects.schedules.slice(at.schedules),
});
const nothingCaused = (caused: ReturnType<typeof since>) =>
  caused.writes.length === 0 && caused.starts.length === 0 && caused.schedules.length === 0;

/** Runs one input (or batch) against its budget; `undefined` when it is stuck (reported, and left behind). */
const timed = async <T>(entry: Entry, index: number, inputs: FuzzInput[], run: () => Promise<T>): Promise<{ value: T } | undefined> => {
  running[entry] = { index, inputs: inputs.map((i) => ({ ...i, text: i.text.slice(0, 2000) })) };
  const written = writeSync(current, JSON.stringify({ seed: SEED, running }), 0);
  ftruncateSync(current, written);
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<'stuck'>((resolve) => {
    timer = setTimeout(() => resolve('stuck'), STUCK_MS);
  });
  try {
    const outcome = await Promise.race([run().then((value) => ({ value })), stuck]);
    const ms = performance.now() - t0;
    stats[entry].times.push(ms);
    if (outcome === 'stuck') {
      for (const input of inputs) problems.push({ entry, index, what: `stuck: no answer after ${STUCK_MS} ms`, input });
      return undefined;
    }
    if (ms > BUDGET_MS) for (const input of inputs) problems.push({ entry, index, what: `slow: ${Math.round(ms)} ms`, input });
    return outcome;
  } catch (err) {
    stats[entry].times.push(performance.now() - t0);
    for (const input of inputs)
      problems.push({ entry, index, what: `threw ${(err as Error).name}: ${(err as Error).message.slice(0, 300)}`, input });
    return undefined;
  } finally {
    clearTimeout(timer);
  }
};

const report = (entry: Entry) => {
  const mine = problems.filter((p) => p.entry === entry);
  return mine.slice(0, 10).map((p) => ({
    index: p.index,
    what: p.what,
    seed: p.input.seed,
    mutations: p.input.mutations.join(', '),
    text: p.input.text.slice(0, 300),
  }));
};

describe(`fuzz: ${COUNT} inputs from seed ${SEED}`, () => {
  it.concurrent(
    `POST /clusters: ${COUNTS.http} bodies through the middy stack, every answer as the OpenAPI document says`,
    async ({ expect }) => {
      const h = harness.http;
      for (let index = 0; index < COUNTS.http; index++) {
        const input = inputFor('http', index);
        stats.http.inputs++;
        const before = mark(h.effects);
        const outcome = await timed('http', index, [input], () => h.post(input.text));
        if (!outcome) continue;
        const { status, body } = outcome.value;
        const problem = (what: string) => problems.push({ entry: 'http', index, what, input });
        if (status >= 500) problem(`answered ${status} ${body.code}`);
        else if (status < 300) {
          stats.http.accepted++;
          acceptedIds.http.add(body.requestId as string);
        } else {
          stats.http.rejected++;
          const id = explicitId(parse(input.text)?.value);
          if (id) rejectedIds.http.add(id);
          if (!namesPointers(body.errors)) problem(`answered ${status} ${body.code} naming no pointer`);
          const caused = since(h.effects, before);
          if (!nothingCaused(caused)) problem(`answered ${status} but caused ${JSON.stringify(caused)}`);
        }
      }
      expect(report('http')).toEqual([]);
    },
    LANE_TIMEOUT_MS,
  );

  it.concurrent(
    `SQS: ${COUNTS.sqs} messages in batches of 1 to 10, each accepted or rejected with an event, none redelivered`,
    async ({ expect }) => {
      const h = harness.sqs;
      const random = mulberry32(inputSeed(SEED, 99, 0));
      for (let first = 0; first < COUNTS.sqs; ) {
        const size = Math.min(1 + Math.floor(random() * 10), COUNTS.sqs - first);
        const batch = Array.from({ length: size }, (_, i) => ({ index: first + i, input: inputFor('sqs', first + i) }));
        first += size;
        stats.sqs.inputs += size;
        const before = mark(h.effects);
        const eventsBefore = h.effects.events.length;
        const outcome = await timed(
          'sqs',
          batch[0]!.index,
          batch.map((b) => b.input),
          () => h.sqs(batch.map((b) => ({ body: b.input.text, messageId: `m-${b.index}` }))),
        );
        if (!outcome) continue;
        const failed = new Set(outcome.value.batchItemFailures.map((f) => f.itemIdentifier));
        const rejections = new Map(
          h.effects.events
            .slice(eventsBefore)
            .filter((e) => e.DetailType === 'Cluster Request Rejected')
            .map((e) => [e.Detail.messageId as string, e.Detail as { errors?: unknown }]),
        );
        const accepted = new Set<string>();
        for (const { index, input } of batch) {
          const problem = (what: string) => problems.push({ entry: 'sqs', index, what, input });
          const messageId = `m-${index}`;
          const parsed = parse(input.text);
          if (failed.has(messageId)) problem('failed: the message would be redelivered');
          else if (rejections.has(messageId)) {
            stats.sqs.rejected++;
            const id = explicitId(parsed?.value);
            if (id) rejectedIds.sqs.add(id);
            if (!namesPointers(rejections.get(messageId)!.errors)) problem('rejected naming no pointer');
          } else if (!parsed) problem('accepted a body that is not JSON');
          else {
            stats.sqs.accepted++;
            accepted.add(recordedId(parsed.value));
          }
        }
        for (const id of accepted) acceptedIds.sqs.add(id);
        // Messages are handled concurrently: what the batch caused must all be the accepted messages' doing.
        const caused = since(h.effects, before);
        const stray = [...caused.writes.map((w) => w.split(' ')[1]!), ...caused.starts, ...caused.schedules].filter(
          (id) => !accepted.has(id),
        );
        if (stray.length > 0)
          problems.push({
            entry: 'sqs',
            index: batch[0]!.index,
            what: `caused effects for no accepted message: ${stray}`,
            input: batch[0]!.input,
          });
      }
      expect(report('sqs')).toEqual([]);
    },
    LANE_TIMEOUT_MS,
  );

  it.concurrent(
    `EventBridge: ${COUNTS.eventbridge} events (detail as the Lambda runtime parses it), each accepted or rejected with an event`,
    async ({ expect }) => {
      const h = harness.eventbridge;
      for (let index = 0; index < COUNTS.eventbridge; index++) {
        const input = inputFor('eventbridge', index);
        stats.eventbridge.inputs++;
        // EventBridge only carries JSON: text that is not JSON arrives as a JSON string.
        const detail = parse(input.text)?.value ?? input.text;
        const before = mark(h.effects);
        const eventsBefore = h.effects.events.length;
        const outcome = await timed('eventbridge', index, [input], () => h.event(detail));
        if (!outcome) continue;
        const problem = (what: string) => problems.push({ entry: 'eventbridge', index, what, input });
        const [rejection, ...more] = h.effects.events.slice(eventsBefore).filter((e) => e.DetailType === 'Cluster Request Rejected');
        if (more.length > 0) problem(`rejected ${more.length + 1} times`);
        if (rejection) {
          stats.eventbridge.rejected++;
          const id = explicitId(detail);
          if (id) rejectedIds.eventbridge.add(id);
          if (!namesPointers((rejection.Detail as { errors?: unknown }).errors)) problem('rejected naming no pointer');
          const caused = since(h.effects, before);
          if (!nothingCaused(caused)) problem(`rejected but caused ${JSON.stringify(caused)}`);
        } else {
          stats.eventbridge.accepted++;
          acceptedIds.eventbridge.add(recordedId(detail));
        }
      }
      expect(report('eventbridge')).toEqual([]);
    },
    LANE_TIMEOUT_MS,
  );

  it.concurrent(
    `the recurring schedule: ${COUNTS.schedule} templates, each accepted or rejected with an event`,
    async ({ expect }) => {
      const h = harness.schedule;
      for (let index = 0; index < COUNTS.schedule; index++) {
        const input = inputFor('schedule', index);
        stats.schedule.inputs++;
        const parsed = parse(input.text)?.value ?? input.text;
        const template =
          parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
            ? Object.fromEntries(Object.entries(parsed).filter(([k]) => k !== 'requestId'))
            : parsed;
        const event = { schedule: `fz-${index}`, scheduledTime: '2026-11-24T02:00:00Z', request: template };
        const before = mark(h.effects);
        const eventsBefore = h.effects.events.length;
        const outcome = await timed('schedule', index, [input], () => h.schedule(event));
        if (!outcome) continue;
        const problem = (what: string) => problems.push({ entry: 'schedule', index, what, input });
        const rejection = h.effects.events.slice(eventsBefore).find((e) => e.DetailType === 'Cluster Request Rejected');
        const id = occurrenceRequestId(event.schedule, event.scheduledTime);
        if (rejection) {
          stats.schedule.rejected++;
          rejectedIds.schedule.add(id);
          if (!namesPointers((rejection.Detail as { errors?: unknown }).errors)) problem('rejected naming no pointer');
          if (!nothingCaused(since(h.effects, before))) problem('rejected but caused effects');
        } else {
          stats.schedule.accepted++;
          acceptedIds.schedule.add(id);
        }
      }
      expect(report('schedule')).toEqual([]);
    },
    LANE_TIMEOUT_MS,
  );

  it('leaves a record for every accepted input and none for a rejected one', async () => {
    for (const entry of ENTRIES) {
      const recorded = new Set(await harness[entry].recordedIds());
      expect(
        [...acceptedIds[entry]].filter((id) => !recorded.has(id)),
        entry,
      ).toEqual([]);
      expect(
        [...recorded].filter((id) => !acceptedIds[entry].has(id)),
        entry,
      ).toEqual([]);
      expect(
        [...rejectedIds[entry]].filter((id) => recorded.has(id) && !acceptedIds[entry].has(id)),
        entry,
      ).toEqual([]);
      // Not vacuous: both outcomes happen at every entry point.
      expect(stats[entry].rejected, entry).toBeGreaterThan(stats[entry].inputs / 2);
      expect(stats[entry].accepted, entry).toBeGreaterThan(0);
    }
    // The default run: at least 10,000 inputs through HTTP, SQS and EventBridge alone.
    if (process.env.FUZZ_COUNT === undefined)
      expect(stats.http.inputs + stats.sqs.inputs + stats.eventbridge.inputs).toBeGreaterThanOrEqual(10_000);
  });
});

afterAll(() => {
  const quantile = (times: number[], q: number) =>
    [...times].sort((a, b) => a - b)[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  const lines = ENTRIES.map((e) => {
    const s = stats[e];
    return `  ${e.padEnd(12)} ${String(s.inputs).padStart(7)} inputs  ${String(s.accepted).padStart(6)} accepted  ${String(s.rejected).padStart(7)} rejected  p50 ${quantile(s.times, 0.5).toFixed(2)} ms  p99 ${quantile(s.times, 0.99).toFixed(2)} ms  max ${s.times.reduce((a, b) => Math.max(a, b), 0).toFixed(1)} ms  sum ${(s.times.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s`;
  });
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    [
      `fuzz: seed ${SEED}, ${COUNT} inputs in ${((Date.now() - started) / 1000).toFixed(1)} s on ${cpus().length} × ${cpu}, Node ${process.version}; ${problems.length} problems`,
      ...lines,
    ].join('\n'),
  );
});
