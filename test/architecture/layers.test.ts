/**
 * The layer rule: every import of every folder of the product (functions/, cli/, console/, local/, bench/, scripts/)
 * points down, bare imports (packages, node: built-ins) included, and the import graph has no cycle.
 *
 *   contract   the shared facts (providers, statuses, errors, routes, table, request schema): imports nothing
 *   platform   config, observability, middleware: imports only the contract
 *   core       the use cases, pure: the contract only, and of packages only node: built-ins (no SDK, no logger)
 *   adapters   SDK / HTTP implementations of core's ports: core, platform, contract
 *   wiring     the dependency factories: adapters and everything below; imported only by handlers
 *   handlers   thin Lambda entry points: wiring, core, platform, contract (never an adapter directly)
 *   cli        the command line: core, contract, the console's server, and itself
 *   console    the page (console/src: the contract, and the core's types only, type-only; no package at all) and its
 *              server (console/serve.ts)
 *   local      the local stack: everything of functions/, the command line's and the console's servers, and itself
 *   bench      the benchmark: everything of functions/ and local/, and of test/ only the fakes it shares with the tests
 *   scripts    the generators: anything but test/
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');

const FUNCTION_LAYERS = ['contract', 'platform', 'core', 'adapters', 'wiring', 'handlers'] as const;
const LAYERS = [...FUNCTION_LAYERS, 'cli', 'console', 'local', 'bench', 'scripts', 'test'] as const;
type Layer = (typeof LAYERS)[number];

const ALL_FUNCTIONS: readonly Layer[] = FUNCTION_LAYERS;

const ALLOWED: Record<Layer, readonly Layer[]> = {
  contract: ['contract'],
  platform: ['platform', 'contract'],
  core: ['core', 'contract'],
  adapters: ['adapters', 'core', 'platform', 'contract'],
  wiring: ['wiring', 'adapters', 'core', 'platform', 'contract'],
  handlers: ['handlers', 'wiring', 'core', 'platform', 'contract'],
  cli: ['cli', 'core', 'contract', 'console'],
  console: ['console', 'core', 'contract'],
  local: ['local', 'cli', 'console', ...ALL_FUNCTIONS],
  bench: ['bench', 'local', ...ALL_FUNCTIONS, 'test'],
  scripts: ['scripts', 'local', 'cli', ...ALL_FUNCTIONS],
  test: LAYERS,
};

/**
 * The only files of test/ the benchmark may import: the fakes (and the seeded random source) the tests and the
 * benchmark share, so both measure the same world.
 */
const SHARED_WITH_BENCH = [/^test\/fakes\//, /^test\/faults\/mutate\.ts$/];

/** The packages a layer may import (bare specifiers); a layer not listed may import any. */
const BARE_ALLOWED: Partial<Record<Layer, RegExp>> = {
  contract: /^node:/,
  core: /^node:/,
};

/** The page runs in a browser: it imports no package at all, and the core only for its types. */
const isConsolePage = (file: string): boolean => file.startsWith('console/src/');

const layerOf = (file: string): Layer | undefined => {
  const [top, second] = file.split('/');
  if (top === 'functions') return (FUNCTION_LAYERS as readonly string[]).includes(second ?? '') ? (second as Layer) : undefined;
  return (LAYERS as readonly string[]).includes(top ?? '') ? (top as Layer) : undefined;
};

const sources = (dir: string): string[] =>
  readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return /\.(ts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') && !name.endsWith('.validator.js') ? [path] : [];
  });

const IMPORT =
  /(?:^|\n)\s*(import|export)(\s+type)?\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Imports of the type system only (erased at build). */
const TYPE_ONLY = new Set<string>();

/**
 * What a file imports: relative specifiers resolved to the project file, bare ones (packages, node: built-ins) as
 * written. A type-only import of a project file is also noted in TYPE_ONLY as `file -> target`.
 */
const importsOf = (file: string): string[] => {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[3] ?? match[4] ?? match[5]!;
    if (!spec.startsWith('.')) {
      out.push(spec);
      continue;
    }
    const base = normalize(join(dirname(file), spec));
    const candidates = [base, `${base}.ts`, `${base.replace(/\.js$/, '')}.ts`, join(base, 'index.ts')];
    const found = candidates.find((c) => {
      try {
        return statSync(join(ROOT, c)).isFile();
      } catch {
        return false;
      }
    });
    const target = found ?? base;
    if (match[1] === 'import' && match[2]) TYPE_ONLY.add(`${file} -> ${target}`);
    out.push(target);
  }
  return out;
};

/** A package or a node: built-in (not a file of the project). */
const isBare = (target: string): boolean => !existsSync(join(ROOT, target.split('/')[0] ?? target));

const FILES = [...['functions', 'cli', 'local', 'bench', 'scripts', 'console/src'].flatMap(sources), 'console/serve.ts'].map((f) =>
  relative(ROOT, join(ROOT, f)),
);
const GRAPH = new Map(FILES.map((file) => [file, importsOf(file)]));

