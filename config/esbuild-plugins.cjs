/**
 * esbuild plugins of the deployment's bundling (serverless.yml `custom.esbuild.plugins`; bench/coldstart.ts loads the
 * same file, so the benchmark bundles as the deployment does).
 *
 * `splitting: true` puts every dynamically imported module (an SDK client used by one check or one branch, the SDK's
 * own credential providers) in a chunk of its own, read from disk only when first imported. serverless-esbuild builds
 * each handler on its own into its folder and gives each function's zip every file of the build folder except the
 * other handlers' bundles and the files named after them (`<handler>.<anything>`). So each handler's chunks are named
 * after it, `<handler>.chunks/<name>-<hash>.mjs`: they land in that handler's zip and in no other.
 * (https://github.com/floydspace/serverless-esbuild, src/pack.ts `filterFilesForZipPackage`.)
 */
const { basename, extname } = require('node:path');
const { hoistStaticChunks } = require('./hoist-static-chunks.cjs');

/** The chunks of one handler's build go under `<handler>.chunks/`, beside the handler's bundle. */
const chunksBesideHandler = {
  name: 'chunks-beside-handler',
  setup(build) {
    const options = build.initialOptions;
    if (!options.splitting) return;
    const entries = Array.isArray(options.entryPoints) ? options.entryPoints : Object.values(options.entryPoints ?? {});
    if (entries.length !== 1) throw new Error(`chunks-beside-handler: one entry point per build, got ${entries.length}`);
    const entry = typeof entries[0] === 'string' ? entries[0] : entries[0].in;
    options.chunkNames = `${basename(entry, extname(entry))}.chunks/[name]-[hash]`;
  },
};

/**
 * @middy/core imports `node:stream/web` at its top for one `instanceof ReadableStream` test in its response-streaming
 * path (`streamifyResponse`), which no function here uses; loading Node's web streams costs about 5 ms of every cold
 * start. In the bundle, middy's `node:stream/web` is a module whose `ReadableStream` is Node's own, looked up when used:
 * `instanceof` and `new` answer exactly as with the real class, and web streams load only if that path ever runs.
 */
const LAZY_WEB_STREAMS = `const real = () => globalThis.ReadableStream;
export class ReadableStream {
  constructor(...args) { return new (real())(...args); }
  static [Symbol.hasInstance](value) { return value instanceof real(); }
}`;
const lazyWebStreamsForMiddy = {
  name: 'lazy-web-streams-for-middy',
  setup(build) {
    build.onResolve({ filter: /^node:stream\/web$/ }, (args) =>
      /[\\/]@middy[\\/]core[\\/]/.test(args.importer) ? { path: 'middy-stream-web', namespace: 'lazy-web-streams' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-web-streams' }, () => ({ contents: LAZY_WEB_STREAMS, loader: 'js' }));
  },
};

// hoistStaticChunks last: it rewrites what the build wrote.
module.exports = [chunksBesideHandler, lazyWebStreamsForMiddy, hoistStaticChunks];
