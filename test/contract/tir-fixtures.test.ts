/**
 * TIR's published examples are the contract (test/fixtures/providers/README.md): each fixture goes through the adapter
 * and its outcome is asserted, and every simulator answer has exactly its fixture's keys, so the simulator cannot answer
 * a field no published example shows.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTirProvider, describeTirCluster, type TirCluster } from '../../functions/adapters/tir';
import { startTirSimulator, type TirSimulator } from '../../local/simulators/tir';
import { tirCluster } from '../fixtures/clusters';
import { rejection } from '../helpers/provider';

interface Fixture {
  source: string;
  retrieved: string;
  note?: string;
  verbatim?: false;
  example: Record<string, unknown>;
}

const DIR = join(__dirname, '../fixtures/providers/tir');
const fixture = (name: string): Fixture => JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as Fixture;
const location = { provider: 'tir' as const, projectId: 42, location: 'Delhi' };
const credentials = { apiKey: 'fixture-key', authToken: 'fixture-token' };

/** A provider whose every call is answered by `answer(method, path)` (a fixture's example, as TIR would send it). */
const providerAnswering = (answer: (method: string, url: URL) => { status: number; body: unknown }) => {
  const calls: Array<{ method: string; url: URL }> = [];
  const provider = createTirProvider({
    deployment: 'fixtures',
    baseUrl: 'http://tir.invalid/myaccount/api/v1/gpu',
    credentials,
    fetch: async (input, init) => {
      const url = new URL(String(input));
      const method = init?.method ?? 'GET';
      calls.push({ method, url });
      const { status, body } = answer(method, url);
      return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    },
  });
  return { provider, calls };
};

describe('the TIR fixtures', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

  it.each(files)('%s names its source page, the day it was read and the example', (file) => {
    const f = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Fixture;
    expect(f.source).toMatch(/^https:\/\/docs\.e2enetworks\.com\/api\/tir\//);
    expect(f.retrieved).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(typeof f.example).toBe('object');
    if (f.verbatim === false) expect(f.note).toMatch(/placeholder/);
    expect(Object.keys(f).sort()).toEqual(['example', 'note', 'retrieved', 'source', 'verbatim'].filter((k) => k in f));
  });
});

describe('the published examples through the TIR adapter', () => {
  const detail = fixture('cluster-detail').example;
  const list = fixture('cluster-list').example;

  it('the detail example (status Running, worker_nodes []) is READY', async () => {
    const { provider } = providerAnswering(() => ({ status: 200, body: detail }));
    const cluster = detail.data as TirCluster;
    expect(await provider.describe({ location, clusterName: 'c', providerId: String(cluster.id) })).toMatchObject({
      state: 'READY',
      providerStatus: 'Running',
      providerId: String(cluster.id),
    });
  });

  it("the list example's cluster (status Creating) is CREATING, and found by its name with its id", async () => {
    const item = (list.data as TirCluster[])[0]!;
    expect(describeTirCluster(item).state).toBe('CREATING');
    const { provider, calls } = providerAnswering(() => ({ status: 200, body: list }));
    expect(await provider.findByName(location, item.name!)).toEqual({ providerId: String(item.id), clusterName: item.name });
    // total_page_number 1: one page read, asked with page_no and per_page
    expect(calls.filter((c) => c.url.pathname.endsWith('/distributed_jobs_v2/cluster/'))).toHaveLength(1);
    expect(calls[0]!.url.searchParams.get('page_no')).toBe('1');
    expect(calls[0]!.url.searchParams.get('per_page')).toMatch(/^\d+$/);
  });

  it("the list example's cluster is owned only through the id a record holds (it carries no lifecycle_script)", async () => {
    const item = (list.data as TirCluster[])[0]!;
    const { provider } = providerAnswering((_method, url) => ({
      status: 200,
      body: url.pathname.endsWith('/distributed_jobs_v2/cluster/') ? list : detail,
    }));
    expect(await provider.listOwned(location)).toEqual([]);
    expect(await provider.listOwned(location, new Map([[String(item.id), 'req-1']]))).toEqual([
      { location, providerId: String(item.id), clusterName: item.name, requestId: 'req-1', providerStatus: 'Creating', deleting: false },
    ]);
  });

  it('the 201 example (data without an id) is resolved by the one cluster of the name just created', async () => {
    const item = { ...(list.data as TirCluster[])[0]!, name: 'fixture-created' };
    const { provider } = providerAnswering((method) =>
      method === 'POST' ? { status: 201, body: fixture('create-201').example } : { status: 200, body: { ...list, data: [item] } },
    );
    expect(await provider.create({ location, requestId: 'r', cluster: tirCluster('fixture-created') })).toEqual({
      providerId: String(item.id),
      clusterName: 'fixture-created',
    });
  });

  it('the 201 example with no cluster of that name to be found counts as a lost answer (retried)', async () => {
    const { provider } = providerAnswering((method) =>
      method === 'POST' ? { status: 201, body: fixture('create-201').example } : { status: 200, body: list },
    );
    expect((await rejection(provider.create({ location, requestId: 'r', cluster: tirCluster('absent') }))).name).toBe(
      'ProviderUnavailableError',
    );
  });

  it.each([
    ['create-400', 400, 'InvalidProviderRequestError'],
    ['create-401', 401, 'ProviderAuthFailedError'],
  ])('the %s example is %s', async (name, status, error) => {
    const { provider } = providerAnswering(() => ({ status: status as number, body: fixture(name as string).example }));
    expect((await rejection(provider.create({ location, requestId: 'r', cluster: tirCluster('x') }))).name).toBe(error);
  });

  it('the delete answer is a delete started', async () => {
    const { provider, calls } = providerAnswering(() => ({ status: 200, body: fixture('delete-200').example }));
    await expect(provider.delete({ location, clusterName: 'c', providerId: '7' })).resolves.toBeUndefined();
    expect(calls.map((c) => `${c.method} ${c.url.pathname}`)).toEqual(['DELETE /myaccount/api/v1/gpu/distributed_jobs_v2/cluster/7/']);
  });
});

