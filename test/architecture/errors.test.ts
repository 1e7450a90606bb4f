/**
 * One error taxonomy: every error class under functions/ is declared in functions/core/errors.ts from a name of
 * functions/contract/errors.js, but for the few that never leave the platform or an adapter, which the contract's
 * comment names with the reason.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const TAXONOMY = 'functions/core/errors.ts';
const CONTRACT = 'functions/contract/errors.js';
/** Outside the taxonomy on purpose (functions/contract/errors.js says why). */
const OUTSIDE = ['ConfigError', 'HttpError', 'TirWireError'];

const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });

/** Every class whose name ends in Error (or that extends an Error class), by file. */
const errorClasses = (): Array<{ file: string; name: string }> =>
  sources(join(ROOT, 'functions')).flatMap((path) =>
    [...readFileSync(path, 'utf8').matchAll(/\bclass\s+(\w+)\s+extends\s+([\w.]+(?:\([^)]*\))?)/g)]
      .filter(([, name, base]) => /Error$/.test(name!) || /Error\b|named\(/.test(base!))
      .map(([, name]) => ({ file: relative(ROOT, path), name: name! })),
  );

it('declares every error class of the product in functions/core/errors.ts', () => {
  const found = errorClasses();
  expect(found.length).toBeGreaterThan(20);
  const elsewhere = found.filter((c) => c.file !== TAXONOMY).map((c) => c.name);
  expect(elsewhere.sort()).toEqual([...OUTSIDE].sort());
});

it('names each class left outside in the contract, with the reason', () => {
  const contract = readFileSync(join(ROOT, CONTRACT), 'utf8');
  for (const name of OUTSIDE) expect(contract, name).toMatch(new RegExp(`${name}\\s+(?:\\*\\s+)?\\(functions/[\\w/.-]+: `));
});
