/**
 * Hostile input at every entry point (POST /clusters, SQS, EventBridge, the recurring schedule's template): numbers
 * outside what JSON and DynamoDB carry faithfully, prototype keys, nesting past 32 levels, unpaired surrogates. Each is
 * a 4xx (or a `Cluster Request Rejected` event) naming the pointer, with nothing recorded, started or scheduled.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startFaultHarness, type FaultHarness } from './harness';

let h: FaultHarness;
beforeAll(async () => {
  h = await startFaultHarness();
});

const example = (name: string) => readFileSync(new URL(`../../examples/${name}.json`, import.meta.url), 'utf8');
const EVERY_MEMBER = readFileSync(new URL('../fixtures/requests/hyperpod-every-member.json', import.meta.url), 'utf8');

let counter = 0;
/** An example's text with a fresh requestId and `edit` applied to the text (so raw JSON numbers and keys survive). */
const tirText = (edit: (text: string) => string = (t) => t) => {
  const id = `hostile-tir-${++counter}`;
  return { id, text: edit(example('tir-minimal').replace('"tir-minimal-001"', `"${id}"`)) };
};
const hyperpodText = (edit: (text: string) => string = (t) => t) => {
  const id = `hostile-hp-${++counter}`;
  return { id, text: edit(example('hyperpod-minimal').replace('"hyperpod-minimal-001"', `"${id}"`)) };
};
/** A pfs_mount_list item (whose keys other than id pass through to TIR) carrying `extra`. */
const withMount = (extra: string) => (text: string) => text.replace('"cluster": {', `"cluster": {"pfs_mount_list": [{"id": 1, ${extra}}],`);
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

interface Case {
  name: string;
  input: { id: string; text: string };
  /** Pointers the answer must name. */
  paths: string[];
  /** A fragment of the message at the first pointer. */
  message?: RegExp;
}

const MOUNT = '/cluster/pfs_mount_list/0';
const cases = (): Case[] => [
  {
    name: '1e400 (Infinity) in a pass-through field',
    input: tirText(withMount('"size": 1e400')),
    paths: [`${MOUNT}/size`],
    message: /finite/,
  },
  { name: '-1e400 in a pass-through field', input: tirText(withMount('"size": -1e400')), paths: [`${MOUNT}/size`], message: /finite/ },
  {
    name: 'an integer above 2^53 in a pass-through field',
    input: tirText(withMount('"size": 9007199254740993')),
    paths: [`${MOUNT}/size`],
    message: /2\^53/,
  },
  { name: '1e-200 in a pass-through field', input: tirText(withMount('"size": 1e-200')), paths: [`${MOUNT}/size`], message: /1e-130/ },
  { name: '1e400 at a TIR id', input: tirText((t) => t.replace('"projectId": 12345', '"projectId": 1e400')), paths: ['/projectId'] },
  {
    name: 'an integer above 2^53 at a TIR id',
    input: tirText((t) => t.replace('"projectId": 12345', '"projectId": 9007199254740993')),
    paths: ['/projectId'],
    message: /2\^53/,
  },
  {
    name: '1e-200 where CreateCluster takes an integer (TieredStorageConfig.InstanceMemoryAllocationPercentage)',
    input: (() => {
      const id = `hostile-every-${++counter}`;
      const request = JSON.parse(EVERY_MEMBER) as Record<string, unknown>;
      return {
        id,
        text: JSON.stringify({ ...request, requestId: id }).replace(
          /"InstanceMemoryAllocationPercentage":\d+/,
          '"InstanceMemoryAllocationPercentage":1e-200',
        ),
      };
    })(),
    paths: ['/cluster/TieredStorageConfig/InstanceMemoryAllocationPercentage'],
  },
  {
    name: '__proto__ in a pass-through object',
    input: tirText(withMount('"__proto__": {"x": 1}')),
    paths: [`${MOUNT}/__proto__`],
    message: /__proto__/,
  },
  { name: 'constructor in a pass-through object', input: tirText(withMount('"constructor": 1')), paths: [`${MOUNT}/constructor`] },
  { name: 'prototype in a pass-through object', input: tirText(withMount('"prototype": {}')), paths: [`${MOUNT}/prototype`] },
  {
    name: '__proto__ at the top level',
    input: hyperpodText((t) => t.replace('{', '{"__proto__": {"provider": "tir"},')),
    paths: ['/__proto__'],
  },
  {
    name: 'nesting 40 levels deep in a pass-through field',
    input: tirText(withMount(`"deep": ${nested(40)}`)),
    paths: [`${MOUNT}/deep${'/a'.repeat(28)}`],
    message: /32 levels/,
  },
  {
    name: 'objects nested 10,000 levels deep in a pass-through field',
    input: tirText(withMount(`"deep": ${nested(10_000)}`)),
    paths: [`${MOUNT}/deep${'/a'.repeat(28)}`],
    message: /32 levels/,
  },
  {
    // Within the 64 KiB body limit: 30,000 levels of arrays.
    name: 'arrays nested 30,000 levels deep in a pass-through field',
    input: tirText(withMount(`"deep": ${'['.repeat(30_000)}${']'.repeat(30_000)}`)),
    paths: [`${MOUNT}/deep${'/0'.repeat(28)}`],
    message: /32 levels/,
  },
  {
    name: 'an unpaired surrogate in a pass-through string',
    input: tirText(withMount('"label": "\\ud800x"')),
    paths: [`${MOUNT}/label`],
    message: /surrogate/,
  },
];