/** The shape of a value: its keys (sorted) down every object, the first item of a list, and each leaf's type. */
const shape = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.length > 0 ? [shape(value[0])] : [];
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, shape(o[k])]),
    );
  }
  return value === null ? 'null' : typeof value;
};
const keys = (value: unknown): string[] => Object.keys(value as object).sort();

describe('the TIR simulator answers in the shapes of the published examples', () => {
  let sim: TirSimulator;
  const call = async (method: string, path: string, body?: unknown, apikey?: string) => {
    const url = new URL(`${sim.baseUrl}${path}`);
    url.searchParams.set('project_id', '42');
    url.searchParams.set('location', 'Delhi');
    url.searchParams.set('apikey', apikey ?? sim.apiKey);
    const response = await fetch(url, {
      method,
      headers: { Authorization: `Bearer ${sim.authToken}`, 'Content-Type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  let created: Record<string, unknown>;

  beforeAll(async () => {
    sim = await startTirSimulator({ readyAfterMs: 50, deleteAfterMs: 60_000 });
    created = (await call('POST', '/distributed_jobs_v2/cluster/', tirCluster('shape-1'))).json;
    await call('POST', '/distributed_jobs_v2/cluster/', tirCluster('shape-2'));
    await new Promise((resolve) => setTimeout(resolve, 80));
  });
  afterAll(() => sim.close());

  it('the detail has the keys of the detail example, and no lifecycle_script', async () => {
    const answer = await call('GET', `/distributed_jobs_v2/cluster/${(created.data as { id: number }).id}/`);
    expect(shape(answer.json)).toEqual(shape(fixture('cluster-detail').example));
    expect(answer.json.data).toMatchObject({ status: 'Running', worker_nodes: [] });
  });

  it('the list, a page at a time, has the keys of the list example, and no lifecycle_script', async () => {
    const answer = await call('GET', '/distributed_jobs_v2/cluster/?page_no=2&per_page=1');
    expect(shape(answer.json)).toEqual(shape(fixture('cluster-list').example));
    expect(answer.json).toMatchObject({ total_count: 2, total_page_number: 2, data: [{ name: 'shape-2' }] });
  });

  it('the 201 has the keys of the create example, its data those of a cluster', () => {
    expect(keys(created)).toEqual(keys(fixture('create-201').example));
    expect(shape(created.data)).toEqual(shape(fixture('cluster-detail').example.data));
  });

  it('a 400 and a 401 have the keys of their examples', async () => {
    const bad = await call('POST', '/distributed_jobs_v2/cluster/', { name: 'no-fields' });
    expect([bad.status, keys(bad.json)]).toEqual([400, keys(fixture('create-400').example)]);
    const refused = await call('POST', '/distributed_jobs_v2/cluster/', tirCluster('shape-3'), 'wrong-key');
    expect([refused.status, refused.json]).toEqual([401, fixture('create-401').example]);
  });

  it('the delete answer has the keys of the delete example and its data', async () => {
    const answer = await call('DELETE', `/distributed_jobs_v2/cluster/${(created.data as { id: number }).id}/`);
    expect(shape(answer.json)).toEqual(shape(fixture('delete-200').example));
    expect(answer.json.data).toBe('Cluster deleted successfully');
  });

  it('the security group list (when served) has the keys of the list example; its items the id and name the docs name', async () => {
    const served = await startTirSimulator({ securityGroupIds: [3, 4] });
    try {
      const answer = (await (
        await fetch(`${served.baseUrl}/security_groups/?project_id=42&location=Delhi&apikey=${served.apiKey}`, {
          headers: { Authorization: `Bearer ${served.authToken}` },
        })
      ).json()) as Record<string, unknown>;
      expect(keys(answer)).toEqual(keys(fixture('security-groups-200').example));
      expect(answer.data).toEqual([
        { id: 3, name: 'sg-3' },
        { id: 4, name: 'sg-4' },
      ]);
    } finally {
      await served.close();
    }
  });

  it('hands the lifecycle_script back from the detail only when told to (the case the docs leave open)', async () => {
    const scripted = await startTirSimulator({ returnsLifecycleScript: true });
    try {
      const url = (path: string) => `${scripted.baseUrl}${path}?project_id=42&location=Delhi&apikey=${scripted.apiKey}`;
      const headers = { Authorization: `Bearer ${scripted.authToken}`, 'Content-Type': 'application/json' };
      const body = tirCluster('scripted', { script_added: true, lifecycle_script: '#!/bin/sh\n# marker\n' });
      const made = (await (
        await fetch(url('/distributed_jobs_v2/cluster/'), { method: 'POST', headers, body: JSON.stringify(body) })
      ).json()) as {
        data: { id: number };
      };
      const got = (await (await fetch(url(`/distributed_jobs_v2/cluster/${made.data.id}/`), { headers })).json()) as { data: object };
      const listed = (await (await fetch(url('/distributed_jobs_v2/cluster/'), { headers })).json()) as { data: object[] };
      expect(got.data).toHaveProperty('lifecycle_script', '#!/bin/sh\n# marker\n');
      expect(listed.data[0]).not.toHaveProperty('lifecycle_script');
    } finally {
      await scripted.close();
    }
  });
});
