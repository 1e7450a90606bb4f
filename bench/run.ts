/**
 * npm run bench: figures for the hot paths, printed with the machine they were taken on.
 *  1. validation: requests validated per second (the examples), and the cost of a hostile 10k-item request;
 *  2. submit path: validate + conditional put in DynamoDB (dynalite on loopback) + start, latency per request, and
 *     the idempotent replay;
 *  3. workflow: N provisionings at once through the shipped ASL (aws-local-stepfunctions), the real task handlers,
 *     dynalite and the simulators over loopback, wall time and per-provisioning store writes.
 * `npm run bench -- contention` runs the capacity-contention benchmark instead (bench/contention/index.ts);
 * `npm run bench -- coldstart` the cold start of every bundle against a minimal DynamoDB handler (bench/coldstart.ts);
 * `npm run bench -- soak` the local stack holding requests waiting for capacity, its memory and CPU (bench/soak.ts).
 * Bounded in count and time; everything listens on 127.0.0.1 only.
 */
import './env';
import '../local/polyfills';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoStore } from '../functions/adapters/dynamo-store';
import { ensureClustersTable } from '../functions/adapters/dynamo-table';
import { createHyperPodProvider } from '../functions/adapters/hyperpod';
import { createTirProvider } from '../functions/adapters/tir';
import type { ClusterStore } from '../functions/core/store';
import { submitRequest, type SubmitDeps } from '../functions/core/submit';
import { validateRequest } from '../functions/core/validate';
import type { WorkflowDeps } from '../functions/core/workflow';
import { makeHandler as createCluster } from '../functions/handlers/tasks/create-cluster';
import { makeHandler as deleteCluster } from '../functions/handlers/tasks/delete-cluster';
import { makeHandler as pollCluster } from '../functions/handlers/tasks/poll-cluster';
import { makeHandler as recordOutcome } from '../functions/handlers/tasks/record-outcome';
import { makeHandler as parkExecution } from '../functions/handlers/tasks/park-execution';
import { startDynalite } from '../local/dynalite';
import { startSageMakerSimulator } from '../local/simulators/sagemaker';
import { startTirSimulator } from '../local/simulators/tir';
import { LocalWorkflows, type LambdaHandler } from '../local/workflows';

/** The deployment name the benchmark's clusters carry. */
const DEPLOYMENT = 'gpu-cluster-provisioner-bench';

const example = (name: string) =>
  JSON.parse(readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const summary = (samples: number[], unit: string, digits = 2) => {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `n=${s.length} mean=${mean.toFixed(digits)}${unit} p50=${percentile(s, 50).toFixed(digits)}${unit} p99=${percentile(s, 99).toFixed(digits)}${unit} max=${s.at(-1)!.toFixed(digits)}${unit}`;
};

const benchValidation = () => {
  const requests = ['hyperpod-minimal.json', 'hyperpod-eks.json', 'tir-minimal.json'].map(example);
  for (let i = 0; i < 2000; i++) validateRequest(requests[i % requests.length]); // warm up
  const rounds = 30_000;
  const start = performance.now();
  for (let i = 0; i < rounds; i++) validateRequest(requests[i % requests.length]);
  const ms = performance.now() - start;
  // Baseline, same run: a JSON round trip of the same requests (what any entry point pays for a body).
  const baseStart = performance.now();
  for (let i = 0; i < rounds; i++) JSON.parse(JSON.stringify(requests[i % requests.length]));
  const baseMs = performance.now() - baseStart;
  console.log(
    `validation      ${Math.round((rounds / ms) * 1000).toLocaleString('en')} requests/s (${((ms * 1000) / rounds).toFixed(1)} µs each, examples mixed; ` +
      `×${(ms / baseMs).toFixed(1)} a JSON round trip of the same request)`,
  );

  const hostile = { ...example('hyperpod-minimal.json') } as { cluster: { InstanceGroups: unknown[] } };
  hostile.cluster = { ...hostile.cluster, InstanceGroups: Array.from({ length: 10_000 }, () => ({ InstanceGroupName: '-' })) };
  const t = performance.now();
  const result = validateRequest(hostile);
  console.log(
    `validation      hostile request (10,000 bad groups): ${(performance.now() - t).toFixed(1)} ms, ${result.errors.length} errors reported (capped)`,
  );
};

const benchSubmit = async (store: ClusterStore) => {
  const deps: SubmitDeps = {
    store,
    starter: {
      startProvisioning: async (id) => ({ executionArn: `arn:local:${id}`, alreadyStarted: false }),
      startDeletion: async () => ({ executionArn: 'x', alreadyStarted: false }),
    },
    defaultRegion: 'us-east-1',
  };
  const base = example('hyperpod-minimal.json') as { cluster: { ClusterName: string } };
  const fresh: number[] = [];
  const replays: number[] = [];
  for (let i = 0; i < 300; i++) {
    const request = { ...base, requestId: `bench-${i}`, cluster: { ...base.cluster, ClusterName: `bench-${i}` } };
    let t = performance.now();
    await submitRequest(deps, request);
    fresh.push(performance.now() - t);
    t = performance.now();
    await submitRequest(deps, request);
    replays.push(performance.now() - t);
  }
  // Baseline, same run: one strongly consistent read of the same store (a DynamoDB round trip on this dynalite).
  const reads: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    await store.get(`bench-${i}`);
    reads.push(performance.now() - t);
  }
  const ascending = (a: number, b: number) => a - b;
  const median = (xs: number[]) => percentile(xs.slice(20).sort(ascending), 50);
  const ratio = (xs: number[]) => `×${(median(xs) / median(reads)).toFixed(1)} one GetItem at p50`;
  console.log(
    `submit (new)    ${summary(fresh.slice(20), ' ms')}   [validate + conditional put + start + update, dynalite; ${ratio(fresh)}]`,
  );
  console.log(
    `submit (replay) ${summary(replays.slice(20), ' ms')}   [validate + conditional put answered by the existing record; ${ratio(replays)}]`,
  );
  console.log(`store read      ${summary(reads.slice(20), ' ms')}   [the baseline: one strongly consistent GetItem, dynalite]`);
};

