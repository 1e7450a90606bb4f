/**
 * TIR's credentials for the providers' and the plan's wiring. Deployed: the secret named by
 * `ENV.tirCredentialsSecretArn` (kept 5 minutes). Local: `ENV.tirApiKey` and `ENV.tirAuthToken`. One source per process,
 * so one secret cache per Lambda container; imported with its Secrets Manager client when TIR is first called.
 */
import { ENV } from '../contract/environment.js';
import { onceAsync, optional } from '../platform/config';

/** An optional variable: its value, or undefined when unset or empty. */
const given = (name: string): string | undefined => optional(name, '') || undefined;

const source = onceAsync(async () => {
  const { DEFAULT_MAX_AGE_SECONDS, createTirCredentialsSource } = await import('../adapters/tir-credentials');
  return createTirCredentialsSource({
    secretArn: given(ENV.tirCredentialsSecretArn),
    apiKey: given(ENV.tirApiKey),
    authToken: given(ENV.tirAuthToken),
    maxAgeSeconds: DEFAULT_MAX_AGE_SECONDS,
  });
});

/** The TIR credentials, read (or taken from the cache) at each call. */
export const tirCredentials = async () => (await source())();
