/**
 * config/hoist-static-chunks.cjs: after a split build, the handler's bundle and the chunks it imports at init are one
 * file, and the chunks loaded on demand share its modules (one instance of each: module state and classes are the
 * handler's own). Built with the deployment's plugin list, on a small program written to a scratch folder.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';

const plugins = createRequire(import.meta.url)('../../../config/esbuild-plugins.cjs') as Plugin[];
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const SOURCES = {
  'shared.js': 'let count = 0; export const bump = () => ++count; export class Marker {}',
  'other.js': 'export const other = () => "other";',
  'lazy.js':
    'import { bump, Marker } from "./shared.js"; import { other } from "./other.js"; export const run = () => [bump(), new Marker(), other()];',
  // A name that starts with a dot, as the benchmark's baseline does.
  '.entry.js': `import { bump, Marker } from "./shared.js"; import { other } from "./other.js";
export const handler = async () => { bump(); other(); const lazy = await import("./lazy.js"); const [n, marker, o] = lazy.run(); return { n, same: marker instanceof Marker, o }; };`,
};

describe('hoist-static-chunks', () => {
  it('leaves one file to read at init, and the lazy chunk uses the same module instances', async () => {
    // Prepare
    dir = mkdtempSync(join(tmpdir(), 'hoist-'));
    for (const [name, code] of Object.entries(SOURCES)) writeFileSync(join(dir, name), code);
    const out = join(dir, 'out');

    // Act
    const result = await build({
      entryPoints: [join(dir, '.entry.js')],
      absWorkingDir: dir,
      outdir: out,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      outExtension: { '.js': '.mjs' },
      logLevel: 'silent',
      plugins,
    });

    // Assess: the entry imports nothing statically from the build; the shared chunks are gone.
    const entry = readFileSync(join(out, '.entry.mjs'), 'utf8');
    expect(entry).not.toMatch(/(?:^|[;}\s])import\s*(?:\{[^}]*\}\s*from\s*)?"\.{1,2}\//);
    const chunks = readdirSync(join(out, '.entry.chunks'));
    expect(chunks.map((name) => name.replace(/-[A-Z0-9]+\.mjs$/, ''))).toEqual(['lazy']);
    expect(readFileSync(join(out, '.entry.chunks', chunks[0]!), 'utf8')).toMatch(/from\s*"\.\.\/\.entry\.mjs"/);
    // The metafile says what is on disk.
    expect(Object.keys(result.metafile!.outputs).sort()).toEqual([`out/.entry.chunks/${chunks[0]}`, 'out/.entry.mjs']);
    // One instance of `shared`: the lazy chunk's bump() counts on from the entry's, and its Marker is the entry's class.
    const { handler } = (await import(pathToFileURL(join(out, '.entry.mjs')).href)) as { handler: () => Promise<unknown> };
    expect(await handler()).toEqual({ n: 2, same: true, o: 'other' });
  });
});
