/**
 * npm run bench -- coldstart: the cold start of every function's bundle against a minimal DynamoDB handler, side by
 * side in one run.
 *
 * Each handler of serverless.yml is bundled as the deployment bundles it (serverless-esbuild's options there: bundle,
 * minify, keepNames, ESM with a require banner), and so is the baseline: a handler that makes one DynamoDBClient and
 * sends one GetItem. A cold start is a fresh `node` process importing the bundle (Lambda's INIT phase: load, parse and
 * run the module's top level); the figure is the import's time measured inside that process, and the whole process's
 * wall time besides. Runs alternate baseline / bundle, so drift of a shared machine hits both alike; the ratio is of
 * the medians. Options: `--runs N` (default 15), `--only name,name`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';
import { parse as parseYaml } from 'yaml';

const root = new URL('..', import.meta.url).pathname;

/** What a function's `handler:` names, by function key, from serverless.yml. */
const handlers = (): Record<string, string> => {
  const doc = parseYaml(readFileSync(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
    functions: Record<string, { handler: string }>;
  };
  return Object.fromEntries(Object.entries(doc.functions).map(([key, fn]) => [key, fn.handler.replace(/\.handler$/, '.ts')]));
};

const BASELINE = `import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
const client = new DynamoDBClient({});
export const handler = async (event) => client.send(new GetItemCommand({ TableName: 't', Key: { id: { S: String(event.id) } } }));
`;

const bundle = async (entry: string, outfile: string) => {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    keepNames: true,
    sourcemap: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire as __cjsRequire } from 'node:module'; const require = __cjsRequire(import.meta.url);" },
    logLevel: 'silent',
  });
};

/** One cold start: a new process imports the bundle; answers the import's ms (inside) and the process's wall ms. */
const coldStart = (file: string): { init: number; wall: number } => {
  const probe = `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
  const start = performance.now();
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_DEV: 'false',
    },
    encoding: 'utf8',
  });
  return { init: Number(out), wall: performance.now() - start };
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const main = async (args: string[]) => {
  const runs = Number(args[args.indexOf('--runs') + 1]) || 15;
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1]!.split(',') : undefined;
  const dir = mkdtempSync(join(os.tmpdir(), 'coldstart-'));
  // The bundles import nothing at run time, but esbuild resolves from the repository's node_modules.
  const baselineEntry = join(root, 'bench', '.coldstart-baseline.mjs');
  mkdirSync(join(dir, 'fn'), { recursive: true });
  writeFileSync(baselineEntry, BASELINE);
  const baseline = join(dir, 'baseline.mjs');
  try {
    await bundle(baselineEntry, baseline);
  } finally {
    execFileSync('rm', ['-f', baselineEntry]);
  }
  const fns = Object.entries(handlers()).filter(([key]) => !only || only.includes(key));
  const files: Array<[string, string]> = [];
  for (const [key, entry] of fns) {
    const out = join(dir, 'fn', `${key}.mjs`);
    await bundle(join(root, entry), out);
    files.push([key, out]);
  }
  coldStart(baseline); // warm the file cache
  console.log(
    `cold start, ${runs} runs each, alternating with the baseline; node ${process.version}, ${os.cpus()[0]?.model} × ${os.cpus().length}`,
  );
  console.log(
    `${'function'.padEnd(18)} ${'bundle KiB'.padStart(10)} ${'init ms'.padStart(8)} ${'base ms'.padStart(8)} ${'ratio'.padStart(6)} ${'wall ms'.padStart(8)} ${'base ms'.padStart(8)} ${'ratio'.padStart(6)}`,
  );
  let worst = 0;
  for (const [key, file] of files) {
    coldStart(file);
    const a: Array<{ init: number; wall: number }> = [];
    const b: Array<{ init: number; wall: number }> = [];
    for (let i = 0; i < runs; i++) {
      b.push(coldStart(baseline));
      a.push(coldStart(file));
    }
    const [ai, bi, aw, bw] = [
      median(a.map((x) => x.init)),
      median(b.map((x) => x.init)),
      median(a.map((x) => x.wall)),
      median(b.map((x) => x.wall)),
    ];
    worst = Math.max(worst, ai / bi);
    const kib = (readFileSync(file).length / 1024).toFixed(0);
    console.log(
      `${key.padEnd(18)} ${kib.padStart(10)} ${ai.toFixed(1).padStart(8)} ${bi.toFixed(1).padStart(8)} ${(ai / bi).toFixed(2).padStart(6)} ${aw.toFixed(0).padStart(8)} ${bw.toFixed(0).padStart(8)} ${(aw / bw).toFixed(2).padStart(6)}`,
    );
  }
  console.log(`baseline bundle ${(readFileSync(baseline).length / 1024).toFixed(0)} KiB; worst init ratio ${worst.toFixed(2)}×`);
};