const pathsOf = (errors: Array<{ path: string }> | undefined) => (errors ?? []).map((e) => e.path);

describe('hostile input', () => {
  it.each(cases().map((c) => [c.name, c] as const))(
    'POST /clusters answers 400 for %s, naming the pointer, recording nothing',
    async (_, c) => {
      const writes = h.effects.writes.length;
      const starts = h.effects.starts.length;
      const res = await h.post(c.input.text);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('ValidationFailed');
      expect(pathsOf(res.body.errors)).toEqual(expect.arrayContaining(c.paths));
      if (c.message) expect(res.body.errors!.find((e) => e.path === c.paths[0])!.message).toMatch(c.message);
      expect(h.effects.writes.slice(writes)).toEqual([]);
      expect(h.effects.starts.slice(starts)).toEqual([]);
      expect(await h.store.get(c.input.id)).toBeUndefined();
    },
  );

  it('SQS rejects each of them with an event naming the pointer, acknowledging the whole batch, recording nothing', async () => {
    const all = cases();
    const writes = h.effects.writes.length;
    const events = h.effects.events.length;
    for (let i = 0; i < all.length; i += 10) {
      const batch = all.slice(i, i + 10);
      const result = await h.sqs(batch.map((c, j) => ({ body: c.input.text, messageId: `m-${i + j}` })));
      expect(result.batchItemFailures).toEqual([]);
    }
    const rejected = h.effects.events.slice(events);
    expect(rejected).toHaveLength(all.length);
    all.forEach((c, i) => {
      const detail = rejected.find((e) => e.Detail.messageId === `m-${i}`)?.Detail as { errors: Array<{ path: string }> } | undefined;
      expect(pathsOf(detail?.errors), c.name).toEqual(expect.arrayContaining(c.paths));
    });
    expect(h.effects.writes.slice(writes)).toEqual([]);
    for (const c of all) expect(await h.store.get(c.input.id)).toBeUndefined();
  });

  it('EventBridge rejects each of them with an event naming the pointer (the runtime parsed the JSON), recording nothing', async () => {
    const all = cases();
    const writes = h.effects.writes.length;
    for (const c of all) {
      const events = h.effects.events.length;
      await h.event(JSON.parse(c.input.text));
      const [rejection] = h.effects.events.slice(events);
      expect(rejection?.DetailType, c.name).toBe('Cluster Request Rejected');
      expect(pathsOf((rejection!.Detail as { errors: Array<{ path: string }> }).errors), c.name).toEqual(expect.arrayContaining(c.paths));
    }
    expect(h.effects.writes.slice(writes)).toEqual([]);
  });

  it('the recurring schedule rejects a hostile template with an event naming the pointer, recording nothing', async () => {
    const writes = h.effects.writes.length;
    for (const c of cases()) {
      const events = h.effects.events.length;
      const { requestId: _none, ...template } = JSON.parse(c.input.text) as Record<string, unknown>;
      await h.schedule({ schedule: `hostile-${++counter}`, scheduledTime: '2026-11-24T02:00:00Z', request: template });
      const [rejection] = h.effects.events.slice(events);
      expect(rejection?.DetailType, c.name).toBe('Cluster Request Rejected');
      expect(pathsOf((rejection!.Detail as { errors: Array<{ path: string }> }).errors), c.name).toEqual(expect.arrayContaining(c.paths));
    }
    expect(h.effects.writes.slice(writes)).toEqual([]);
  });

  it.each([
    ['a string', '"nightly"'],
    ['an array', '[{"provider": "tir"}]'],
    ['null', 'null'],
  ])('the recurring schedule rejects a template that is %s at the root, recording nothing', async (_, text) => {
    const events = h.effects.events.length;
    const writes = h.effects.writes.length;
    await h.schedule({ schedule: `hostile-${++counter}`, scheduledTime: '2026-11-24T02:00:00Z', request: JSON.parse(text) });
    const [rejection] = h.effects.events.slice(events);
    expect(rejection?.Detail).toMatchObject({
      source: 'schedule',
      reason: 'invalid-request',
      errors: [{ path: '', message: expect.stringMatching(/object/) }],
    });
    expect(h.effects.writes.slice(writes)).toEqual([]);
  });

  it('still accepts sound but unusual pass-through values (1.5, -0, 1e-100, unicode): the checks reject only what they should', async () => {
    const request = tirText(withMount('"size": 1.5, "label": "données 🚀", "tags": {"x": [1, -0, 1e-100]}'));
    const res = await h.post(request.text);
    expect(res.status).toBe(202);
    expect((await h.store.require(request.id)).request).toMatchObject({ cluster: { pfs_mount_list: [{ id: 1, size: 1.5 }] } });
  });
});

