import { inspect } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createTirProvider,
  describeTirCluster,
  ownerMarker,
  ownerOfScript,
  TIR_ERROR_TABLE,
  TirWireError,
} from '../../functions/adapters/tir';
import { createTirCredentialsSource } from '../../functions/adapters/tir-credentials';
import type { ClusterProvider, ClusterRef } from '../../functions/core/provider';
import { logger } from '../../functions/platform/observability';
import { readBody, startServer, type RunningServer } from '../../local/simulators/common';
import { startTirSimulator, type TirSimulator } from '../../local/simulators/tir';
import { tirCluster } from '../fixtures/clusters';
import { rejection, until, untilGone } from '../helpers/provider';

const API_KEY = 'tir-key-5f3a9c1e7d';
const AUTH_TOKEN = 'tir-token-b81d02e4aa';
const location = { provider: 'tir' as const, projectId: 42, location: 'Delhi' };
const DEPLOYMENT = 'gpu-cluster-provisioner-test';
const ref = (clusterName: string, providerId?: string): ClusterRef => ({ location, clusterName, ...(providerId ? { providerId } : {}) });

const spec = tirCluster;

describe('TIR provider against the TIR simulator, through fetch', () => {
  let sim: TirSimulator;
  let provider: ClusterProvider;
  let n = 0;
  const unique = (prefix: string) => `${prefix}-${(n += 1)}`;

  beforeAll(async () => {
    // A new cluster stays Creating, a deleted one Deleting, for about half a second: long enough to be seen between two
    // calls on a loaded machine.
    sim = await startTirSimulator({ readyAfterMs: 400, deleteAfterMs: 500, apiKey: API_KEY, authToken: AUTH_TOKEN });
    provider = createTirProvider({
      deployment: DEPLOYMENT,
      baseUrl: sim.baseUrl,
      credentials: { apiKey: API_KEY, authToken: AUTH_TOKEN },
      // Long enough that no answer of a loaded machine looks like a hang; the two 'hang' cases wait it out.
      timeoutMs: 1000,
    });
  });
  afterAll(() => sim.close());
  afterEach(() => sim.clearFaults());

  it('sends project_id, location, active_iam and the apikey as query parameters and the token as a Bearer header', async () => {
    const seen: Array<{ url: string; auth: string | null }> = [];
    const spying = createTirProvider({
      deployment: DEPLOYMENT,
      baseUrl: `${sim.baseUrl}/`,
      credentials: { apiKey: API_KEY, authToken: AUTH_TOKEN },
      fetch: async (input, init) => {
        seen.push({ url: String(input), auth: new Headers(init?.headers).get('authorization') });
        return fetch(input, init);
      },
    });
    await spying.findByName({ ...location, activeIam: 5 }, 'whatever');
    const url = new URL(seen[0]!.url);
    expect(url.pathname).toBe('/myaccount/api/v1/gpu/distributed_jobs_v2/cluster/');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      project_id: '42',
      location: 'Delhi',
      active_iam: '5',
      page_no: '1',
      per_page: '50',
      apikey: API_KEY,
    });
    expect(seen[0]!.auth).toBe(`Bearer ${AUTH_TOKEN}`);
  });

  describe('maps every wire answer to the taxonomy', () => {
    const injectOnCreate = (error: Parameters<TirSimulator['injectErrors']>[1][number]) => {
      sim.injectErrors('create', [error]);
      return provider.create({ location, requestId: 'r', cluster: spec(unique('injected')) });
    };

    const cases: Array<[string, () => Promise<unknown>, string, string]> = [
      ['HTTP 429', () => injectOnCreate('429'), 'ProviderThrottledError', '429'],
      ['HTTP 500', () => injectOnCreate('500'), 'ProviderUnavailableError', '500'],
      ['HTTP 502 (a gateway HTML page)', () => injectOnCreate('502'), 'ProviderUnavailableError', '502'],
      ['HTTP 503', () => injectOnCreate('503'), 'ProviderUnavailableError', '503'],
      ['a timeout', () => injectOnCreate('hang'), 'ProviderUnavailableError', 'TimeoutError'],
      ['a dropped connection', () => injectOnCreate('reset'), 'ProviderUnavailableError', 'UND_ERR_SOCKET'],
      [
        'HTTP 401 (wrong token)',
        () =>
          createTirProvider({
            deployment: DEPLOYMENT,
            baseUrl: sim.baseUrl,
            credentials: { apiKey: API_KEY, authToken: 'wrong' },
          }).findByName(location, 'x'),
        'ProviderAuthFailedError',
        '401',
      ],
      ['HTTP 403', () => injectOnCreate('403'), 'ProviderAuthFailedError', '403'],
      ['HTTP 404 on get', () => provider.describe(ref('missing', '999999')), 'ClusterNotFoundError', '404'],
      ['HTTP 404 on delete', () => provider.delete(ref('missing', '999999')), 'ClusterNotFoundError', '404'],
      ['HTTP 404 on create (a wrong base URL)', () => injectOnCreate('404'), 'InvalidProviderRequestError', '404'],
      [
        'HTTP 400 with field errors',
        () => provider.create({ location, requestId: 'r', cluster: spec(unique('bad'), { ssh_key_ids: [] }) }),
        'InvalidProviderRequestError',
        '400',
      ],
      ['an error envelope inside HTTP 200', () => injectOnCreate('envelope-400'), 'InvalidProviderRequestError', '400'],
      [
        'HTTP 400 "Insufficient capacity"',
        () => provider.create({ location, requestId: 'r', cluster: spec(unique('huge'), { sku_id: 500, no_of_nodes: 65 }) }),
        'InsufficientCapacityError',
        '400',
      ],
      ['"Insufficient capacity" inside HTTP 200', () => injectOnCreate('envelope-capacity'), 'InsufficientCapacityError', '400'],
      [
        'a quota message',
        () => injectOnCreate({ name: '400', message: 'GPU quota exhausted for this project' }),
        'ResourceLimitExceededError',
        '400',
      ],
      [
        'HTTP 400 "already exists"',
        async () => {
          const name = unique('dup');
          await provider.create({ location, requestId: 'r', cluster: spec(name) });
          return provider.create({ location, requestId: 'r', cluster: spec(name) });
        },
        'ResourceInUseError',
        '400',
      ],
    ];

    it.each(cases)('%s', async (_, act, name, providerCode) => {
      const err = await rejection(act());
      expect(err.name).toBe(name);
      expect(err.providerCode).toBe(providerCode);
      expect(err.cause).toBeInstanceOf(Error);
    });

    it('a refused connection (nothing listening) is ProviderUnavailableError', async () => {
      const closed = await startTirSimulator();
      await closed.close();
      const p = createTirProvider({
        deployment: DEPLOYMENT,
        baseUrl: closed.baseUrl,
        credentials: { apiKey: API_KEY, authToken: AUTH_TOKEN },
      });
      const err = await rejection(p.findByName(location, 'x'));
      expect(err.name).toBe('ProviderUnavailableError');
      expect(err.providerCode).toBe('ECONNREFUSED');
    });

    it('is given the base URL and the timeout of TIR_API_BASE_URL and TIR_TIMEOUT_MS by the wiring', async () => {
      vi.stubEnv('TIR_API_BASE_URL', sim.baseUrl);
      vi.stubEnv('TIR_TIMEOUT_MS', '50');
      vi.stubEnv('TIR_API_KEY', API_KEY);
      vi.stubEnv('TIR_AUTH_TOKEN', AUTH_TOKEN);
      vi.stubEnv('EVENT_BUS_NAME', 'bus');
      vi.stubEnv('CLUSTERS_TABLE', 'clusters');
      vi.stubEnv('DEPLOYMENT_NAME', DEPLOYMENT);
      vi.resetModules();
      try {
        const { workflowDeps } = await import('../../functions/wiring/workflow');
        sim.injectErrors('list', ['hang']);
        const err = await rejection(workflowDeps().provider('tir').findByName(location, 'x'));
        expect(err.name).toBe('ProviderUnavailableError');
        expect(err.message).toContain('no answer within 50 ms');
      } finally {
        vi.unstubAllEnvs();
      }
    });

    it('keeps the reason beside every row of one table', () => {
      for (const row of TIR_ERROR_TABLE) expect(row.reason.length).toBeGreaterThan(10);
    });
  });

  describe('the READY rule', () => {
    it('a status the adapter does not know stays CREATING', async () => {
      const odd = await startTirSimulator({ readyAfterMs: 60_000, unknownStatus: 'Provisioning', apiKey: API_KEY, authToken: AUTH_TOKEN });
      try {
        const p = createTirProvider({
          deployment: DEPLOYMENT,
          baseUrl: odd.baseUrl,
          credentials: { apiKey: API_KEY, authToken: AUTH_TOKEN },
        });
        const created = await p.create({ location, requestId: 'r', cluster: spec('odd') });
        expect(await p.describe(ref('odd', created.providerId))).toMatchObject({ state: 'CREATING', providerStatus: 'Provisioning' });
      } finally {
        await odd.close();
      }
    });

    it('a failed cluster is FAILED, saying the status TIR reports (TIR publishes no message field)', async () => {
      const name = unique('failing');
      const created = await provider.create({ location, requestId: 'r', cluster: spec(name) });
      sim.failCluster(created.providerId, 'Node bootstrap failed: image pull error');
      expect(await provider.describe(ref(name, created.providerId))).toMatchObject({
        state: 'FAILED',
        providerStatus: 'Failed',
        message: 'TIR reports the cluster as Failed',
      });
    });

    it.each([
      // The detail example: Running with an empty worker_nodes. The empty list says nothing: Running is READY.
      [{ status: 'Running', no_of_nodes: 2, worker_nodes: [] }, 'READY', 2],
      [{ status: 'Running', no_of_nodes: 2 }, 'READY', 2],
      [{ status: 'running', no_of_nodes: 2 }, 'READY', 2],
      // A non-empty worker_nodes is counted.
      [{ status: 'Running', no_of_nodes: 2, worker_nodes: [{ name: 'w1' }, { name: 'w2' }] }, 'READY', 2],
      [{ status: 'Running', no_of_nodes: 2, worker_nodes: [{ name: 'w1' }] }, 'CREATING', 1],
      [{ status: 'Running', no_of_nodes: 2, worker_nodes: [{ status: 'Running' }, { status: 'Creating' }] }, 'CREATING', 1],
      // Fields no example shows decide nothing.
      [{ status: 'Creating', no_of_nodes: 2, worker_nodes: [{}, {}], active_nodes: 2 }, 'CREATING', 2],
      [{ status: 'Creating', no_of_nodes: 2, worker_nodes: [] }, 'CREATING', 0],
      [{ status: 'Active', no_of_nodes: 2, worker_nodes: [] }, 'CREATING', 0],
      [{ status: 'Stopped', no_of_nodes: 2 }, 'CREATING', 0],
      [{ status: 'ERROR', no_of_nodes: 2 }, 'FAILED', 0],
      [{ status: 'Deleting', no_of_nodes: 2 }, 'DELETING', 0],
    ])('%j is %s with %i nodes up', (cluster, state, current) => {
      expect(describeTirCluster({ id: 1, name: 'c', ...cluster })).toMatchObject({ state, nodes: { current, target: 2 } });
    });
  });

  it('create -> CREATING -> READY -> delete -> DELETING -> gone (ClusterNotFoundError)', async () => {
    const name = unique('life');
    const created = await provider.create({ location, requestId: 'r', cluster: spec(name) });
    expect(created.providerId).toMatch(/^\d+$/);
    const target = ref(name, created.providerId);
    expect(await provider.describe(target)).toMatchObject({
      state: 'CREATING',
      providerStatus: 'Creating',
      providerId: created.providerId,
      nodes: { current: 0, target: 2 },
    });
    expect(await until(provider, target, 'READY')).toMatchObject({ providerStatus: 'Running', nodes: { current: 2, target: 2 } });
    await provider.delete(target);
    expect(await provider.describe(target)).toMatchObject({ state: 'DELETING', providerStatus: 'Deleting' });
    expect(await untilGone(provider, target)).toBe('ClusterNotFoundError');
  });

  it('never describes or deletes a cluster by its name alone: a ref without an id is not found, and nothing is called', async () => {
    const name = unique('noid');
    await provider.create({ location, requestId: 'r', cluster: spec(name) });
    const before = sim.requests.length;
    expect((await rejection(provider.describe(ref(name)))).name).toBe('ClusterNotFoundError');
    expect((await rejection(provider.delete(ref(name)))).name).toBe('ClusterNotFoundError');
    expect(sim.requests.length).toBe(before);
    expect(sim.cluster(name)).toMatchObject({ name });
  });

  it('a create refused for capacity succeeds once a delete frees it', async () => {
    sim.setCapacity(21, 3);
    const first = await provider.create({ location, requestId: 'a', cluster: spec(unique('cap'), { sku_id: 21, no_of_nodes: 3 }) });
    const second = spec(unique('cap'), { sku_id: 21, no_of_nodes: 2 });
    expect((await rejection(provider.create({ location, requestId: 'b', cluster: second }))).name).toBe('InsufficientCapacityError');
    await provider.delete(ref('cap', first.providerId));
    const firstRef = ref(first.clusterName, first.providerId);
    expect(await untilGone(provider, firstRef)).toBe('ClusterNotFoundError');
    await expect(provider.create({ location, requestId: 'b', cluster: second })).resolves.toMatchObject({ clusterName: second.name });
  });

  it('findByName returns the id as providerId and no owner when TIR hands no script back (as its examples); undefined when absent', async () => {
    const name = unique('found');
    const created = await provider.create({ location, requestId: 'r', cluster: spec(name) });
    expect(await provider.findByName(location, name)).toEqual({ providerId: created.providerId, clusterName: name });
    expect(await provider.findByName(location, unique('absent'))).toBeUndefined();
    expect(await provider.findByName({ ...location, location: 'Chennai' }, name)).toBeUndefined();
  });

  describe('ownership when TIR hands no script back (its examples show none)', () => {
    let many: TirSimulator;
    let p: ClusterProvider;
    const here = { provider: 'tir' as const, projectId: 90, location: 'Delhi' };
    const ids: string[] = [];
    beforeAll(async () => {
      many = await startTirSimulator({ defaultCapacity: 10_000, apiKey: API_KEY, authToken: AUTH_TOKEN });
      p = createTirProvider({ deployment: DEPLOYMENT, baseUrl: many.baseUrl, credentials: { apiKey: API_KEY, authToken: AUTH_TOKEN } });
      // 120 clusters: three pages of 50
      for (let i = 0; i < 120; i++)
        ids.push((await p.create({ location: here, requestId: `req-${i}`, cluster: spec(`many-${i}`) })).providerId);
    });
    afterAll(() => many.close());

    it('reads every page of the list: a cluster on the last page is found, and the pages stop at total_page_number', async () => {
      const before = many.requests.length;
      expect(await p.findByName(here, 'many-119')).toEqual({ providerId: ids[119], clusterName: 'many-119' });
      const lists = many.requests.slice(before).filter((r) => r.operation === 'list');
      expect(lists.map((r) => new URL(r.path, 'http://x').searchParams.get('page_no'))).toEqual(['1', '2', '3']);
    });

    it('lists as owned exactly the clusters whose id a record holds, with that request, and no other', async () => {
      const recorded = new Map([
        [ids[3]!, 'req-3'],
        [ids[117]!, 'req-117'],
        ['999999', 'req-gone'],
      ]);
      const owned = await p.listOwned(here, recorded);
      expect(owned.map((o) => [o.providerId, o.requestId, o.clusterName])).toEqual([
        [ids[3], 'req-3', 'many-3'],
        [ids[117], 'req-117', 'many-117'],
      ]);
      expect(await p.listOwned(here)).toEqual([]);
    });

    it('fails rather than answer a partial list when the list is longer than the pages it reads', async () => {
      const endless = createTirProvider({
        deployment: DEPLOYMENT,
        baseUrl: 'http://tir.invalid',
        credentials: { apiKey: API_KEY, authToken: AUTH_TOKEN },
        fetch: async (input) => {
          const page = Number(new URL(String(input)).searchParams.get('page_no'));
          const data = Array.from({ length: 50 }, (_, i) => ({ id: page * 100 + i, name: `c-${page}-${i}`, status: 'Running' }));
          return new Response(JSON.stringify({ code: 200, data, errors: {}, message: 'Success', total_page_number: 10_000 }));
        },
      });
      expect((await rejection(endless.findByName(location, 'absent'))).name).toBe('ProviderUnavailableError');
    });
  });

  describe('ownership: the owner marker, when TIR hands the script back (the case its docs leave open)', () => {
    let sim: TirSimulator;
    let provider: ClusterProvider;
    beforeAll(async () => {
      sim = await startTirSimulator({ returnsLifecycleScript: true, apiKey: API_KEY, authToken: AUTH_TOKEN });
      provider = createTirProvider({
        deployment: DEPLOYMENT,
        baseUrl: sim.baseUrl,
        credentials: { apiKey: API_KEY, authToken: AUTH_TOKEN },
      });
    });
    afterAll(() => sim.close());

    /** A cluster made without the provisioner, straight through the API. */
    const createRaw = async (body: Record<string, unknown>, where = location) => {
      const url = new URL(`${sim.baseUrl}/distributed_jobs_v2/cluster/`);
      url.search = new URLSearchParams({ project_id: String(where.projectId), location: where.location, apikey: API_KEY }).toString();
      const response = await fetch(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${AUTH_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(201);
      return String(((await response.json()) as { data: { id: number } }).data.id);
    };
    const sentBody = (name: string) =>
      sim.requests.find((r) => r.operation === 'create' && (r.body as { name?: string }).name === name)?.body as Record<string, unknown>;

    it('ends the lifecycle script with the marker: a script the request runs is kept byte for byte before it', async () => {
      const name = unique('scripted');
      await provider.create({
        location,
        requestId: 'req-script',
        cluster: spec(name, { script_added: true, lifecycle_script: '#!/bin/bash\nset -e\npip install torch' }),
      });
      expect(sentBody(name)).toMatchObject({
        script_added: true,
        lifecycle_script: `#!/bin/bash\nset -e\npip install torch\n${ownerMarker(DEPLOYMENT, 'req-script')}\n`,
      });
    });

    it('sends the marker alone, as a no-op script, when the request runs none (a script it would not run is not sent)', async () => {
      const plain = unique('plain');
      await provider.create({ location, requestId: 'req-plain', cluster: spec(plain) });
      const unused = unique('unused');
      await provider.create({
        location,
        requestId: 'req-unused',
        cluster: spec(unused, { script_added: false, lifecycle_script: 'rm -rf /data' }),
      });
      expect(sentBody(plain)).toMatchObject({
        script_added: true,
        lifecycle_script: `#!/bin/sh\n${ownerMarker(DEPLOYMENT, 'req-plain')}\n`,
      });
      expect(sentBody(unused)).toMatchObject({
        script_added: true,
        lifecycle_script: `#!/bin/sh\n${ownerMarker(DEPLOYMENT, 'req-unused')}\n`,
      });
    });

    it("reads only the last line: a marker forged inside a request's script names nobody else", async () => {
      const name = unique('forged');
      await provider.create({
        location,
        requestId: 'req-v',
        cluster: spec(name, { script_added: true, lifecycle_script: `echo hi\n${ownerMarker(DEPLOYMENT, 'req-a')}\n` }),
      });
      expect(await provider.findByName(location, name)).toMatchObject({ ownerRequestId: 'req-v' });
      expect(ownerOfScript(`${ownerMarker('d', 'a')}\r\n\r\n`)).toEqual({ deployment: 'd', requestId: 'a' });
      expect(ownerOfScript(`${ownerMarker('d', 'a')}\necho after`)).toBeUndefined();
      expect(ownerOfScript(undefined)).toBeUndefined();
    });

    it("has no owner for a cluster of another deployment or of nobody, and lists only this deployment's", async () => {
      // Prepare: in a location of its own, one cluster of ours, one of another deployment, one made by hand
      const here = { provider: 'tir' as const, projectId: 77, location: 'Chennai' };
      const ours = await provider.create({ location: here, requestId: 'req-ours', cluster: spec(unique('ours')) });
      const other = createTirProvider({
        deployment: 'gpu-cluster-provisioner-other',
        baseUrl: sim.baseUrl,
        credentials: { apiKey: API_KEY, authToken: AUTH_TOKEN },
      });
      const theirs = unique('theirs');
      await other.create({ location: here, requestId: 'req-ours', cluster: spec(theirs) });
      const byHand = unique('by-hand');
      await createRaw(spec(byHand) as unknown as Record<string, unknown>, here);

      // Act / Assess
      expect(await provider.findByName(here, theirs)).not.toHaveProperty('ownerRequestId');
      expect(await provider.findByName(here, byHand)).not.toHaveProperty('ownerRequestId');
      expect(await provider.listOwned(here)).toEqual([
        {
          location: here,
          providerId: ours.providerId,
          clusterName: ours.clusterName,
          requestId: 'req-ours',
          providerStatus: expect.stringMatching(/^(Creating|Running)$/), // the simulator's clock runs on
          deleting: false,
        },
      ]);
    });

    it('says which clusters are being deleted already', async () => {
      // A simulator of its own whose deletions take a minute, so the cluster is still Deleting when listed
      const slow = await startTirSimulator({ deleteAfterMs: 60_000, returnsLifecycleScript: true, apiKey: API_KEY, authToken: AUTH_TOKEN });
      try {
        const p = createTirProvider({
          deployment: DEPLOYMENT,
          baseUrl: slow.baseUrl,
          credentials: { apiKey: API_KEY, authToken: AUTH_TOKEN },
        });
        const created = await p.create({ location, requestId: 'req-gone', cluster: spec(unique('deleting')) });
        await p.delete({ location, clusterName: created.clusterName, providerId: created.providerId });
        expect(await p.listOwned(location)).toEqual([expect.objectContaining({ providerStatus: 'Deleting', deleting: true })]);
      } finally {
        await slow.close();
      }
    });

    it('reads the marker from the cluster itself, the list leaving the script out', async () => {
      const here = { provider: 'tir' as const, projectId: 78, location: 'Delhi' };
      const created = await provider.create({ location: here, requestId: 'req-detail', cluster: spec(unique('detail')) });
      const before = sim.requests.length;
      expect(await provider.listOwned(here)).toEqual([
        expect.objectContaining({ providerId: created.providerId, requestId: 'req-detail' }),
      ]);
      expect(sim.requests.slice(before).map((r) => r.operation)).toEqual(['list', 'get']);
    });
  });

  describe('secrets stay out of logs, errors and results', () => {
    const lines: string[] = [];
    const results: unknown[] = [];
    const errors: unknown[] = [];

    /** Every string an error exposes: message, stack, JSON, inspect, down the whole cause chain. */
    const exposed = (err: unknown): string[] => {
      const out: string[] = [];
      for (let e: unknown = err; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause) {
        out.push(String(e), JSON.stringify(e) ?? '', inspect(e, { depth: 10, showHidden: true }));
        if (e instanceof Error) out.push(e.message, e.stack ?? '');
        if (typeof e !== 'object') break;
      }
      return out;
    };

    beforeAll(async () => {
      const write = (chunk: unknown) => {
        lines.push(String(chunk));
        return true;
      };
      const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(write);
      const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(write);
      logger.setLogLevel('DEBUG');
      const settle = async (promise: Promise<unknown>) => {
        try {
          results.push(await promise);
        } catch (err) {
          errors.push(err);
        }
      };
      try {
        const name = unique('secret');
        await settle(provider.create({ location, requestId: 'r', cluster: spec(name) }));
        await settle(provider.describe(ref(name, String((sim.cluster(name) as { id: number }).id))));
        await settle(provider.findByName(location, name));
        await settle(
          createTirProvider({
            deployment: DEPLOYMENT,
            baseUrl: sim.baseUrl,
            credentials: { apiKey: API_KEY, authToken: 'wrong-token' },
          }).findByName(location, name),
        );
        await settle(
          createTirProvider({
            deployment: DEPLOYMENT,
            baseUrl: sim.baseUrl,
            credentials: { apiKey: 'wrong-key', authToken: AUTH_TOKEN },
          }).findByName(location, name),
        );
        sim.injectErrors('create', ['500']);
        await settle(provider.create({ location, requestId: 'r', cluster: spec(unique('secret')) }));
        sim.injectErrors('create', ['hang']);
        await settle(provider.create({ location, requestId: 'r', cluster: spec(unique('secret')) }));
        // a provider that echoes the request URL and header back in its error text
        sim.injectErrors('create', [
          { name: '400', message: `Bad request to /cluster/?apikey=${API_KEY} with Authorization: Bearer ${AUTH_TOKEN}` },
        ]);
        await settle(provider.create({ location, requestId: 'r', cluster: spec(unique('secret')) }));
      } finally {
        logger.setLogLevel('ERROR');
        stdout.mockRestore();
        stderr.mockRestore();
      }
    });

    it('ran every case (a create, a 401, a 500, a timeout, an echo) and logged one line per call', () => {
      expect(results).toHaveLength(3);
      expect(errors.map((e) => (e as Error).name)).toEqual([
        'ProviderAuthFailedError',
        'ProviderAuthFailedError',
        'ProviderUnavailableError',
        'ProviderUnavailableError',
        'InvalidProviderRequestError',
      ]);
      const logged = lines.filter((l) => l.includes('"provider":"tir"'));
      expect(logged.length).toBeGreaterThanOrEqual(8);
      expect(JSON.parse(logged[0]!)).toMatchObject({ operation: 'create', statusCode: 201, durationMs: expect.any(Number) });
    });

    it('no log line carries the api key or the token', () => {
      for (const line of lines) {
        expect(line).not.toContain(API_KEY);
        expect(line).not.toContain(AUTH_TOKEN);
      }
    });

    it('no error carries them in its message, JSON or cause chain', () => {
      for (const err of errors) {
        for (const text of exposed(err)) {
          expect(text).not.toContain(API_KEY);
          expect(text).not.toContain(AUTH_TOKEN);
        }
      }
      expect((errors[4] as Error).message).toContain('apikey=***');
      expect((errors[4] as Error).message).toContain('Bearer ***');
    });

    it('no returned value carries them', () => {
      const text = inspect(results, { depth: 10 });
      expect(text).not.toContain(API_KEY);
      expect(text).not.toContain(AUTH_TOKEN);
    });

    it("the simulator's request log does not hold them", () => {
      const text = JSON.stringify(sim.requests);
      expect(text).not.toContain(API_KEY);
      expect(text).not.toContain(AUTH_TOKEN);
    });
  });
});

