/**
 * The layer rule: every import of functions/ and cli/ points down, and the import graph has no cycle.
 *
 *   contract   the shared facts (providers, statuses, errors, routes, table, request schema): imports nothing
 *   platform   config, observability, middleware: imports only the contract
 *   core       the use cases, pure: the contract only (no SDK, no logger)
 *   adapters   SDK / HTTP implementations of core's ports: core, platform, contract
 *   wiring     the dependency factories: adapters and everything below; imported only by handlers
 *   handlers   thin Lambda entry points: wiring, core, platform, contract (never an adapter directly)
 *   cli        the command line: core, contract, and itself
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');

const LAYERS = ['contract', 'platform', 'core', 'adapters', 'wiring', 'handlers', 'cli'] as const;
type Layer = (typeof LAYERS)[number];

const ALLOWED: Record<Layer, readonly Layer[]> = {
  contract: ['contract'],
  platform: ['platform', 'contract'],
  core: ['core', 'contract'],
  adapters: ['adapters', 'core', 'platform', 'contract'],
  wiring: ['wiring', 'adapters', 'core', 'platform', 'contract'],
  handlers: ['handlers', 'wiring', 'core', 'platform', 'contract'],
  cli: ['cli', 'core', 'contract'],
};

const layerOf = (file: string): Layer | undefined => {
  const [top, second] = file.split('/');
  if (top === 'cli') return 'cli';
  if (top === 'functions' && (LAYERS as readonly string[]).includes(second ?? '')) return second as Layer;
  return undefined;
};

const sources = (dir: string): string[] =>
  readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return /\.(ts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') && !name.endsWith('.validator.js') ? [path] : [];
  });

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** The project files a file imports (relative specifiers resolved to a file). */
const importsOf = (file: string): string[] => {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2]!;
    const base = normalize(join(dirname(file), spec));
    const candidates = [base, `${base}.ts`, `${base.replace(/\.js$/, '')}.ts`, join(base, 'index.ts')];
    const found = candidates.find((c) => {
      try {
        return statSync(join(ROOT, c)).isFile();
      } catch {
        return false;
      }
    });
    out.push(found ?? base);
  }
  return out;
};

const FILES = [...sources('functions'), ...sources('cli')].map((f) => relative(ROOT, join(ROOT, f)));
const GRAPH = new Map(FILES.map((file) => [file, importsOf(file)]));

/** `file (layer) -> target (layer)` for every import that points up. */
const upwardImports = (graph: Map<string, string[]>): string[] => {
  const upward: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    if (!from) continue;
    for (const target of imports) {
      const to = layerOf(target);
      if (to && !ALLOWED[from].includes(to)) upward.push(`${file} (${from}) -> ${target} (${to})`);
    }
  }
  return upward;
};

describe('the layer rule', () => {
  it('finds the layers it checks', () => {
    const seen = new Set(FILES.map(layerOf));
    for (const layer of LAYERS) expect(seen, layer).toContain(layer);
  });

  it('has every import of functions/ and cli/ point down (or within its layer)', () => {
    expect(upwardImports(GRAPH)).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const next of GRAPH.get(file) ?? []) if (GRAPH.has(next)) visit(next, [...path, file]);
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
  });
});
