/**
 * npm run bench -- coldstart: the cold start of every function's bundle against a minimal DynamoDB handler, side by
 * side in one run, with a pass / fail line against 1.1×.
 *
 * Each handler of serverless.yml is bundled with serverless.yml's own `custom.esbuild` options and plugins (read from
 * the file, so the bench cannot drift from the deployment): ESM, minified, split into chunks. The baseline is a
 * handler that makes one DynamoDBClient and sends one GetItem, bundled by esbuild into one file with the same options
 * but no splitting: the minimal esbuild DynamoDB handler. For reference, the baseline bundled exactly like the
 * functions (split) is measured too.
 *
 * A cold start is a fresh `node` process importing the bundle (Lambda's INIT phase: load, parse and run the module's
 * top level), with the environment Lambda gives (LAMBDA_TASK_ROOT, AWS_EXECUTION_ENV, ...: Powertools and the X-Ray
 * SDK take their Lambda paths). Figures: the import's wall time and CPU time measured inside the process, and the
 * whole process's wall time. Runs alternate baseline / bundle, so drift of a shared machine hits both alike. Another
 * process or a neighbour on the host only ever slows a run down, so each ratio is of the fastest runs: the bundle's
 * 10th percentile over the baseline's, both from the same interleaved series. The ms columns are medians; `±` is half
 * the interquartile range of the paired ratios (each run of the bundle over the baseline run just before it), which
 * says how noisy the machine was. The verdict is on the import's wall time and on its CPU time. Options: `--runs N`
 * (default 15), `--only name,name`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type BuildOptions, type Metafile, type Plugin, build } from 'esbuild';
import { parse as parseYaml } from 'yaml';

const root = new URL('..', import.meta.url).pathname;
const LIMIT = 1.1;

interface Service {
  functions: Record<string, { handler: string }>;
  custom: { esbuild: Record<string, unknown> };
}

const service = (): Service => parseYaml(readFileSync(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as Service;

/** serverless-esbuild's own options, which it takes out before handing the rest to esbuild. */
const PLUGIN_ONLY = new Set([
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
]);

/** esbuild options as serverless-esbuild derives them from `custom.esbuild` (plugins loaded from their file). */
export const deploymentBuildOptions = (custom: Record<string, unknown>): BuildOptions => {
  const options = Object.fromEntries(Object.entries(custom).filter(([key]) => !PLUGIN_ONLY.has(key))) as BuildOptions & {
    plugins?: Plugin[] | string;
  };
  const extension = custom.outputFileExtension as string | undefined;
  const plugins =
    typeof options.plugins === 'string' ? (createRequire(import.meta.url)(join(root, options.plugins)) as Plugin[]) : options.plugins;
  return {
    ...options,
    ...(plugins ? { plugins } : {}),
    ...(extension && extension !== '.js' ? { outExtension: { '.js': extension } } : {}),
    logLevel: 'silent',
  };
};

/** A bundle: its entry file, the bytes a cold start reads (the entry and its static imports), all the bytes built. */
interface Bundle {
  file: string;
  initBytes: number;
  totalBytes: number;
}

/** The entry's output and every chunk it imports statically, transitively: what loading the entry reads. */
const staticClosure = (metafile: Metafile, entryOut: string): string[] => {
  const seen = new Set<string>();
  const visit = (out: string) => {
    if (seen.has(out)) return;
    seen.add(out);
    for (const dep of metafile.outputs[out]?.imports ?? []) if (dep.kind === 'import-statement' && !dep.external) visit(dep.path);
  };
  visit(entryOut);
  return [...seen];
};

/** Builds `entry` (relative to the repository) into `dir/<its folder>` as serverless-esbuild does. */
const bundle = async (options: BuildOptions, entry: string, dir: string): Promise<Bundle> => {
  const result = await build({
    ...options,
    entryPoints: [entry],
    outdir: join(dir, dirname(entry)),
    absWorkingDir: root,
    metafile: true,
  });
  const outputs = result.metafile.outputs;
  const entryOut = Object.keys(outputs).find((out) => outputs[out]!.entryPoint === entry);
  if (!entryOut) throw new Error(`no output for ${entry}`);
  const size = (outs: string[]) => outs.reduce((sum, out) => sum + outputs[out]!.bytes, 0);
  return {
    file: join(root, entryOut),
    initBytes: size(staticClosure(result.metafile, entryOut)),
    totalBytes: size(Object.keys(outputs).filter((out) => !out.endsWith('.map'))),
  };
};

const BASELINE = `import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
const client = new DynamoDBClient({});
export const handler = async (event) => client.send(new GetItemCommand({ TableName: 't', Key: { id: { S: String(event.id) } } }));
`;

interface Sample {
  init: number;
  cpu: number;
  wall: number;
}

