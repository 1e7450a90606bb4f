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

module.exports = [chunksBesideHandler];
