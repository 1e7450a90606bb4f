/**
 * After a split build of one handler: the handler's bundle and every chunk it imports statically become one file.
 *
 * With `splitting`, esbuild puts the code a handler shares with its lazily imported parts (an SDK client, an adapter)
 * in shared chunks, and the handler imports about twenty of them at init. Node resolves, reads and compiles each as a
 * module of its own, and that costs more than the bytes: the same code read as one file starts about 15 % faster
 * (`npm run bench -- coldstart`). So, once esbuild has written the build:
 *   1. The entry and its static closure are bundled again into the entry's file, with every other chunk left external.
 *      The merged file exports, beside the handler's own exports, every export of each chunk it took in, under a name
 *      of its own (`__hoisted<k>_<name>`).
 *   2. Every chunk still loaded on demand imports what it used from those chunks from the merged entry instead
 *      (`import{a as b}from"./chunk-X.mjs"` becomes `import{__hoisted3_a as b}from"../handler.mjs"`). Node evaluates a
 *      module once, so the lazy chunks share the entry's one instance of every module (one logger, one error class
 *      table): the program is the one esbuild linked, in fewer files.
 *   3. The chunks taken in are deleted, and the build's metafile is brought up to date (bench/coldstart.ts reads it).
 * test/deploy/package.test.ts loads every bundle and every chunk of every function's zip, so a link that does not hold
 * fails there.
 */
const { readFileSync, rmSync, writeFileSync } = require('node:fs');
const { dirname, relative, resolve } = require('node:path');
const { init, parse } = require('es-module-lexer');

const PREFIX = '__hoisted';

const isRelative = (spec) => spec.startsWith('./') || spec.startsWith('../');

/** `./x.mjs` as an import specifier, from the folder `fromDir` to the absolute file `to`. */
const specifier = (fromDir, to) => {
  const rel = relative(fromDir, to).split('\\').join('/');
  return rel.startsWith('../') ? rel : `./${rel}`;
};

/** The import statements of a module: static ones with their clause, dynamic ones with their specifier. */
const importsOf = (code) => {
  const [imports, exports] = parse(code);
  return {
    exports: exports.map((e) => e.n),
    imports: imports.map((i) => ({ ...i, dynamic: i.d > -1, text: code.slice(i.ss, i.se) })),
  };
};

/** `{a as b,c}` → [['a','b'],['c','c']]; anything but a named clause or a bare import is not what esbuild writes. */
const namedClause = (statement) => {
  const bare = /^import\s*["'][^"']+["']\s*;?$/.exec(statement);
  if (bare) return [];
  const named = /^import\s*\{([^}]*)\}\s*from\s*["'][^"']+["']\s*;?$/.exec(statement);
  if (!named) throw new Error(`hoist-static-chunks: an import esbuild does not write between chunks: ${statement.slice(0, 120)}`);
  return named[1]
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [name, alias] = part.split(/\s+as\s+/);
      return [name, alias ?? name];
    });
};