describe('TIR credentials', () => {
  it('are the given TIR_API_KEY / TIR_AUTH_TOKEN values without a secret ARN', async () => {
    const source = createTirCredentialsSource({ apiKey: API_KEY, authToken: AUTH_TOKEN });
    expect(await source()).toEqual({ apiKey: API_KEY, authToken: AUTH_TOKEN });
  });

  it('missing: ProviderAuthFailedError naming the variable, never a value', async () => {
    const err = await rejection(createTirCredentialsSource({ apiKey: API_KEY })());
    expect(err.name).toBe('ProviderAuthFailedError');
    expect(err.message).toContain('TIR_AUTH_TOKEN');
    expect(err.message).not.toContain('TIR_API_KEY,');
    expect(err.message).not.toContain(API_KEY);
  });

  describe('from Secrets Manager (the real SDK, through Powertools Parameters, against a loopback GetSecretValue)', () => {
    let server: RunningServer;
    let secretString = JSON.stringify({ apiKey: API_KEY, authToken: AUTH_TOKEN });
    let reads = 0;
    let answerWith: { status: number; type: string } | undefined;
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:tir-credentials-AbCdEf';

    beforeAll(async () => {
      server = await startServer(async (req, res) => {
        const body = JSON.parse(await readBody(req)) as { SecretId?: string };
        const target = req.headers['x-amz-target'];
        if (answerWith) {
          res.writeHead(answerWith.status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: answerWith.type, Message: 'injected' }));
          return;
        }
        const ok = target === 'secretsmanager.GetSecretValue' && body.SecretId === arn;
        reads += ok ? 1 : 0;
        const answer = ok
          ? { ARN: arn, Name: 'tir-credentials', SecretString: secretString, VersionId: 'v1', CreatedDate: Date.now() / 1000 }
          : { __type: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." };
        res.writeHead(ok ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(answer));
      });
      vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', server.endpoint);
    });
    afterEach(() => {
      answerWith = undefined;
      vi.useRealTimers();
    });
    afterAll(async () => {
      vi.unstubAllEnvs();
      await server.close();
    });

    it('reads the secret once per max age and picks up a rotation after it', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-11-23T10:00:00Z'));
      const source = createTirCredentialsSource({ secretArn: arn, maxAgeSeconds: 60 });
      reads = 0;
      expect(await source()).toEqual({ apiKey: API_KEY, authToken: AUTH_TOKEN });
      expect(await source()).toEqual({ apiKey: API_KEY, authToken: AUTH_TOKEN });
      secretString = JSON.stringify({ apiKey: 'rotated-key', authToken: 'rotated-token' });
      vi.setSystemTime(new Date('2026-11-23T10:00:59Z'));
      expect((await source()).apiKey).toBe(API_KEY);
      expect(reads).toBe(1);
      vi.setSystemTime(new Date('2026-11-23T10:01:01Z'));
      expect(await source()).toEqual({ apiKey: 'rotated-key', authToken: 'rotated-token' });
      expect(reads).toBe(2);
    });

    it('ignores TIR_API_KEY / TIR_AUTH_TOKEN values when a secret is named', async () => {
      secretString = JSON.stringify({ apiKey: API_KEY, authToken: AUTH_TOKEN });
      const source = createTirCredentialsSource({ secretArn: arn, apiKey: 'local-key', authToken: 'local-token' });
      expect(await source()).toEqual({ apiKey: API_KEY, authToken: AUTH_TOKEN });
    });

    it('a secret that is not the expected JSON fails without echoing it, and is not kept', async () => {
      secretString = `not-json ${API_KEY}`;
      const err = await rejection(createTirCredentialsSource({ secretArn: arn })());
      expect(err.name).toBe('ProviderAuthFailedError');
      expect(inspect(err, { depth: 10 })).not.toContain(API_KEY);
      secretString = JSON.stringify({ apiKey: API_KEY });
      const source = createTirCredentialsSource({ secretArn: arn });
      const missing = await rejection(source());
      expect(missing.message).toContain('"authToken"');
      expect(inspect(missing, { depth: 10 })).not.toContain(API_KEY);
      secretString = JSON.stringify({ apiKey: API_KEY, authToken: AUTH_TOKEN });
      expect(await source()).toEqual({ apiKey: API_KEY, authToken: AUTH_TOKEN });
    });

    it('an unknown secret is ProviderAuthFailedError with the AWS error as cause', async () => {
      const err = await rejection(createTirCredentialsSource({ secretArn: `${arn}-other` })());
      expect(err).toMatchObject({ name: 'ProviderAuthFailedError', providerCode: 'ResourceNotFoundException' });
      expect((err.cause as Error).name).toBe('ResourceNotFoundException');
    });

    it.each([
      [{ status: 400, type: 'ThrottlingException' }, 'ProviderThrottledError'],
      [{ status: 500, type: 'InternalServiceError' }, 'ProviderUnavailableError'],
      [{ status: 400, type: 'AccessDeniedException' }, 'ProviderAuthFailedError'],
    ])('a failed read %j is %s, and is not kept', async (answer, name) => {
      secretString = JSON.stringify({ apiKey: API_KEY, authToken: AUTH_TOKEN });
      const source = createTirCredentialsSource({ secretArn: arn, secretsClient: new SecretsManagerClient({ maxAttempts: 1 }) });
      answerWith = answer;
      const err = await rejection(source());
      expect(err).toMatchObject({ name, providerCode: answer.type });
      answerWith = undefined;
      expect(await source()).toEqual({ apiKey: API_KEY, authToken: AUTH_TOKEN });
    });

    it('feeds the TIR provider, which asks the source before each call', async () => {
      secretString = JSON.stringify({ apiKey: API_KEY, authToken: AUTH_TOKEN });
      const sim = await startTirSimulator({ apiKey: API_KEY, authToken: AUTH_TOKEN });
      try {
        const source = createTirCredentialsSource({ secretArn: arn });
        const p = createTirProvider({ deployment: DEPLOYMENT, baseUrl: sim.baseUrl, credentials: source });
        expect(await p.findByName(location, 'none')).toBeUndefined();
      } finally {
        await sim.close();
      }
    });

    it('is the source the wiring builds from TIR_CREDENTIALS_SECRET_ARN (over TIR_API_KEY / TIR_AUTH_TOKEN)', async () => {
      secretString = JSON.stringify({ apiKey: API_KEY, authToken: AUTH_TOKEN });
      const sim = await startTirSimulator({ apiKey: API_KEY, authToken: AUTH_TOKEN });
      vi.stubEnv('TIR_API_BASE_URL', sim.baseUrl);
      vi.stubEnv('TIR_CREDENTIALS_SECRET_ARN', arn);
      vi.stubEnv('TIR_API_KEY', 'wrong-key');
      vi.stubEnv('TIR_AUTH_TOKEN', 'wrong-token');
      vi.stubEnv('EVENT_BUS_NAME', 'bus');
      vi.stubEnv('CLUSTERS_TABLE', 'clusters');
      vi.stubEnv('DEPLOYMENT_NAME', DEPLOYMENT);
      vi.resetModules();
      try {
        reads = 0;
        const { workflowDeps } = await import('../../functions/wiring/workflow');
        expect(await workflowDeps().provider('tir').findByName(location, 'none')).toBeUndefined();
        expect(reads).toBe(1);
      } finally {
        await sim.close();
        for (const name of [
          'TIR_API_BASE_URL',
          'TIR_CREDENTIALS_SECRET_ARN',
          'TIR_API_KEY',
          'TIR_AUTH_TOKEN',
          'EVENT_BUS_NAME',
          'CLUSTERS_TABLE',
          'DEPLOYMENT_NAME',
        ]) {
          vi.stubEnv(name, undefined);
        }
      }
    });
  });
});