describe('GET /clusters with a forged cursor', () => {
  const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  it.each([
    ['a key longer than the index allows', b64({ k: `${'x'.repeat(1100)}#a`, id: 'a' })],
    ['an id that is no requestId', b64({ k: '2025-01-01T00:00:00.000Z#a b', id: 'a b' })],
    ['a position that is no timestamp', b64({ k: '#a', id: 'a' })],
    ['an unpaired surrogate', b64({ k: '2025-01-01T00:00:00.000Z#a\ud800', id: 'a\ud800' })],
    ['a NUL in the key', b64({ k: '\u0000#a', id: 'a' })],
    ['extra members', b64({ k: '2025-01-01T00:00:00.000Z#a', id: 'a', x: 1 })],
    ['a filter of the wrong type', b64({ k: '2025-01-01T00:00:00.000Z#a', id: 'a', s: ['READY'] })],
    ['JSON that is not an object', b64('[1,2]')],
    ['not base64 at all', '%%%%'],
    ['base64 of garbage', b64('\u00ff\u00fe')],
    ['longer than any cursor issued', 'A'.repeat(4096)],
    ['empty', ''],
  ])('answers 400 InvalidCursor for %s, never a 500', async (_, cursor) => {
    const res = await h.list({ cursor });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('InvalidCursor');
    expect(pathsOf(res.body.errors)).toEqual(['/queryStringParameters/cursor']);
  });

  it('still pages with the cursors it issues', async () => {
    for (let i = 0; i < 3; i++) expect((await h.post(tirText().text)).status).toBe(202);
    const first = await h.list({ limit: '2' });
    expect(first.status).toBe(200);
    const next = await h.list({ limit: '2', cursor: first.body.cursor as string });
    expect(next.status).toBe(200);
  });
});
