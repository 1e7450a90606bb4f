/**
 * The provider simulators' `stateFile`: a simulator started again on the same file (after close(), or a kill -9 of
 * its process) answers as before, time-based transitions go on from the stored times, capacity and quota stay as they
 * were, ids and ARNs never repeat, and a corrupt file fails the start naming the file. Driven through the real
 * @aws-sdk/client-sagemaker and fetch, like the other simulator tests.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClusterCommand,
  ListClustersCommand,
  ListTagsCommand,
  SageMakerClient,
  type CreateClusterCommandInput,
} from '@aws-sdk/client-sagemaker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSageMakerSimulator, type SageMakerSimulator, type SageMakerSimulatorOptions } from '../../local/simulators/sagemaker';
import { startTirSimulator, type TirSimulator, type TirSimulatorOptions } from '../../local/simulators/tir';
import { hyperpodGroup, tirCluster } from '../fixtures/clusters';

const P5 = 'ml.p5.48xlarge';
const G5 = 'ml.g5.48xlarge';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sim-state-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Simulators a test started, closed after it. */
const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});
const sagemaker = async (options: SageMakerSimulatorOptions) => {
  const sim = await startSageMakerSimulator(options);
  running.push(sim);
  return sim;
};
const tir = async (options: TirSimulatorOptions) => {
  const sim = await startTirSimulator(options);
  running.push(sim);
  return sim;
};
const closeNow = async (sim: { close(): Promise<void> }) => {
  running.splice(running.indexOf(sim), 1);
  await sim.close();
};

// ---- SageMaker, through the SDK ----

