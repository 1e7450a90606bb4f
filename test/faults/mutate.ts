/**
 * Deterministic hostile inputs for the fuzz suite: each is a seed document (a shipped example or a test fixture)
 * put through one to three mutations, chosen by a PRNG seeded from (run seed, entry point, index), so any input can be
 * made again alone from those three numbers.
 *
 * A document is held as a tree whose objects keep their entries in order (a key may appear twice, `__proto__`
 * included, as JSON text allows) and whose leaves may be raw JSON text (`1e400`, nesting thousands deep), so the text
 * sent is exactly what a hostile client would write.
 */
import { readdirSync, readFileSync } from 'node:fs';

// ---- a small PRNG (mulberry32) and the choices made with it ----

export type Random = () => number;

export const mulberry32 = (seed: number): Random => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** The seed of one input: the run's seed mixed with the entry point and the input's index. */
export const inputSeed = (runSeed: number, entry: number, index: number): number => {
  let h = (runSeed ^ Math.imul(entry + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ index, 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
};

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: Random, lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));

// ---- the document tree ----

export class Raw {
  constructor(readonly text: string) {}
}
export class Obj {
  constructor(public entries: Array<[string, Node]>) {}
}
export type Node = null | boolean | number | string | Raw | Obj | Node[];

const fromJson = (value: unknown): Node => {
  if (Array.isArray(value)) return value.map(fromJson);
  if (value !== null && typeof value === 'object') return new Obj(Object.entries(value).map(([k, v]) => [k, fromJson(v)]));
  return value as Node;
};

const clone = (node: Node): Node => {
  if (Array.isArray(node)) return node.map(clone);
  if (node instanceof Obj) return new Obj(node.entries.map(([k, v]) => [k, clone(v)]));
  return node;
};

export const toText = (node: Node): string => {
  if (node instanceof Raw) return node.text;
  if (Array.isArray(node)) return `[${node.map(toText).join(',')}]`;
  if (node instanceof Obj) return `{${node.entries.map(([k, v]) => `${JSON.stringify(k)}:${toText(v)}`).join(',')}}`;
  return JSON.stringify(node);
};

/** A place in the tree that holds a value: read it, replace it, remove it. */
interface Slot {
  parent: Obj | Node[];
  index: number;
  value: Node;
}

const slotsOf = (root: Node): Slot[] => {
  const out: Slot[] = [];
  const walk = (node: Node) => {
    if (Array.isArray(node))
      node.forEach((value, index) => {
        out.push({ parent: node, index, value });
        walk(value);
      });
    else if (node instanceof Obj)
      node.entries.forEach(([, value], index) => {
        out.push({ parent: node, index, value });
        walk(value);
      });
  };
  walk(root);
  return out;
};

const objectsOf = (root: Node): Obj[] => {
  const out: Obj[] = [];
  const walk = (node: Node) => {
    if (node instanceof Obj) out.push(node);
    if (Array.isArray(node)) node.forEach(walk);
    else if (node instanceof Obj) for (const [, v] of node.entries) walk(v);
  };
  walk(root);
  return out;
};

const setSlot = (slot: Slot, value: Node): void => {
  if (Array.isArray(slot.parent)) slot.parent[slot.index] = value;
  else slot.parent.entries[slot.index]![1] = value;
};

const removeSlot = (slot: Slot): void => {
  if (Array.isArray(slot.parent)) slot.parent.splice(slot.index, 1);
  else slot.parent.entries.splice(slot.index, 1);
};

// ---- the mutations ----

