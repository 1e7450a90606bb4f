/**
 * The providers' wiring (functions/wiring/providers.ts) hands out stand-ins that import each adapter on its first call
 * (functions/wiring/lazy.ts). A stand-in must show what its adapter shows, before anything is loaded: the same name, the
 * same capacity-at-create answer, the same methods (an adapter method the stand-in left out would be silently missing).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHyperPodProvider } from '../../functions/adapters/hyperpod';
import { createTirProvider } from '../../functions/adapters/tir';
import type { ClusterProvider } from '../../functions/core/provider';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

const shape = (provider: ClusterProvider) => ({
  name: provider.name,
  capacityKnownAtCreate: provider.capacityKnownAtCreate ?? false,
  methods: Object.keys(provider)
    .filter((key) => typeof (provider as unknown as Record<string, unknown>)[key] === 'function')
    .sort(),
});

describe('providerFor', () => {
  it.each([
    ['sagemaker', () => createHyperPodProvider({ deployment: 'd' })],
    ['tir', () => createTirProvider({ deployment: 'd', credentials: { apiKey: 'k', authToken: 't' } })],
  ] as const)('%s: the stand-in has its adapter’s name, capacity answer and methods', async (name, adapter) => {
    // Prepare
    vi.stubEnv('DEPLOYMENT_NAME', 'd');
    const { providerFor } = await import('../../functions/wiring/providers');

    // Act
    const standIn = providerFor(name);

    // Assess
    expect(shape(standIn)).toEqual(shape(adapter()));
  });

  it('a TIR call goes through the adapter it imports, with the documented defaults', async () => {
    // Prepare: no TIR_API_BASE_URL, so the production base URL; the credentials from the environment.
    vi.stubEnv('DEPLOYMENT_NAME', 'd');
    vi.stubEnv('TIR_API_BASE_URL', '');
    vi.stubEnv('TIR_API_KEY', 'key');
    vi.stubEnv('TIR_AUTH_TOKEN', 'token');
    const seen: string[] = [];
    vi.stubGlobal('fetch', async (url: URL) => {
      seen.push(`${url.origin}${url.pathname}`);
      return new Response(JSON.stringify({ code: 200, data: [], errors: {}, message: 'OK' }), { status: 200 });
    });
    const { providerFor } = await import('../../functions/wiring/providers');

    // Act
    const found = await providerFor('tir').findByName({ provider: 'tir', projectId: 1, location: 'Delhi' }, 'c');

    // Assess
    expect(found).toBeUndefined();
    expect(seen).toEqual(['https://api.e2enetworks.com/myaccount/api/v1/gpu/distributed_jobs_v2/cluster/']);
    vi.unstubAllGlobals();
  });
});