const clientOf = (s: SageMakerSimulator) =>
  new SageMakerClient({
    region: 'us-east-1',
    endpoint: s.endpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
type Group = NonNullable<CreateClusterCommandInput['InstanceGroups']>[number];
const group = (overrides: Record<string, unknown> = {}): Group => hyperpodGroup(overrides as never) as Group;
const create = (client: SageMakerClient, name: string, groups: Group[], extra: Partial<CreateClusterCommandInput> = {}) =>
  client.send(new CreateClusterCommand({ ClusterName: name, InstanceGroups: groups, ...extra }));
/** DescribeCluster without the SDK's per-call $metadata; the error name when it fails. */
const describeCluster = async (client: SageMakerClient, name: string) => {
  try {
    const { $metadata: _, ...rest } = await client.send(new DescribeClusterCommand({ ClusterName: name }));
    return rest;
  } catch (err) {
    return { error: (err as Error).name };
  }
};
const listClusters = async (client: SageMakerClient) => {
  const { $metadata: _, ...rest } = await client.send(new ListClustersCommand({ SortBy: 'CREATION_TIME', SortOrder: 'Ascending' }));
  return rest;
};
/** Polls DescribeCluster until `done` holds; returns the answer and when it was seen. */
const until = async (client: SageMakerClient, name: string, done: (d: Record<string, unknown>) => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = (await describeCluster(client, name)) as Record<string, unknown>;
    if (done(d)) return { d, at: Date.now() };
    if (Date.now() > deadline) throw new Error(`${name}: ${JSON.stringify(d).slice(0, 300)}`);
    await sleep(5);
  }
};
const status = (s: string) => (d: Record<string, unknown>) => d.ClusterStatus === s;
const errorName = async (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (err: Error) => err.name,
  );

describe('SageMaker simulator with a stateFile', () => {
  const TIMING = { readyAfterMs: 700, deleteAfterMs: 700, rollbackMs: 30 };

  it('answers the same after a restart, and goes on from the stored times, capacity and quota', async () => {
    const stateFile = join(dir, 'sagemaker', 'state.json'); // the directory is created
    const first = await sagemaker({ ...TIMING, stateFile });
    first.setCapacity(P5, 4); // kept in the file: the second start has no capacity option
    first.setQuota(G5, 1);
    let client = clientOf(first);

    const { ClusterArn: upArn } = await create(client, 'up', [group({ InstanceCount: 2 })], { Tags: [{ Key: 'team', Value: 'vision' }] });
    // written before the answer: the file holds the cluster as soon as CreateCluster resolves
    expect(readFileSync(stateFile, 'utf8')).toContain(upArn!);
    await create(client, 'doomed', [group({ InstanceType: G5, InstanceCount: 1 })]);
    await create(client, 'short', [group({ InstanceCount: 4 })]); // 'up' takes 2 of the 4 first: this one rolls back
    await until(client, 'up', status('InService'));
    await until(client, 'short', status('Failed'));
    await until(client, 'doomed', status('InService'));

    const deleteRequested = Date.now();
    await client.send(new DeleteClusterCommand({ ClusterName: 'doomed' }));
    expect(
      JSON.parse(readFileSync(stateFile, 'utf8')).clusters.find((c: { name: string }) => c.name === 'doomed').deletingSince,
    ).toBeGreaterThanOrEqual(deleteRequested);
    const { ClusterArn: pendingArn } = await create(client, 'pending', [group({ InstanceCount: 2 })]);
    expect(readFileSync(stateFile, 'utf8')).toContain(pendingArn!);

    const names = ['up', 'short', 'doomed', 'pending'];
    const before = { described: await Promise.all(names.map((n) => describeCluster(client, n))), listed: await listClusters(client) };
    const tagsBefore = (await client.send(new ListTagsCommand({ ResourceArn: upArn }))).Tags;
    expect(before.described.map((d) => (d as Record<string, unknown>).ClusterStatus)).toEqual([
      'InService',
      'Failed',
      'Deleting',
      'Creating',
    ]);
    expect(first.available(P5)).toBe(2);
    await closeNow(first);

    const second = await sagemaker({ ...TIMING, stateFile });
    client = clientOf(second);
    const after = { described: await Promise.all(names.map((n) => describeCluster(client, n))), listed: await listClusters(client) };
    expect(after).toEqual(before);
    expect((await client.send(new ListTagsCommand({ ResourceArn: upArn }))).Tags).toEqual(tagsBefore);
    expect(second.clusters().map((c) => [c.name, c.status, c.held])).toEqual([
      ['up', 'InService', { [P5]: 2 }],
      ['doomed', 'Deleting', { [G5]: 1 }],
      ['short', 'Failed', {}],
      ['pending', 'Creating', {}],
    ]);

    // the quota set before the restart, charged with what the deleting cluster still holds
    expect(await errorName(create(client, 'quota', [group({ InstanceType: G5, InstanceCount: 1 })]))).toBe('ResourceLimitExceeded');

    // Creating -> InService readyAfterMs after the original creation, with the capacity it finds (2 of 4 free)
    const pendingCreated = (before.described[3] as { CreationTime: Date }).CreationTime.getTime();
    const ready = await until(client, 'pending', status('InService'));
    expect(ready.at).toBeGreaterThanOrEqual(pendingCreated + TIMING.readyAfterMs);
    expect(ready.at).toBeLessThan(pendingCreated + TIMING.readyAfterMs + 1_000);
    expect(second.available(P5)).toBe(0);

    // the deletion goes on: gone deleteAfterMs after the DeleteCluster, then its instances and quota are free
    const gone = await until(client, 'doomed', (d) => d.error === 'ResourceNotFound');
    expect(gone.at).toBeGreaterThanOrEqual(deleteRequested + TIMING.deleteAfterMs);
    expect(gone.at).toBeLessThan(deleteRequested + TIMING.deleteAfterMs + 1_000);
    expect(second.available(G5)).toBe(64);
    await expect(create(client, 'quota', [group({ InstanceType: G5, InstanceCount: 1 })])).resolves.toBeDefined();

    // the capacity held is still held: a create that does not fit rolls back
    await create(client, 'late', [group({ InstanceCount: 1 })]);
    const late = await until(client, 'late', status('Failed'));
    expect(late.d.FailureMessage).toContain(`We currently do not have sufficient ${P5} capacity`);

    // and a third start sees what the second did
    await closeNow(second);
    const third = await sagemaker({ ...TIMING, stateFile });
    expect(third.clusters().map((c) => [c.name, c.status])).toEqual([
      ['up', 'InService'],
      ['short', 'Failed'],
      ['pending', 'InService'],
      ['quota', 'InService'], // created before 'late', so up before it failed
      ['late', 'Failed'],
    ]);
    expect(third.available(P5)).toBe(0);
  });

  it('never gives an ARN twice, and keeps creation order across a restart', async () => {
    const stateFile = join(dir, 'sagemaker-arns.json');
    const timing = { readyAfterMs: 20, deleteAfterMs: 20 };
    const arns: string[] = [];
    let sim = await sagemaker({ ...timing, stateFile });
    for (let round = 0; round < 3; round += 1) {
      const client = clientOf(sim);
      arns.push((await create(client, 'again', [group()])).ClusterArn!);
      arns.push((await create(client, `kept-${round}`, [group({ InstanceCount: 1 })])).ClusterArn!);
      await client.send(new DeleteClusterCommand({ ClusterName: 'again' }));
      await until(client, 'again', (d) => d.error === 'ResourceNotFound');
      await closeNow(sim);
      sim = await sagemaker({ ...timing, stateFile });
    }
    expect(new Set(arns).size).toBe(arns.length);
    const listed = await listClusters(clientOf(sim));
    expect(listed.ClusterSummaries?.map((c) => c.ClusterName)).toEqual(['kept-0', 'kept-1', 'kept-2']);
  });

  it('without a stateFile writes nothing and a new start knows no cluster', async () => {
    const files = readdirSync(dir).length;
    const sim = await sagemaker(TIMING);
    expect(sim.stateFile).toBeUndefined();
    await create(clientOf(sim), 'memory-only', [group()]);
    await closeNow(sim);
    expect(readdirSync(dir).length).toBe(files);
    const next = await sagemaker(TIMING);
    expect(next.clusters()).toEqual([]);
  });
});

// ---- TIR, through fetch ----

const QUERY = 'project_id=42&location=Delhi';
const tirCall = async (sim: TirSimulator, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${sim.baseUrl}${path}?${QUERY}&apikey=${sim.apiKey}`, {
    method,
    headers: { authorization: `Bearer ${sim.authToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
};
const CLUSTERS = '/distributed_jobs_v2/cluster/';
const byId = (id: number) => `${CLUSTERS}${id}/`;
/** A cluster object (its answer holds nothing that changes with the time of the answer). */
const stable = (cluster: Record<string, unknown>) => cluster;
const tirUntil = async (sim: TirSimulator, id: number, done: (a: { status: number; json: Record<string, any> }) => boolean) => {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const answer = await tirCall(sim, 'GET', byId(id));
    if (done(answer)) return Date.now();
    if (Date.now() > deadline) throw new Error(`cluster ${id}: ${JSON.stringify(answer.json).slice(0, 300)}`);
    await sleep(5);
  }
};

describe('TIR simulator with a stateFile', () => {
  const TIMING = { readyAfterMs: 700, deleteAfterMs: 700 };

  it('answers the same after a restart, and goes on from the stored times and capacity', async () => {
    const stateFile = join(dir, 'tir', 'state.json');
    const first = await tir({ ...TIMING, stateFile });
    first.setCapacity(11, 5); // kept in the file: the second start has no capacity option

    const running1 = await tirCall(first, 'POST', CLUSTERS, tirCluster('running', { no_of_nodes: 2 }));
    expect(running1.status).toBe(201);
    const runningId = running1.json.data.id as number;
    // written before the answer: the file holds the cluster as soon as the POST resolves
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).clusters.map((c: { id: number }) => c.id)).toContain(runningId);
    const failedId = (await tirCall(first, 'POST', CLUSTERS, tirCluster('failed', { no_of_nodes: 1 }))).json.data.id as number;
    const deletingId = (await tirCall(first, 'POST', CLUSTERS, tirCluster('deleting', { no_of_nodes: 1 }))).json.data.id as number;
    await tirUntil(first, deletingId, (a) => a.json.data.status === 'Running'); // the last of the three: all are up
    first.failCluster(failedId, 'GPU node health check failed');
    const deleteRequested = Date.now();
    expect((await tirCall(first, 'DELETE', byId(deletingId))).status).toBe(200);
    const postedAt = Date.now();
    const creating = await tirCall(first, 'POST', CLUSTERS, tirCluster('creating', { no_of_nodes: 1 }));
    const creatingId = creating.json.data.id as number;
    // TIR's examples carry no creation time: the stored one lies between the POST and its answer
    const creatingAt = JSON.parse(readFileSync(stateFile, 'utf8')).clusters.find((c: { id: number }) => c.id === creatingId)
      .createdAt as number;
    expect(creatingAt).toBeGreaterThanOrEqual(postedAt);

    const ids = [runningId, failedId, deletingId, creatingId];
    const snapshot = async (sim: TirSimulator) => ({
      got: (await Promise.all(ids.map((id) => tirCall(sim, 'GET', byId(id))))).map((a) => ({
        ...a,
        json: { ...a.json, data: stable(a.json.data) },
      })),
      listed: ((await tirCall(sim, 'GET', CLUSTERS)).json.data as Array<Record<string, unknown>>).map(stable),
    });
    const before = await snapshot(first);
    expect(before.got.map((a) => a.json.data.status)).toEqual(['Running', 'Failed', 'Deleting', 'Creating']);
    expect(first.available(11)).toBe(0);
    await closeNow(first);

    const second = await tir({ ...TIMING, stateFile });
    expect(await snapshot(second)).toEqual(before);

    // the capacity held is still held
    const full = await tirCall(second, 'POST', CLUSTERS, tirCluster('extra', { no_of_nodes: 1 }));
    expect(full).toMatchObject({ status: 400, json: { message: 'Insufficient capacity: no nodes available for the selected plan' } });

    // Creating -> Running readyAfterMs after the original creation
    const runningAt = await tirUntil(second, creatingId, (a) => a.json.data.status === 'Running');
    expect(runningAt).toBeGreaterThanOrEqual(creatingAt + TIMING.readyAfterMs);
    expect(runningAt).toBeLessThan(creatingAt + TIMING.readyAfterMs + 1_000);

    // the deletion goes on: gone deleteAfterMs after the DELETE, its node free again
    const goneAt = await tirUntil(second, deletingId, (a) => a.status === 404);
    expect(goneAt).toBeGreaterThanOrEqual(deleteRequested + TIMING.deleteAfterMs);
    expect(goneAt).toBeLessThan(deleteRequested + TIMING.deleteAfterMs + 1_500);
    const extra = await tirCall(second, 'POST', CLUSTERS, tirCluster('extra', { no_of_nodes: 1 }));
    expect(extra.status).toBe(201);
    expect(extra.json.data.id).toBeGreaterThan(Math.max(...ids));
  });

  it('never gives an id twice, even when the newest cluster is gone before the restart', async () => {
    const stateFile = join(dir, 'tir-ids.json');
    const timing = { readyAfterMs: 20, deleteAfterMs: 20 };
    const seen: number[] = [];
    let sim = await tir({ ...timing, stateFile });
    for (let round = 0; round < 3; round += 1) {
      const id = (await tirCall(sim, 'POST', CLUSTERS, tirCluster(`short-lived-${round}`))).json.data.id as number;
      seen.push(id);
      await tirCall(sim, 'DELETE', byId(id));
      await tirUntil(sim, id, (a) => a.status === 404);
      await closeNow(sim);
      sim = await tir({ ...timing, stateFile });
    }
    expect(new Set(seen).size).toBe(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect((await tirCall(sim, 'POST', CLUSTERS, tirCluster('next'))).json.data.id).toBeGreaterThan(seen[2]!);
  });
});

