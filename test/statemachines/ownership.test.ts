/**
 * Nothing shared: a cluster is adopted only on proof that it is the request's own (HyperPod: the tags; TIR: the owner
 * marker the adapter appends to the lifecycle script, when TIR hands it back, or the cluster id the request recorded),
 * never because it has the request's name and appeared at the right time. The shipped ASL runs with the real task handlers, the store is dynalite, TIR is the simulator over fetch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, tirRequest, type Harness } from '../helpers/workflow';

let harness: Harness;
afterEach(async () => {
  await harness?.close();
});

describe('TIR: a name clash is a conflict, never an adoption', () => {
  it('a request refused at create does not adopt the same-named cluster another request made meanwhile', async () => {
    // Prepare: A's first create is refused (a 503: a capacity refusal would also make the shortage memory hold A's
    // retries off this offering, and the clash would never be tried); while A waits, V creates a cluster under A's name.
    harness = await startHarness({ waitMs: 400, settings: { capacityRetryMaxAttempts: 3 } });
    const a = tirRequest();
    const v = { ...tirRequest(), cluster: { ...a.cluster } };
    harness.tir.injectErrors('create', ['503']);
    await harness.submit(a);
    await harness.waitForStatus(a.requestId, 'WAITING_FOR_CAPACITY');
    const ofV = await harness.provision(v);
    expect(ofV.record.status).toBe('READY');

    // Act: A's retries find the name taken
    const ofA = await harness.workflows.get(a.requestId)!.done;

    // Assess: one READY request with the cluster, one that ended on the horizon, waiting for the name, never adopting
    expect(ofA.status).toBe('FAILED');
    const recordA = await harness.store.require(a.requestId);
    expect(recordA).toMatchObject({ status: 'FAILED', lastError: { name: 'RetryHorizonExceededError' } });
    expect(recordA.providerId).toBeUndefined();
    expect(recordA.history.some((h) => h.to === 'CREATING' && /adopted/.test(h.reason ?? ''))).toBe(false);
    expect(recordA.lastError?.message).toMatch(/name-in-use|ResourceInUse/);
    expect((await harness.store.require(v.requestId)).providerId).toBe(ofV.record.providerId);

    // Deleting A leaves V's cluster alone
    const deleted = await harness.delete(a.requestId);
    expect(deleted.record.status).toBe('DELETED');
    expect(harness.tir.cluster(Number(ofV.record.providerId))).toMatchObject({ status: 'Running' });
    expect(harness.tir.requests.filter((r) => r.operation === 'delete')).toEqual([]);
  });

  /** The first create reaches TIR, but its answer is a gateway page (the Lambda cannot tell it was created). */
  const losingFirstCreateAnswer = () => {
    const realFetch = globalThis.fetch;
    let lost = false;
    globalThis.fetch = async (input, init) => {
      const response = await realFetch(input, init);
      if (!lost && init?.method === 'POST') {
        lost = true;
        return new Response('<html>502 Bad Gateway</html>', { status: 502 });
      }
      return response;
    };
    return () => {
      globalThis.fetch = realFetch;
    };
  };

  it('after a lost create answer, as TIR documents it (no lifecycle_script handed back): neither adopted nor deleted, and the record says so', async () => {
    // Prepare
    harness = await startHarness({ waitMs: 50, settings: { capacityRetryMaxAttempts: 3 } });
    const a = tirRequest();
    const restore = losingFirstCreateAnswer();
    try {
      // Act
      const { execution, record } = await harness.provision(a);

      // Assess: the request ends at its horizon, naming the cluster it cannot prove; the cluster stays, untouched
      expect(execution.status).toBe('FAILED');
      expect(record).toMatchObject({ status: 'FAILED', lastError: { name: 'RetryHorizonExceededError' } });
      expect(record.providerId).toBeUndefined();
      expect(record.history.some((h) => h.to === 'CREATING')).toBe(false);
      expect(JSON.stringify(record)).toMatch(/cannot prove it created: it is neither adopted nor deleted/);
      expect(harness.tir.cluster(a.cluster.name)).toMatchObject({ name: a.cluster.name });
      expect(harness.tir.requests.filter((r) => r.operation === 'delete')).toEqual([]);
    } finally {
      restore();
    }
  });

  it('a 201 without the cluster id (the create example shows data without fields) is READY with one create', async () => {
    // Prepare: TIR in the published shapes, its 201 answering `data: {}`
    harness = await startHarness({ tir: { createAnswersCluster: false } });
    const a = tirRequest();

    // Act
    const { execution, record } = await harness.provision(a);

    // Assess: the id is the one cluster of that name, read once after the 201; no adoption, one create
    expect(execution.status).toBe('SUCCEEDED');
    expect(record).toMatchObject({ status: 'READY', attempts: 1, providerId: String(harness.tir.cluster(a.cluster.name)!.id) });
    expect(harness.tir.requests.filter((r) => r.operation === 'create')).toHaveLength(1);
  });

  it('adopts its own cluster after a lost create answer when TIR hands the script back: the marker proves it', async () => {
    // Prepare: the create reaches TIR, but the answer is a gateway page (the Lambda cannot tell it was created)
    harness = await startHarness({ tir: { returnsLifecycleScript: true } });
    const a = tirRequest();
    const restore = losingFirstCreateAnswer();
    try {
      // Act
      const { execution, record } = await harness.provision(a);

      // Assess: one cluster, adopted, READY
      expect(execution.status).toBe('SUCCEEDED');
      expect(record.status).toBe('READY');
      expect(record.history.some((h) => /adopted/.test(h.reason ?? ''))).toBe(true);
      expect(harness.tir.requests.filter((r) => r.operation === 'create')).toHaveLength(2);
      expect(harness.tir.cluster(a.cluster.name)).toMatchObject({ id: Number(record.providerId) });
    } finally {
      restore();
    }
  });
});
