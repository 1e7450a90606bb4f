/**
 * Fault scenarios through the real parts: the shipped ASL, the real task handlers, dynalite and the SageMaker
 * simulator (see test/helpers/workflow.ts). Each scenario prints one line of figures (`[fault-scenario] ...`); the
 * results table is in docs/development.md, "Fault scenarios".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../functions/core/errors';
import { DETAIL_TYPES } from '../../functions/core/events';
import type { ClusterProvider } from '../../functions/core/provider';
import { reconcile, type ReconcileDeps } from '../../functions/core/reconcile';
import type { ClusterStore } from '../../functions/core/store';
import { submitRequest, type WorkflowStarter } from '../../functions/core/submit';
import { freshStore } from '../helpers/dynamo';
import { hyperpodRequest, startHarness, type Harness } from '../helpers/workflow';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const report = (scenario: string, figures: Record<string, unknown>) =>
  console.log(
    `[fault-scenario] ${scenario}: ${Object.entries(figures)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
      .join(' ')}`,
  );

/** A seeded generator (mulberry32), so the fault rates hit the same calls on every run. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/** CreateCluster calls answered 200, per ClusterName. */
const createdPerName = (h: Harness): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const r of h.sagemaker.requests) {
    if (r.operation !== 'CreateCluster' || r.status !== 200) continue;
    const name = (r.body as { ClusterName: string }).ClusterName;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
};

const eventsOf = (h: Harness, detailType: string, requestId: string) =>
  h.events.filter((e) => e.DetailType === detailType && (e.Detail as unknown as { requestId?: string }).requestId === requestId);

const reconcileDeps = (h: Harness): ReconcileDeps => ({
  store: h.store,
  starter: h.workflows.starter(),
  graceSeconds: 0,
  events: { publisher: h.taskDeps.events!, busName: h.taskDeps.eventBusName },
});

/** Never settles: the Lambda died with the process, so nothing after this point runs. */
const G5_TYPES = ['xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge'].map((size) => `ml.g5.${size}`);

const death = () => new Promise<never>(() => undefined);

/** Kills every running execution the way a crash would (StopExecution-like abort; nothing records it). */
const killRunning = (h: Harness) => {
  for (const e of h.workflows.list()) if (e.status === 'RUNNING') e.abort();
};