/** One cold start: a new process imports the bundle; the import's wall and CPU ms (inside), the process's wall ms. */
const coldStart = (file: string): Sample => {
  const probe = `const c = process.cpuUsage(); const t = performance.now(); await import(${JSON.stringify(file)});
const ms = performance.now() - t; const u = process.cpuUsage(c); process.stdout.write(JSON.stringify([ms, (u.user + u.system) / 1000]));`;
  const start = performance.now();
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: dirname(file),
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_LAMBDA_FUNCTION_NAME: 'coldstart',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      LAMBDA_TASK_ROOT: dirname(file),
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
      AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_SUPPRESS_NODE_DEPRECATION_WARNING: 'true',
      POWERTOOLS_DEV: 'false',
      NODE_NO_WARNINGS: '1',
    },
    encoding: 'utf8',
  });
  const [init, cpu] = JSON.parse(out) as [number, number];
  return { init, cpu, wall: performance.now() - start };
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Medians of `runs` cold starts of `file`, each right after one of the baseline (alternating). */
const sideBySide = (file: string, baseline: string, runs: number) => {
  coldStart(file); // the file cache
  const a: Sample[] = [];
  const b: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    b.push(coldStart(baseline));
    a.push(coldStart(file));
  }
  const m = (xs: Sample[], key: keyof Sample) => median(xs.map((x) => x[key]));
  const quantile = (xs: number[], q: number) => {
    const sorted = [...xs].sort((p, r) => p - r);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  };
  const paired = (key: keyof Sample) => {
    const ratios = a.map((x, i) => x[key] / b[i]![key]);
    const fastest = quantile(
      a.map((x) => x[key]),
      0.1,
    );
    const fastestBase = quantile(
      b.map((x) => x[key]),
      0.1,
    );
    return { ratio: fastest / fastestBase, spread: (quantile(ratios, 0.75) - quantile(ratios, 0.25)) / 2 };
  };
  return {
    fn: { init: m(a, 'init'), cpu: m(a, 'cpu'), wall: m(a, 'wall') },
    base: { init: m(b, 'init'), cpu: m(b, 'cpu'), wall: m(b, 'wall') },
    ratios: { init: paired('init'), cpu: paired('cpu'), wall: paired('wall') },
  };
};

const kib = (bytes: number) => (bytes / 1024).toFixed(0);
const cols = (cells: Array<[string | number, number]>) => cells.map(([v, w]) => String(v).padStart(w)).join(' ');

export const main = async (args: string[]) => {
  const runs = Number(args[args.indexOf('--runs') + 1]) || 15;
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1]!.split(',') : undefined;
  const doc = service();
  const options = deploymentBuildOptions(doc.custom.esbuild);
  const dir = mkdtempSync(join(os.tmpdir(), 'coldstart-'));
  try {
    // esbuild resolves from the repository's node_modules: the baseline's source sits in the repository meanwhile.
    const baselineEntry = 'bench/.coldstart-baseline.mjs';
    writeFileSync(join(root, baselineEntry), BASELINE);
    let baseline: Bundle;
    let baselineSplit: Bundle;
    try {
      const { plugins: _plugins, splitting: _splitting, ...single } = options;
      baseline = await bundle(single, baselineEntry, join(dir, 'baseline'));
      baselineSplit = await bundle(options, baselineEntry, join(dir, 'baseline-split'));
    } finally {
      rmSync(join(root, baselineEntry), { force: true });
    }
    const fns: Array<[string, Bundle]> = [];
    for (const [key, fn] of Object.entries(doc.functions)) {
      if (only && !only.includes(key)) continue;
      const entry = fn.handler.replace(/\.handler$/, '.ts');
      fns.push([key, await bundle(options, entry, join(dir, 'functions'))]);
    }
    coldStart(baseline.file); // the file cache
    console.log(
      `cold start, ${runs} runs each, alternating with the baseline; node ${process.version}, ${os.cpus()[0]?.model} × ${os.cpus().length}`,
    );
    console.log(
      `load average at start: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(
      `baseline: one DynamoDBClient + GetItem, one file, ${kib(baseline.initBytes)} KiB; split as the functions are: ${kib(baselineSplit.initBytes)} KiB read at init of ${kib(baselineSplit.totalBytes)} KiB`,
    );
    console.log(
      `${'function'.padEnd(16)} ${cols([
        ['init KiB', 8],
        ['all KiB', 8],
        ['init ms', 8],
        ['base ms', 8],
        ['ratio', 10],
        ['cpu ms', 7],
        ['base ms', 8],
        ['ratio', 10],
        ['wall ms', 8],
        ['base ms', 8],
        ['ratio', 10],
      ])}`,
    );
    const verdicts: Array<[string, number, number]> = [];
    const row = (name: string, b: Bundle) => {
      const { fn, base, ratios: paired } = sideBySide(b.file, baseline.file, runs);
      const ratios = { init: paired.init.ratio, cpu: paired.cpu.ratio, wall: paired.wall.ratio };
      const r = (x: { ratio: number; spread: number }) => `${x.ratio.toFixed(2)}±${x.spread.toFixed(2)}`;
      console.log(
        `${name.padEnd(16)} ${cols([
          [kib(b.initBytes), 8],
          [kib(b.totalBytes), 8],
          [fn.init.toFixed(1), 8],
          [base.init.toFixed(1), 8],
          [r(paired.init), 10],
          [fn.cpu.toFixed(1), 7],
          [base.cpu.toFixed(1), 8],
          [r(paired.cpu), 10],
          [fn.wall.toFixed(0), 8],
          [base.wall.toFixed(0), 8],
          [r(paired.wall), 10],
        ])}`,
      );
      return ratios;
    };
    row('(baseline split)', baselineSplit);
    for (const [key, b] of fns) {
      const ratios = row(key, b);
      verdicts.push([key, ratios.init, ratios.cpu]);
    }
    const worstInit = verdicts.reduce((w, v) => (v[1] > w[1] ? v : w), verdicts[0]!);
    const worstCpu = verdicts.reduce((w, v) => (v[2] > w[2] ? v : w), verdicts[0]!);
    const failing = verdicts.filter(([, init, cpu]) => init > LIMIT || cpu > LIMIT).map(([key]) => key);
    console.log(
      `load average at end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(
      `${failing.length === 0 ? 'PASS' : 'FAIL'}: worst init ratio ${worstInit[1].toFixed(2)}× (${worstInit[0]}), worst CPU ratio ${worstCpu[2].toFixed(2)}× (${worstCpu[0]}), limit ${LIMIT}×${failing.length ? `; over: ${failing.join(', ')}` : ''}`,
    );
    if (failing.length) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
