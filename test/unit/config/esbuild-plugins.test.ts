/**
 * The deployment's esbuild plugins (config/esbuild-plugins.cjs). @middy/core's `node:stream/web` becomes a stand-in
 * whose `ReadableStream` is Node's own, looked up when used: it must answer `instanceof` and `new` exactly as the real
 * class, load no web streams until used, and leave every other importer of `node:stream/web` the real module.
 */
import { createRequire } from 'node:module';
import { ReadableStream as RealReadableStream } from 'node:stream/web';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const plugins = createRequire(import.meta.url)('../../../config/esbuild-plugins.cjs') as Plugin[];
const lazyWebStreams = plugins.find((p) => p.name === 'lazy-web-streams-for-middy')!;

/** Bundles `source` as if it were a file at `importer` and returns its exports. */
const bundleAs = async (importer: string, source: string): Promise<Record<string, unknown>> => {
  const entry: Plugin = {
    name: 'entry',
    setup(b) {
      b.onResolve({ filter: /^entry$/ }, () => ({ path: importer, namespace: 'file' }));
      b.onLoad({ filter: /.*/ }, (args) => (args.path === importer ? { contents: source, loader: 'js', resolveDir: '/' } : undefined));
    },
  };
  const result = await build({
    entryPoints: ['entry'],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    plugins: [entry, lazyWebStreams],
  });
  const code = result.outputFiles[0]!.text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
};

const SOURCE = `import { ReadableStream } from 'node:stream/web';
export const Stand = ReadableStream;
export const made = new ReadableStream({ start(c) { c.close(); } });`;

describe('lazy web streams for middy', () => {
  it("gives @middy/core a ReadableStream that answers instanceof and new as Node's own", async () => {
    // Act
    const mod = await bundleAs('/app/node_modules/@middy/core/index.js', SOURCE);

    // Assess
    const Stand = mod.Stand as typeof RealReadableStream;
    expect(Stand).not.toBe(RealReadableStream);
    expect(new RealReadableStream()).toBeInstanceOf(Stand);
    expect(mod.made).toBeInstanceOf(RealReadableStream);
    expect({ _readableState: {} }).not.toBeInstanceOf(Stand);
    expect('a string').not.toBeInstanceOf(Stand);
  });

  it('leaves node:stream/web as it is for any other importer', async () => {
    const mod = await bundleAs('/app/functions/handlers/stream.js', SOURCE);

    expect(mod.Stand).toBe(RealReadableStream);
  });
});