const nest = (depth: number, arrays: boolean): Raw =>
  new Raw(arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

const WRONG_VALUES: ReadonlyArray<() => Node> = [
  () => null,
  () => true,
  () => false,
  () => 0,
  () => -1,
  () => 1.5,
  () => '',
  () => 'x',
  () => '0',
  () => 'true',
  () => [],
  () => [null],
  () => new Obj([]),
  () => new Obj([['x', 1]]),
];
const HUGE = [
  '1e400',
  '-1e400',
  '9007199254740993',
  '-9007199254740993',
  '18446744073709551616',
  '1e308',
  '123456789012345678901234567890',
  '1e21',
];
const TINY = ['1e-200', '-1e-200', '5e-324', '1e-400', '-0', '0.1', '1e-131', '1e-130', '0.000001', '2.5', '-0.0'];
const UNICODE = [
  '\ud800',
  '\udfff',
  'a\ud83d',
  '🚀',
  'é',
  'e\u0301',
  '\u202e',
  '\u200b',
  '\u0000',
  '\uffff',
  '\ufeff',
  'Ω≈ç√',
  '𝕏𝕏𝕏',
  '\u2028',
  '中文',
];
const PROTO = ['__proto__', 'constructor', 'prototype'];

type Mutation = (random: Random, root: Node) => Node;

/**
 * The objects whose unknown members the contract passes through (TIR pfs_mount_list and dataset_mount_list items):
 * there a hostile value is not an unknown field, so only the hostile-input checks stand between it and the store.
 */
const passThroughObjects = (root: Node): Obj[] => {
  const out: Obj[] = [];
  for (const object of objectsOf(root))
    for (const [key, value] of object.entries)
      if ((key === 'pfs_mount_list' || key === 'dataset_mount_list') && Array.isArray(value))
        for (const item of value) if (item instanceof Obj) out.push(item);
  return out;
};

/** A value no request may carry anywhere, as JSON text. */
const hostileValue = (random: Random): Node =>
  pick(random, [
    () => new Raw(pick(random, HUGE)),
    () => new Raw(pick(random, TINY)),
    () => nest(pick(random, [29, 30, 40, 3_000]), random() < 0.5),
    () => pick(random, ['\ud800', 'x\udfff', '\udc00\ud800']),
    () => new Obj([[pick(random, PROTO), new Obj([['polluted', true]])]]),
  ])();

/** The value of a slot picked at random, preferring (with `prefer`) slots holding that kind of value. */
const pickSlot = (random: Random, root: Node, prefer?: (value: Node) => boolean): Slot | undefined => {
  const slots = slotsOf(root);
  const preferred = prefer ? slots.filter((s) => prefer(s.value)) : [];
  const from = preferred.length > 0 && random() < 0.8 ? preferred : slots;
  return from.length > 0 ? pick(random, from) : undefined;
};

const replaceAt =
  (make: (random: Random) => Node, prefer?: (value: Node) => boolean): Mutation =>
  (random, root) => {
    const slot = pickSlot(random, root, prefer);
    if (!slot) return make(random);
    setSlot(slot, make(random));
    return root;
  };

const isNumber = (value: Node) => typeof value === 'number';
const isString = (value: Node) => typeof value === 'string';

export const MUTATIONS: Record<string, Mutation> = {
  /** A new member holding a hostile value (or under a prototype key), in a pass-through object when there is one. */
  hostileMember: (random, root) => {
    const passThrough = passThroughObjects(root);
    const objects = passThrough.length > 0 && random() < 0.8 ? passThrough : objectsOf(root);
    if (objects.length === 0) return root;
    const key = random() < 0.2 ? pick(random, PROTO) : pick(random, ['size', 'labels', 'x', 'options', 'é']);
    pick(random, objects).entries.push([key, hostileValue(random)]);
    return root;
  },
  wrongType: replaceAt((random) => pick(random, WRONG_VALUES)()),
  hugeNumber: replaceAt((random) => new Raw(pick(random, HUGE)), isNumber),
  tinyNumber: replaceAt((random) => new Raw(pick(random, TINY)), isNumber),
  deepNesting: replaceAt((random) => nest(pick(random, [31, 32, 33, 40, 200, 5_000, 12_000]), random() < 0.5)),
  protoKey: (random, root) => {
    const objects = objectsOf(root);
    if (objects.length === 0) return root;
    const target = pick(random, objects);
    const value = pick(random, [
      () => new Obj([['polluted', true]]),
      () => 1,
      () => null,
      () => new Obj([['provider', 'tir']]),
      () => [],
    ])();
    target.entries.splice(int(random, 0, target.entries.length), 0, [pick(random, PROTO), value]);
    return root;
  },
  unicode: (random, root) => {
    const text = pick(random, UNICODE);
    if (random() < 0.3) {
      const objects = objectsOf(root).filter((o) => o.entries.length > 0);
      if (objects.length > 0) {
        const entry = pick(random, pick(random, objects).entries);
        entry[0] = `${entry[0]}${text}`;
        return root;
      }
    }
    const slot = pickSlot(random, root, isString);
    if (!slot) return text;
    setSlot(slot, typeof slot.value === 'string' && random() < 0.5 ? `${slot.value}${text}` : text.repeat(int(random, 1, 50)));
    return root;
  },
  giantString: replaceAt((random) => 'x'.repeat(pick(random, [1_000, 10_000, 60_000, 70_000, 200_000])), isString),
  bigArray: replaceAt((random) => Array.from({ length: pick(random, [21, 100, 1_000, 20_000]) }, () => (random() < 0.5 ? 'x' : 1))),
  deletePointer: (random, root) => {
    const slot = pickSlot(random, root);
    if (slot) removeSlot(slot);
    return root;
  },
  duplicatePointer: (random, root) => {
    const slot = pickSlot(random, root);
    if (!slot) return root;
    if (Array.isArray(slot.parent)) slot.parent.splice(slot.index, 0, clone(slot.value));
    else if (random() < 0.5) {
      // The same key twice (JSON.parse keeps the last), with the same or another value.
      const [key] = slot.parent.entries[slot.index]!;
      slot.parent.entries.splice(slot.index + 1, 0, [key, random() < 0.5 ? clone(slot.value) : pick(random, WRONG_VALUES)()]);
    } else {
      const other = pickSlot(random, root);
      if (other) setSlot(other, clone(slot.value));
    }
    return root;
  },
  unknownKey: (random, root) => {
    const objects = objectsOf(root);
    if (objects.length === 0) return root;
    const target = pick(random, objects);
    const near = target.entries.length > 0 ? pick(random, target.entries)[0] : 'x';
    const key = pick(random, [near.toLowerCase(), `${near}s`, near.slice(1), `x-${int(random, 0, 999)}`, '', ' ', '~/', '$ref']);
    target.entries.push([key, pick(random, WRONG_VALUES)()]);
    return root;
  },
  provider: (random, root) => {
    if (!(root instanceof Obj)) return root;
    const entry = root.entries.find(([k]) => k === 'provider');
    const value = pick(random, ['sagemaker', 'tir', 'SageMaker', 'gcp', '', 'tir ']);
    if (entry) entry[1] = value;
    else root.entries.push(['provider', value]);
    return root;
  },
};

/** Harmless: an object's members in another order (the request, and its hash, stay the same). */
const reorder: Mutation = (random, root) => {
  const objects = objectsOf(root);
  if (objects.length > 0) pick(random, objects).entries.reverse();
  return root;
};

/** Mutations of the text itself, after the tree is written: what a broken client or a cut connection sends. */
export const TEXT_MUTATIONS: Record<string, (random: Random, text: string) => string> = {
  truncate: (random, text) => text.slice(0, int(random, 0, Math.max(0, text.length - 1))),
  garbage: (random, text) => {
    const at = int(random, 0, text.length);
    return `${text.slice(0, at)}${pick(random, ['{', '}', '[', ']', '"', ',', ':', '\\', 'NaN', 'Infinity', "'", '\u0000', '//', 'undefined'])}${text.slice(at)}`;
  },
  flip: (random, text) => {
    const at = int(random, 0, Math.max(0, text.length - 1));
    return `${text.slice(0, at)}${String.fromCharCode(int(random, 0, 0xffff))}${text.slice(at + 1)}`;
  },
};

// ---- the seeds ----

export interface Seed {
  name: string;
  text: string;
}

const ROOT = new URL('../../', import.meta.url);

/** The shipped examples and every request fixture (valid, invalid, not an object, not JSON). */
export const SEEDS: readonly Seed[] = [
  ...readdirSync(new URL('examples/', ROOT))
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ name: `examples/${f}`, text: readFileSync(new URL(`examples/${f}`, ROOT), 'utf8') })),
  ...readdirSync(new URL('test/fixtures/requests/', ROOT))
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ name: `test/fixtures/requests/${f}`, text: readFileSync(new URL(`test/fixtures/requests/${f}`, ROOT), 'utf8') })),
];