describe('TIR capacity wording: only wording that clearly says capacity is a shortage', () => {
  const classify = (message: string, status = 400): string => {
    const wire = new TirWireError(`HTTP ${status}: ${message}`, 'http', status);
    const row = TIR_ERROR_TABLE.find((r) => r.match(wire, 'create'));
    return new row!.to('x').name;
  };

  it.each([
    'Insufficient capacity: no nodes available for the selected plan',
    'insufficient resources in Delhi',
    'Capacity exhausted for this SKU',
    'GPU capacity is currently unavailable in this location',
    'The selected plan is out of stock',
    'No nodes available',
    'no GPUs are available right now',
    'Not enough nodes to create the cluster',
    'not enough resources',
  ])('"%s" is InsufficientCapacityError', (message) => {
    expect(classify(message)).toBe('InsufficientCapacityError');
  });

  it.each([
    'Image version unavailable',
    'SSH key unavailable',
    'Security group unavailable for this project',
    'The requested plan is unavailable for this account type',
    'Bad Request',
    'sku_id: Invalid pk "9" - object does not exist.',
  ])('"%s" stays InvalidProviderRequestError', (message) => {
    expect(classify(message)).toBe('InvalidProviderRequestError');
  });

  it('a quota or limit is a quota wait, a taken name a name clash', () => {
    expect(classify('GPU quota exceeded for this project')).toBe('ResourceLimitExceededError');
    expect(classify("Cluster with name 'x' already exists")).toBe('ResourceInUseError');
  });
});