const hoistStaticChunks = {
  name: 'hoist-static-chunks',
  setup(build) {
    const options = build.initialOptions;
    if (!options.splitting || options.write === false) return;
    options.metafile = true;
    const cwd = options.absWorkingDir ?? process.cwd();
    build.onEnd(async (result) => {
      if (result.errors.length > 0 || !result.metafile) return;
      await init;
      const outputs = result.metafile.outputs;
      const abs = (out) => resolve(cwd, out);
      const entries = Array.isArray(options.entryPoints) ? options.entryPoints : Object.values(options.entryPoints ?? {});
      if (entries.length !== 1) throw new Error(`hoist-static-chunks: one entry point per build, got ${entries.length}`);
      const entry = relative(cwd, resolve(cwd, typeof entries[0] === 'string' ? entries[0] : entries[0].in))
        .split('\\')
        .join('/');
      const entryOut = Object.keys(outputs).find((out) => outputs[out].entryPoint === entry);
      if (!entryOut) return;
      const entryFile = abs(entryOut);
      const entryDir = dirname(entryFile);

      // The entry's static closure: the chunks to take in.
      const closure = [];
      const seen = new Set([entryOut]);
      const visit = (out) => {
        for (const dep of outputs[out].imports) {
          if (dep.kind !== 'import-statement' || dep.external || seen.has(dep.path)) continue;
          seen.add(dep.path);
          closure.push(dep.path);
          visit(dep.path);
        }
      };
      visit(entryOut);
      if (closure.length === 0) return;
      const hoisted = new Map(closure.map((out, k) => [abs(out), { out, k, exports: importsOf(readFileSync(abs(out), 'utf8')).exports }]));

      // 1. The entry and its closure as one file, exporting each chunk's exports under names of their own.
      const lines = [`export * from ${JSON.stringify(specifier(entryDir, entryFile))};`];
      for (const [file, { k, exports }] of hoisted) {
        if (exports.length === 0) continue;
        const names = exports.map((name) => `${name} as ${PREFIX}${k}_${name}`).join(', ');
        lines.push(`export { ${names} } from ${JSON.stringify(specifier(entryDir, file))};`);
      }
      const inClosure = new Set([entryFile, ...hoisted.keys()]);
      const merged = await build.esbuild.build({
        stdin: { contents: lines.join('\n'), resolveDir: entryDir, sourcefile: 'hoisted-entry.mjs', loader: 'js' },
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'node',
        target: options.target,
        minify: options.minify,
        legalComments: 'none',
        logLevel: 'silent',
        plugins: [
          {
            name: 'outside-the-closure',
            setup(b) {
              b.onResolve({ filter: /.*/ }, (args) => {
                if (!isRelative(args.path)) return { path: args.path, external: true };
                const target = resolve(args.resolveDir, args.path);
                return inClosure.has(target) ? undefined : { path: specifier(entryDir, target), external: true };
              });
            },
          },
        ],
      });
      writeFileSync(entryFile, merged.outputFiles[0].contents);

      // 2. The chunks left import the hoisted code from the merged entry.
      for (const out of Object.keys(outputs)) {
        const file = abs(out);
        if (inClosure.has(file) || (!file.endsWith('.mjs') && !file.endsWith('.js'))) continue;
        const code = readFileSync(file, 'utf8');
        const { imports } = importsOf(code);
        let rewritten = '';
        let at = 0;
        for (const i of imports) {
          if (i.n === undefined || !isRelative(i.n)) continue;
          const target = resolve(dirname(file), i.n);
          const chunk = hoisted.get(target);
          if (!chunk) continue;
          if (i.dynamic) throw new Error(`hoist-static-chunks: ${out} imports a chunk of the entry's closure on demand`);
          const clause = namedClause(i.text)
            .map(([name, alias]) => `${PREFIX}${chunk.k}_${name} as ${alias}`)
            .join(',');
          rewritten += `${code.slice(at, i.ss)}import{${clause}}from${JSON.stringify(specifier(dirname(file), entryFile))};`;
          at = i.se;
          if (code[at] === ';') at++;
        }
        if (at === 0) continue;
        writeFileSync(file, rewritten + code.slice(at));
      }

      // 3. The chunks taken in go; the metafile says what is on disk.
      for (const file of hoisted.keys()) rmSync(file, { force: true });
      for (const { out } of hoisted.values()) delete outputs[out];
      for (const out of Object.keys(outputs)) {
        const file = abs(out);
        if (!file.endsWith('.mjs') && !file.endsWith('.js')) continue;
        const code = readFileSync(file, 'utf8');
        outputs[out].bytes = Buffer.byteLength(code);
        outputs[out].imports = importsOf(code).imports.flatMap((i) => {
          if (i.n === undefined) return [];
          const local = isRelative(i.n);
          return [
            {
              path: local
                ? relative(cwd, resolve(dirname(file), i.n))
                    .split('\\')
                    .join('/')
                : i.n,
              kind: i.dynamic ? 'dynamic-import' : 'import-statement',
              ...(local ? {} : { external: true }),
            },
          ];
        });
      }
    });
  },
};

module.exports = { hoistStaticChunks };