describe('fault scenarios', () => {
  it('1. provider 5xx storms and throttling during create, poll and delete: all READY then DELETED, one cluster and one event each', async () => {
    harness = await startHarness({ sagemaker: { readyAfterMs: 150, deleteAfterMs: 100, random: seeded(20261129) } });
    const h = harness;
    const N = 10;
    const windowMs = 1500;
    const storm = { errorRate: 0.5, throttleRate: 0.3 };
    // Offerings of their own: on one HyperPod offering requests take turns until the instances of the one before are
    // launched (docs/capacity.md), and the storm is about the calls, not the queue.
    const requests = Array.from({ length: N }, (_, i) => hyperpodRequest({ instanceType: G5_TYPES[i % G5_TYPES.length] }));

    const t0 = Date.now();
    h.sagemaker.setFaults(storm);
    const clearCreate = setTimeout(() => h.sagemaker.clearFaults(), windowMs);
    const provisioned = await Promise.all(requests.map((r) => h.provision(r)));
    clearTimeout(clearCreate);
    h.sagemaker.clearFaults();
    const provisionMs = Date.now() - t0;
    const faultedCreate = h.sagemaker.requests.filter((r) => r.status !== undefined && r.status >= 400).length;

    const t1 = Date.now();
    h.sagemaker.setFaults(storm);
    const clearDelete = setTimeout(() => h.sagemaker.clearFaults(), windowMs);
    const deleted = await Promise.all(requests.map((r) => h.delete(r.requestId)));
    clearTimeout(clearDelete);
    h.sagemaker.clearFaults();
    const deleteMs = Date.now() - t1;

    const faulted = h.sagemaker.requests.filter((r) => r.status !== undefined && r.status >= 400);
    const byOp = (op: string) => faulted.filter((r) => r.operation === op).length;
    report('provider storm', {
      N,
      window_ms: windowMs,
      provision_ms: provisionMs,
      delete_ms: deleteMs,
      calls: h.sagemaker.requests.length,
      faulted: faulted.length,
      faulted_during_provision: faultedCreate,
      faulted_by_op: {
        CreateCluster: byOp('CreateCluster'),
        DescribeCluster: byOp('DescribeCluster'),
        DeleteCluster: byOp('DeleteCluster'),
      },
      ready: provisioned.filter((p) => p.record.status === 'READY').length,
      deleted: deleted.filter((d) => d.record.status === 'DELETED').length,
    });

    expect(byOp('CreateCluster')).toBeGreaterThan(0);
    expect(byOp('DescribeCluster')).toBeGreaterThan(0);
    expect(byOp('DeleteCluster')).toBeGreaterThan(0);
    for (const p of provisioned) expect(p.record.status).toBe('READY');
    for (const d of deleted) expect(d.record.status).toBe('DELETED');
    const created = createdPerName(h);
    for (const r of requests) {
      expect(created.get(r.cluster.ClusterName)).toBe(1);
      expect(eventsOf(h, DETAIL_TYPES.ready, r.requestId)).toHaveLength(1);
      expect(eventsOf(h, DETAIL_TYPES.deleted, r.requestId)).toHaveLength(1);
    }
    expect(created.size).toBe(N);
    expect(h.events.filter((e) => e.DetailType === DETAIL_TYPES.failed)).toHaveLength(0);
    for (const r of requests) {
      const record = await h.store.require(r.requestId);
      expect(record.status).toBe('DELETED');
      expect(record.history.some((entry) => entry.to === 'FAILED')).toBe(false);
    }
  }, 30_000);

  describe('2. workflow death at every step, then the reconciler', () => {
    type Step = 'accepted' | 'after-create' | 'waiting' | 'creating' | 'after-record-ready';
    /** Arms a one-shot kill at `step`; answers when the kill happened. */
    const arm = (h: Harness, step: Step): Promise<void> => {
      let fire!: () => void;
      const killed = new Promise<void>((resolve) => (fire = resolve));
      let armed = true;
      const trigger = () => {
        armed = false;
        killRunning(h);
        fire();
      };
      const realProvider = h.taskDeps.provider;
      const realStore = h.taskDeps.store;
      if (step === 'accepted' || step === 'after-create') {
        h.taskDeps.provider = (name) => {
          const provider = realProvider(name);
          return new Proxy(provider, {
            get(target, key, receiver) {
              if (key !== 'create' || !armed) return Reflect.get(target, key, receiver);
              return async (...args: Parameters<ClusterProvider['create']>) => {
                if (!armed) return target.create(...args);
                if (step === 'accepted') {
                  trigger();
                  return death();
                }
                await target.create(...args); // answered at the provider, never recorded
                trigger();
                return death();
              };
            },
          });
        };
      }
      if (step === 'after-record-ready') {
        h.taskDeps.store = new Proxy(realStore, {
          get(target, key, receiver) {
            const value = Reflect.get(target, key, receiver) as unknown;
            if (typeof value !== 'function') return value;
            return async (...args: unknown[]) => {
              const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
              if (armed && (result as { status?: string } | undefined)?.status === 'READY') {
                trigger(); // READY is written; the execution dies before the Cluster Ready event is put
                return death();
              }
              return result;
            };
          },
        }) as ClusterStore;
      }
      return killed;
    };

    const cases: Array<{ step: Step; title: string }> = [
      { step: 'accepted', title: 'after ACCEPTED, before CreateCluster' },
      { step: 'after-create', title: 'right after CreateCluster answered (cluster exists, not recorded)' },
      { step: 'waiting', title: 'while WAITING_FOR_CAPACITY' },
      { step: 'creating', title: 'while CREATING (polling)' },
    ];
    for (const { step, title } of cases) {
      it(`${title}: resumed to READY, one cluster, one Cluster Ready`, async () => {
        harness = await startHarness({ sagemaker: { readyAfterMs: 300 }, ...(step === 'waiting' ? { waitMs: 60_000 } : {}) });
        const h = harness;
        const request = hyperpodRequest();
        const t0 = Date.now();
        if (step === 'waiting') h.sagemaker.injectErrors('CreateCluster', ['ResourceLimitExceeded']);
        const killed = step === 'waiting' || step === 'creating' ? undefined : arm(h, step);
        await h.submit(request);
        if (killed) await killed;
        else {
          await h.waitForStatus(request.requestId, step === 'waiting' ? 'WAITING_FOR_CAPACITY' : 'CREATING');
          killRunning(h);
        }
        await h.workflows.get(request.requestId)!.done;
        const deadStatus = (await h.store.require(request.requestId)).status;

        const { actions } = await reconcile(reconcileDeps(h));
        await h.workflows.settle();
        const record = await h.store.require(request.requestId);
        const created = createdPerName(h).get(request.cluster.ClusterName) ?? 0;
        const ready = eventsOf(h, DETAIL_TYPES.ready, request.requestId).length;
        report(`death ${step}`, {
          dead_status: deadStatus,
          reconcile: actions.map((a) => a.action),
          final: record.status,
          clusters_created: created,
          ready_events: ready,
          resumes: record.resumes,
          ms: Date.now() - t0,
        });
        expect(actions).toEqual([expect.objectContaining({ requestId: request.requestId, action: 'resumed' })]);
        expect(record.status).toBe('READY');
        expect(created).toBe(1);
        expect(h.sagemaker.clusters()).toHaveLength(1);
        expect(ready).toBe(1);
      }, 20_000);
    }

    it('right after READY is recorded, before its event is put: the reconciler announces it, once', async () => {
      harness = await startHarness({ sagemaker: { readyAfterMs: 150 } });
      const h = harness;
      const request = hyperpodRequest();
      const killed = arm(h, 'after-record-ready');
      await h.submit(request);
      await killed;
      await h.workflows.get(request.requestId)!.done;
      const dead = await h.store.require(request.requestId);
      const { actions } = await reconcile(reconcileDeps(h));
      await h.workflows.settle();
      const again = await reconcile(reconcileDeps(h));
      const record = await h.store.require(request.requestId);
      const created = createdPerName(h).get(request.cluster.ClusterName) ?? 0;
      const ready = eventsOf(h, DETAIL_TYPES.ready, request.requestId).length;
      report('death after-record-ready', {
        final: record.status,
        reconcile: actions.map((a) => a.action),
        clusters_created: created,
        ready_events: ready,
      });
      expect(dead.status).toBe('READY');
      expect(dead.announced).toEqual({ status: 'READY', detailType: DETAIL_TYPES.ready });
      expect(record.status).toBe('READY');
      expect(record.announced?.at).toBeDefined();
      expect(created).toBe(1);
      expect(actions.filter((a) => a.action === 'resumed')).toHaveLength(0);
      expect(ready).toBe(1);
      // A second pass finds nothing to announce.
      expect(again.actions).toEqual([]);
      expect(eventsOf(h, DETAIL_TYPES.ready, request.requestId)).toHaveLength(1);
    }, 20_000);
  });

  it('3. the same request delivered 10 times at once: one record, one execution, one cluster', async () => {
    harness = await startHarness();
    const h = harness;
    const request = hyperpodRequest();
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 10 }, () => h.submit(structuredClone(request))));
    await h.workflows.settle();
    const page = await h.store.list({ limit: 100 });
    const records = page.items.filter((r) => r.requestId === request.requestId);
    const created = createdPerName(h).get(request.cluster.ClusterName) ?? 0;
    report('duplicates x10', {
      deliveries: results.length,
      records: records.length,
      executions: h.workflows.list().length,
      clusters_created: created,
      ready_events: eventsOf(h, DETAIL_TYPES.ready, request.requestId).length,
      ms: Date.now() - t0,
    });
    expect(records).toHaveLength(1);
    expect(h.workflows.list()).toHaveLength(1);
    expect(created).toBe(1);
    expect((await h.store.require(request.requestId)).status).toBe('READY');
    expect(eventsOf(h, DETAIL_TYPES.ready, request.requestId)).toHaveLength(1);
  }, 20_000);

  /** The outage of scenario 4, in ms: 30 s by default, FAULT_OUTAGE_MS for another. */
  const OUTAGE_MS = Number(process.env.FAULT_OUTAGE_MS ?? 30_000);
  it(
    `4. DynamoDB unavailable for ${OUTAGE_MS / 1000} s during a provisioning: the tasks retry the store (the shipped backoff) and the execution ends READY`,
    async () => {
      const outageMs = OUTAGE_MS;
      let outageUntil = 0;
      let refused = 0;
      const unavailable = () => {
        refused++;
        // What the DynamoDB adapter throws for a transient failure (see test/adapters/dynamo-store.test.ts).
        return new StoreUnavailableError('The record store is unavailable (ServiceUnavailable): Service Unavailable');
      };
      harness = await startHarness({
        sagemaker: { readyAfterMs: 300 },
        // The store retrier (the first of every task) runs as shipped: 2 s doubling to 30 s, full jitter, 20 attempts;
        // the other retriers at test speed.
        retryMs: [-1, 5],
        wrapStore: (store) =>
          new Proxy(store, {
            get(target, key, receiver) {
              const value = Reflect.get(target, key, receiver) as unknown;
              if (typeof value !== 'function') return value;
              return (...args: unknown[]) => {
                if (Date.now() < outageUntil) return Promise.reject(unavailable());
                return (value as (...a: unknown[]) => unknown).apply(target, args);
              };
            },
          }),
      });
      const h = harness;
      const request = hyperpodRequest();
      const t0 = Date.now();
      await h.submit(request);
      await h.waitForStatus(request.requestId, 'CREATING');
      outageUntil = Date.now() + outageMs;
      const execution = await h.workflows.get(request.requestId)!.done;
      const afterRun = await h.store.require(request.requestId);
      const runMs = Date.now() - t0;
      // Let the outage end, then what the deployment does every 5 minutes: the reconciler.
      await new Promise((r) => setTimeout(r, Math.max(0, outageUntil - Date.now())));
      const { actions } = await reconcile(reconcileDeps(h));
      await h.workflows.settle();
      const final = await h.store.require(request.requestId);
      const created = createdPerName(h).get(request.cluster.ClusterName) ?? 0;
      report('dynamodb outage', {
        outage_ms: outageMs,
        store_calls_refused: refused,
        execution: execution.status,
        execution_error: execution.error?.name,
        record_after_execution: afterRun.status,
        run_ms: runMs,
        reconcile: actions.map((a) => a.action),
        final: final.status,
        clusters_created: created,
        ready_events: eventsOf(h, DETAIL_TYPES.ready, request.requestId).length,
        total_ms: Date.now() - t0,
      });
      expect(refused).toBeGreaterThan(0);
      // Every task retries StoreUnavailableError for minutes (deployed: 2 s doubling to 30 s, 20 attempts): the
      // execution itself rides out the outage; the reconciler finds nothing to do.
      expect(execution.status).toBe('SUCCEEDED');
      expect(afterRun.status).toBe('READY');
      expect(h.events.filter((e) => e.DetailType === DETAIL_TYPES.failed)).toHaveLength(0);
      expect(actions.filter((a) => a.action === 'resumed')).toEqual([]);
      expect(final.status).toBe('READY');
      expect(created).toBe(1);
    },
    OUTAGE_MS + 240_000,
  );

  /** Scenario 5's sizes: FAULT_SUBMITS concurrent submits (default 1,000), FAULT_PROVISIONS of them run to READY (default 100). */
  const SUBMITS = Number(process.env.FAULT_SUBMITS ?? 1000);
  const PROVISIONS = Number(process.env.FAULT_PROVISIONS ?? 100);
  it(`5. ${SUBMITS} concurrent submits: all recorded, each started once, heap growth bounded`, async () => {
    const { store } = await freshStore();
    const starts = new Map<string, number>();
    const starter: WorkflowStarter = {
      startProvisioning: async (requestId, name = requestId) => {
        starts.set(requestId, (starts.get(requestId) ?? 0) + 1);
        return { executionArn: `arn:aws:states:local:000000000000:execution:provision-cluster:${name}`, alreadyStarted: false };
      },
      startDeletion: async (_requestId, name) => ({
        executionArn: `arn:aws:states:local:000000000000:execution:delete-cluster:${name}`,
        alreadyStarted: false,
      }),
    };
    const N = SUBMITS;
    const requests = Array.from({ length: N }, () => hyperpodRequest());
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = Date.now();
    const results = await Promise.all(requests.map((r) => submitRequest({ store, starter, defaultRegion: 'us-east-1' }, r)));
    const ms = Date.now() - t0;
    global.gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    let recorded = 0;
    for (const r of requests) if ((await store.get(r.requestId))?.requestId === r.requestId) recorded++;
    const growthMb = (heapAfter - heapBefore) / 2 ** 20;
    report('concurrent submits', {
      N,
      ms,
      recorded,
      started_once: [...starts.values()].filter((n) => n === 1).length,
      heap_before_mb: (heapBefore / 2 ** 20).toFixed(1),
      heap_after_mb: (heapAfter / 2 ** 20).toFixed(1),
      heap_growth_mb: growthMb.toFixed(1),
    });
    expect(results).toHaveLength(N);
    expect(recorded).toBe(N);
    expect(starts.size).toBe(N);
    for (const n of starts.values()) expect(n).toBe(1);
    expect(growthMb).toBeLessThan(200);
  }, 120_000);

  it(`5b. ${PROVISIONS} concurrent provisionings through the workflow: every one final (READY), one cluster each, heap bounded`, async () => {
    // Capacity for all of them: this is about load, not shortage.
    harness = await startHarness({ sagemaker: { readyAfterMs: 200, defaultCapacity: 100_000, capacity: {} } });
    const h = harness;
    const requests = Array.from({ length: PROVISIONS }, () => hyperpodRequest());
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = Date.now();
    await Promise.all(requests.map((r) => h.submit(r)));
    await h.workflows.settle();
    const ms = Date.now() - t0;
    global.gc?.();
    const growthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    const records = await Promise.all(requests.map((r) => h.store.require(r.requestId)));
    const perName = createdPerName(h);
    report('concurrent provisionings', {
      N: PROVISIONS,
      ms,
      ready: records.filter((r) => r.status === 'READY').length,
      ready_events: h.events.filter((e) => e.DetailType === DETAIL_TYPES.ready).length,
      heap_growth_mb: growthMb.toFixed(1),
    });
    expect(records.every((r) => r.status === 'READY')).toBe(true);
    for (const r of requests) expect(perName.get(r.cluster.ClusterName)).toBe(1);
    expect(h.events.filter((e) => e.DetailType === DETAIL_TYPES.ready)).toHaveLength(PROVISIONS);
    expect(growthMb).toBeLessThan(300);
  }, 180_000);
});