// ---- a file that is not a state ----

describe('a corrupt or unreadable stateFile fails the start, naming the file', () => {
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it.each([
    ['not JSON', '{"format": "sagemaker-simulator-state", "clu', /is corrupt: not JSON/],
    [
      'another simulator’s state',
      JSON.stringify({ format: 'tir-simulator-state', version: 1, nextId: 1001, capacity: [], clusters: [] }),
      /is corrupt: it is not a SageMaker simulator state/,
    ],
    ['a newer version', JSON.stringify({ format: 'sagemaker-simulator-state', version: 2 }), /version 2 is not supported/],
    [
      'a cluster member of the wrong type',
      JSON.stringify({
        format: 'sagemaker-simulator-state',
        version: 1,
        seq: 1,
        capacity: [],
        quotas: [],
        clusters: [{ seq: 1, name: 'a', arn: 'x', region: 'us-east-1', createdAt: 'yesterday', groups: [], tags: [], extra: {} }],
      }),
      /clusters\[0\]\.createdAt is "yesterday", expected a number/,
    ],
    ['an empty file', '', /is corrupt: not JSON/],
  ])('SageMaker: %s', async (_, text, reason) => {
    const file = write(`sm-${Math.random().toString(36).slice(2)}.json`, text);
    const error = await startSageMakerSimulator({ stateFile: file }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).toContain(`SageMaker simulator: the state file ${file} is corrupt`);
    expect(error?.message).toMatch(reason);
    expect(readFileSync(file, 'utf8')).toBe(text); // left as it was, for a look
  });

  it.each([
    ['not JSON', '[1, 2', /is corrupt: not JSON/],
    ['a list', '[]', /the top level is \[\], expected an object/],
    [
      'a repeated id',
      JSON.stringify({
        format: 'tir-simulator-state',
        version: 1,
        nextId: 1003,
        capacity: [],
        clusters: [1, 2].map(() => ({
          id: 1001,
          projectId: 42,
          location: 'Delhi',
          body: {},
          name: 'a',
          skuId: 11,
          nodes: 1,
          createdAt: 0,
        })),
      }),
      /clusters\[1\] repeats the id 1001/,
    ],
  ])('TIR: %s', async (_, text, reason) => {
    const file = write(`tir-${Math.random().toString(36).slice(2)}.json`, text);
    await expect(startTirSimulator({ stateFile: file })).rejects.toThrow(`TIR simulator: the state file ${file} is corrupt`);
    await expect(startTirSimulator({ stateFile: file })).rejects.toThrow(reason);
  });

  it('an unreadable file (a directory in its place)', async () => {
    const file = join(dir, 'a-directory.json');
    mkdirSync(file);
    await expect(startSageMakerSimulator({ stateFile: file })).rejects.toThrow(
      `SageMaker simulator: cannot read the state file ${file}: EISDIR`,
    );
    await expect(startTirSimulator({ stateFile: file })).rejects.toThrow(`TIR simulator: cannot read the state file ${file}: EISDIR`);
  });
});