export interface FuzzInput {
  seed: string;
  mutations: string[];
  text: string;
}

const parseOr = (text: string): { value: unknown } | undefined => {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
};

/** Seeds that have pass-through objects, for the inputs aimed at them. */
const PASS_THROUGH_SEEDS = SEEDS.filter((seed) => /"(pfs|dataset)_mount_list"/.test(seed.text));

/**
 * One input: a seed, a fresh `requestId` (most of the time; else none, so it is derived: a valid input then makes a
 * record of its own rather than a conflict), then the tree mutated one of three ways: for one in sixteen, only a
 * harmless reordering (so the accepting path is driven too); for one in ten, exactly one hostile member, half the
 * time in a seed with pass-through objects (where nothing but the hostile-input checks can catch it); otherwise one
 * to three mutations of any kind. Sometimes the text itself is then broken.
 */
export const makeInput = (random: Random, requestId: string): FuzzInput => {
  const way = random();
  const targeted = way >= 0.06 && way < 0.16;
  const seed = targeted && random() < 0.5 ? pick(random, PASS_THROUGH_SEEDS) : pick(random, SEEDS);
  const parsed = parseOr(seed.text);
  const mutations: string[] = [];
  let text: string;
  if (parsed) {
    let root = fromJson(parsed.value);
    if (root instanceof Obj) {
      root.entries = root.entries.filter(([k]) => k !== 'requestId');
      if (random() < 0.85) root.entries.unshift(['requestId', requestId]);
    }
    const names = Object.keys(MUTATIONS);
    const steps =
      way < 0.06 ? ['reorder'] : targeted ? ['hostileMember'] : Array.from({ length: int(random, 1, 3) }, () => pick(random, names));
    for (const name of steps) {
      mutations.push(name);
      root = name === 'reorder' ? reorder(random, root) : MUTATIONS[name]!(random, root);
    }
    text = toText(root);
  } else {
    text = seed.text;
  }
  if (!parsed || random() < 0.15) {
    const name = pick(random, Object.keys(TEXT_MUTATIONS));
    mutations.push(name);
    text = TEXT_MUTATIONS[name]!(random, text);
  }
  return { seed: seed.name, mutations, text };
};
