/** Hostile input: what any value anywhere in a request must be, whatever the schema says of its place. */
import { type Obj, at } from './schema';
import { type Findings, RANK } from './findings';

/** Levels of objects and arrays a request may nest, the root included: DynamoDB stores at most 32. */
export const MAX_DEPTH = 32;

/** The smallest magnitude DynamoDB stores, other than 0 (its numbers run from 1E-130 to 9.99…E+125). */
export const MIN_MAGNITUDE = 1e-130;

/** Keys that reach an object's prototype in code that assigns them (`target[key] = value`), however they got in. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export const FORBIDDEN_KEY = "is not accepted as a key: __proto__, constructor and prototype can reach an object's prototype";
export const UNPAIRED = 'an unpaired surrogate (U+D800 to U+DFFF), which UTF-8 cannot carry';

/** A surrogate code unit outside a pair: in a `u` regular expression a pair is one code point, so only a lone one matches. */
export const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** What is wrong with a number, if anything: the value JSON gave may not be the number that was sent. */
export const numberProblem = (value: number): string | undefined => {
  if (!Number.isFinite(value)) return 'must be a finite number: a JSON number this large is read as infinity';
  if (Number.isInteger(value) && !Number.isSafeInteger(value))
    return 'must be at most 2^53 - 1 (9007199254740991) in magnitude: a larger JSON number loses its exact value';
  if (value !== 0 && Math.abs(value) < MIN_MAGNITUDE) return 'must be 0 or at least 1e-130 in magnitude (the smallest number stored)';
  return undefined;
};

/** One object or array being walked: its members, the next one to visit, and where it is. */
export interface Level {
  value: object;
  keys: readonly string[] | undefined; // undefined: an array
  size: number;
  next: number;
  path: string;
}

/**
 * Walks the whole input once, without recursion (no input can exhaust the stack), depth first in the request's order,
 * and reports each problem at its pointer; nothing below a bad key or too deep a level is walked. Values reached twice
 * and cycles only occur in an input built in code (JSON has neither): a value that contains itself is a cycle, and one
 * reached again is walked again only from deeper down (where it may pass the depth limit), so the walk stays linear.
 */
export const structureProblems = (input: unknown, out: Findings): void => {
  const stack: Level[] = [];
  const onPath = new Set<object>();
  /** How many levels above each value it was last walked from: reached again no deeper, it has nothing new to tell. */
  const walkedBelow = new WeakMap<object, number>();
  const visit = (value: unknown, path: () => string): void => {
    if (typeof value === 'number') {
      const problem = numberProblem(value);
      if (problem) out.error(path(), problem, RANK.kind);
    } else if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) out.error(path(), `must be well-formed Unicode: it holds ${UNPAIRED}`, RANK.kind);
    } else if (typeof value === 'object' && value !== null) {
      if (onPath.has(value)) out.error(path(), 'contains itself (a cycle), which JSON cannot carry', RANK.kind);
      else if (stack.length <= (walkedBelow.get(value) ?? -1)) return;
      else if (stack.length >= MAX_DEPTH) out.error(path(), `is nested deeper than ${MAX_DEPTH} levels of objects and arrays`, RANK.kind);
      else {
        const keys = Array.isArray(value) ? undefined : Object.keys(value);
        stack.push({ value, keys, size: keys ? keys.length : (value as unknown[]).length, next: 0, path: path() });
        onPath.add(value);
      }
    }
  };
  visit(input, () => '');
  while (stack.length > 0) {
    if (out.full) return out.truncate();
    const level = stack.at(-1)!;
    if (level.next >= level.size) {
      stack.pop();
      onPath.delete(level.value);
      walkedBelow.set(level.value, stack.length);
      continue;
    }
    const index = level.next++;
    if (level.keys === undefined) {
      visit((level.value as unknown[])[index], () => at(level.path, index));
      continue;
    }
    const key = level.keys[index]!;
    if (FORBIDDEN_KEYS.has(key)) out.error(at(level.path, key), FORBIDDEN_KEY, RANK.kind);
    else if (LONE_SURROGATE.test(key)) out.error(at(level.path, key), `is a key holding ${UNPAIRED}`, RANK.kind);
    else visit((level.value as Obj)[key], () => at(level.path, key));
  }
};