// ---- kill -9 right after an answer ----

describe('kill -9 right after an answer', () => {
  it('loses no answered change: the simulators in a child process are killed as each answer arrives, and a new start has it', async () => {
    const smFile = join(dir, 'killed-sagemaker.json');
    const tirFile = join(dir, 'killed-tir.json');
    const script = join(dir, 'child.mjs');
    const url = (file: string) => pathToFileURL(resolve(file)).href;
    writeFileSync(
      script,
      `const { startSageMakerSimulator } = await import(${JSON.stringify(url('local/simulators/sagemaker.ts'))});
const { startTirSimulator } = await import(${JSON.stringify(url('local/simulators/tir.ts'))});
const sm = await startSageMakerSimulator({ readyAfterMs: 60_000, deleteAfterMs: 60_000, stateFile: ${JSON.stringify(smFile)} });
const tir = await startTirSimulator({ readyAfterMs: 60_000, deleteAfterMs: 60_000, stateFile: ${JSON.stringify(tirFile)} });
console.log(JSON.stringify({ sagemaker: sm.endpoint, tir: tir.baseUrl, apiKey: tir.apiKey, authToken: tir.authToken }));
`,
    );
    /** Starts the child, runs `act` against it and kills it with SIGKILL the moment `act` resolves. */
    const killedAfter = async (
      act: (endpoints: { sagemaker: string; tir: string; apiKey: string; authToken: string }) => Promise<void>,
    ) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((done) => child.once('exit', (code, signal) => done(signal ?? code)));
      const line = await new Promise<string>((done, fail) => {
        createInterface({ input: child.stdout! }).once('line', done);
        child.once('exit', () => fail(new Error('the child exited before it started the simulators')));
      });
      try {
        await act(JSON.parse(line));
      } finally {
        child.kill('SIGKILL');
      }
      expect(await exited).toBe('SIGKILL');
    };

    let arn = '';
    await killedAfter(async (endpoints) => {
      const client = new SageMakerClient({
        region: 'us-east-1',
        endpoint: endpoints.sagemaker,
        maxAttempts: 1,
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      });
      await create(client, 'survivor', [group()]);
      arn = (await create(client, 'doomed', [group()])).ClusterArn!;
      await client.send(new DeleteClusterCommand({ ClusterName: 'doomed' })); // killed as this answer arrives
    });
    let tirId = 0;
    await killedAfter(async (endpoints) => {
      const response = await fetch(`${endpoints.tir}${CLUSTERS}?${QUERY}&apikey=${endpoints.apiKey}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${endpoints.authToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(tirCluster('survivor')),
      });
      tirId = ((await response.json()) as { data: { id: number } }).data.id; // killed as this answer arrives
    });

    const sm = await sagemaker({ readyAfterMs: 60_000, deleteAfterMs: 60_000, stateFile: smFile });
    expect(sm.clusters().map((c) => [c.name, c.status])).toEqual([
      ['survivor', 'Creating'],
      ['doomed', 'Deleting'],
    ]);
    expect(sm.describe('doomed')?.ClusterArn).toBe(arn);
    const t = await tir({ readyAfterMs: 60_000, stateFile: tirFile });
    expect(t.cluster(tirId)).toMatchObject({ id: tirId, name: 'survivor', status: 'Creating' });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]); // no temp file left behind
  });
});