const benchWorkflow = async (store: ClusterStore, concurrency: number) => {
  const sagemaker = await startSageMakerSimulator({ readyAfterMs: 200, deleteAfterMs: 100, defaultCapacity: 100_000 });
  const tir = await startTirSimulator({ readyAfterMs: 200, deleteAfterMs: 100, defaultCapacity: 100_000 });
  process.env.AWS_ENDPOINT_URL_SAGEMAKER = sagemaker.endpoint;
  const providers = {
    sagemaker: createHyperPodProvider({ deployment: DEPLOYMENT }),
    tir: createTirProvider({
      deployment: DEPLOYMENT,
      baseUrl: tir.baseUrl,
      credentials: async () => ({ apiKey: tir.apiKey, authToken: tir.authToken }),
    }),
  };
  let writes = 0;
  const counted: ClusterStore = {
    ...store,
    transition: (...args) => ((writes += 1), store.transition(...args)),
    update: (...args) => ((writes += 1), store.update(...args)),
  };
  let events = 0;
  const deps: WorkflowDeps = {
    store: counted,
    provider: (n) => providers[n],
    eventBusName: 'bench',
    events: { publish: async (entries) => void (events += entries.length) },
  };
  const workflows: LocalWorkflows = new LocalWorkflows({
    handlers: {
      createCluster: createCluster(() => deps) as LambdaHandler,
      pollCluster: pollCluster(() => deps) as LambdaHandler,
      deleteCluster: deleteCluster(() => deps) as LambdaHandler,
      recordOutcome: recordOutcome(() => deps) as LambdaHandler,
      parkExecution: parkExecution(() => ({ store: counted, waker: { wake: async (t) => workflows.sendTaskSuccess(t) } })) as LambdaHandler,
    },
    publish: async (entries) => void (events += entries.length),
    waitTimeOverrides: { WaitForCluster: 50, ParkUntilChange: 50, WaitForDeletion: 50 },
  });
  const submitDeps: SubmitDeps = { store, starter: workflows.starter(), defaultRegion: 'us-east-1' };
  const hp = example('hyperpod-minimal.json') as { cluster: { ClusterName: string } };
  const tr = example('tir-minimal.json') as { cluster: { name: string } };
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, (_, i) =>
      submitRequest(
        submitDeps,
        i % 2 === 0
          ? { ...hp, requestId: `wf-${concurrency}-${i}`, cluster: { ...hp.cluster, ClusterName: `wf-${concurrency}-${i}` } }
          : { ...tr, requestId: `wf-${concurrency}-${i}`, cluster: { ...tr.cluster, name: `wf-${concurrency}-${i}` } },
      ),
    ),
  );
  await workflows.settle();
  const ms = performance.now() - start;
  const failed = workflows.list().filter((e) => e.status !== 'SUCCEEDED').length;
  console.log(
    `workflow x${String(concurrency).padEnd(4)} ${ms.toFixed(0)} ms wall for ${concurrency} provisionings to READY (${failed} failed, ${events} events), ` +
      `${(writes / concurrency).toFixed(1)} store writes each; simulated readiness 200 ms, poll override 50 ms`,
  );
  await Promise.all([sagemaker.close(), tir.close()]);
};

const main = async () => {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  console.log(
    `machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`,
  );
  benchValidation();
  const db = await startDynalite();
  try {
    const client = new DynamoDBClient({ endpoint: db.endpoint });
    await ensureClustersTable(client, 'bench-clusters');
    const store = createDynamoStore({ client, tableName: 'bench-clusters' });
    await benchSubmit(store);
    for (const n of [10, 50]) await benchWorkflow(store, n);
    await (await import('./readiness')).benchReadiness(client);
  } finally {
    await db.close();
  }
};

// npm run bench -- contention [...]: the capacity-contention benchmark (bench/contention/index.ts); no argument: the
// figures above.
const [section, ...rest] = process.argv.slice(2);
if (section === 'contention') await (await import('./contention/index')).main(rest);
else if (section === 'coldstart') await (await import('./coldstart')).main(rest);
else if (section === 'soak') await (await import('./soak')).main(rest);
else if (section === undefined) await main();
else throw new Error(`Unknown bench section "${section}" (known: contention, coldstart, soak; none: the hot-path figures)`);