/** `file (layer) -> target (layer)` for every import of a project file that points up. */
const upwardImports = (graph: Map<string, string[]>): string[] => {
  const upward: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    if (!from) continue;
    for (const target of imports) {
      const to = layerOf(target);
      if (!to) continue;
      const shared = from === 'bench' && to === 'test' && SHARED_WITH_BENCH.some((r) => r.test(target));
      if (!ALLOWED[from].includes(to) || (to === 'test' && from !== 'test' && !shared))
        upward.push(`${file} (${from}) -> ${target} (${to})`);
    }
  }
  return upward;
};

/** `file (layer) -> package` for every package a layer may not import (the console page: none at all). */
const barePackageImports = (graph: Map<string, string[]>): string[] => {
  const wrong: string[] = [];
  for (const [file, imports] of graph) {
    const layer = layerOf(file);
    if (!layer) continue;
    const allowed = isConsolePage(file) ? /^$/ : BARE_ALLOWED[layer];
    if (!allowed) continue;
    for (const target of imports) if (isBare(target) && !allowed.test(target)) wrong.push(`${file} (${layer}) -> ${target}`);
  }
  return wrong;
};

/** `page -> core file` for every import of the core by the console page that is not type-only. */
const consoleValueImports = (graph: Map<string, string[]>, typeOnly: ReadonlySet<string>): string[] => {
  const wrong: string[] = [];
  for (const [file, imports] of graph) {
    if (!isConsolePage(file)) continue;
    for (const target of imports)
      if (layerOf(target) === 'core' && !typeOnly.has(`${file} -> ${target}`)) wrong.push(`${file} -> ${target}`);
  }
  return wrong;
};

describe('the layer rule', () => {
  it('finds the layers it checks', () => {
    const seen = new Set(FILES.map(layerOf));
    for (const layer of LAYERS.filter((l) => l !== 'test')) expect(seen, layer).toContain(layer);
  });

  it('has every import of every folder point down (or within its layer)', () => {
    expect(upwardImports(GRAPH)).toEqual([]);
  });

  it('has the core import no package but node: built-ins, and the console page none at all', () => {
    expect(barePackageImports(GRAPH)).toEqual([]);
  });

  it('has the console page import the core for its types only', () => {
    expect(GRAPH.get('console/src/api.ts')).toContain('functions/core/view.ts');
    expect(consoleValueImports(GRAPH, TYPE_ONLY)).toEqual([]);
  });

  it('shows what the benchmark takes from test/: only the fakes it shares with the tests', () => {
    const fromTest = [...GRAPH].flatMap(([file, imports]) =>
      layerOf(file) === 'bench' ? imports.filter((t) => layerOf(t) === 'test') : [],
    );
    expect(fromTest.length).toBeGreaterThan(0);
    for (const target of fromTest)
      expect(
        SHARED_WITH_BENCH.some((r) => r.test(target)),
        target,
      ).toBe(true);
  });

  it('has no import cycle (type-only imports aside)', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      // A type-only import is erased at build: it makes no cycle at run time.
      for (const next of GRAPH.get(file) ?? []) if (GRAPH.has(next) && !TYPE_ONLY.has(`${file} -> ${next}`)) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of GRAPH.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('reads the real imports and reports an upward one (the rule is not vacuous)', () => {
    expect(GRAPH.get('functions/handlers/http/submit.ts')).toContain('functions/wiring/submit.ts');
    const bad = new Map([
      ['functions/core/workflow/create.ts', ['functions/adapters/hyperpod.ts']],
      ['functions/handlers/http/get.ts', ['functions/adapters/dynamo-store.ts']],
      ['functions/platform/middleware/http.ts', ['functions/core/errors.ts']],
    ]);
    expect(upwardImports(bad)).toHaveLength(3);
    expect(upwardImports(new Map([['bench/run.ts', ['test/helpers/workflow.ts', 'test/fakes/memory-store.ts']]]))).toEqual([
      'bench/run.ts (bench) -> test/helpers/workflow.ts (test)',
    ]);
  });

  it('reports a core file that imports an AWS SDK client, and a console page that imports the core for a value', () => {
    expect(GRAPH.get('functions/adapters/hyperpod.ts')?.some((t) => t.startsWith('@aws-sdk/'))).toBe(true);
    const sdk = new Map([['functions/core/workflow/create.ts', ['@aws-sdk/client-sagemaker', 'node:crypto', 'functions/core/store.ts']]]);
    expect(barePackageImports(sdk)).toEqual(['functions/core/workflow/create.ts (core) -> @aws-sdk/client-sagemaker']);
    expect(barePackageImports(new Map([['console/src/api.ts', ['node:http']]]))).toHaveLength(1);
    const page = new Map([['console/src/api.ts', ['functions/core/view.ts', 'functions/core/store.ts']]]);
    expect(consoleValueImports(page, new Set(['console/src/api.ts -> functions/core/view.ts']))).toEqual([
      'console/src/api.ts -> functions/core/store.ts',
    ]);
  });
});
