/**
 * Where the TIR API key and auth token come from.
 *
 * Deployed: `secretArn` (`ENV.tirCredentialsSecretArn`, read by ../wiring/providers.ts) names a Secrets Manager secret whose
 * SecretString is `{"apiKey": "...", "authToken": "..."}`. Powertools Parameters reads it on first use and keeps it for
 * `maxAgeSeconds` (5 minutes), so a rotation is picked up without a redeploy; a failed read is not kept. Local: the
 * fixed `apiKey` and `authToken` (`ENV.tirApiKey` and `ENV.tirAuthToken`).
 *
 * No value ever reaches a log line or an error message; errors name the variable or the field that is missing.
 */
import { ENV } from '../contract/environment.js';
import { GetParameterError, TransformParameterError } from '@aws-lambda-powertools/parameters/errors';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ProviderAuthFailedError,
  ProviderThrottledError,
  ProviderUnavailableError,
  type ProvisionerError,
  type ErrorDetails,
} from '../core/errors';
import { once } from '../platform/config';

export interface TirCredentials {
  apiKey: string;
  authToken: string;
}

/** Resolves the current credentials; called before each TIR call (cheap once cached). */
export type TirCredentialsSource = () => Promise<TirCredentials>;

export interface TirCredentialsOptions {
  /** The secret holding `{"apiKey", "authToken"}`. When set, `apiKey` and `authToken` are not used. */
  secretArn?: string;
  apiKey?: string;
  authToken?: string;
  /** How long a secret read is kept. Default 300 (5 minutes). */
  maxAgeSeconds?: number;
  /** Default: Powertools' own SecretsManagerClient, made on first use (endpoint from the environment). */
  secretsClient?: SecretsManagerClient;
}

export const DEFAULT_MAX_AGE_SECONDS = 300;

type ErrorClass = new (message: string, details?: ErrorDetails) => ProvisionerError;

/** Reading the secret can fail too; this small table says how (first match wins). */
const SECRET_ERROR_TABLE: ReadonlyArray<{ match: (name: string, status?: number) => boolean; to: ErrorClass; reason: string }> = [
  {
    match: (name) => name === 'ThrottlingException' || name === 'TooManyRequestsException',
    to: ProviderThrottledError,
    reason: 'Secrets Manager asked to slow down: retry.',
  },
  {
    match: (name, status) =>
      (status !== undefined && status >= 500) ||
      ['InternalServiceError', 'TimeoutError', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(name),
    to: ProviderUnavailableError,
    reason: 'Secrets Manager failed or did not answer: transient.',
  },
  {
    match: () => true,
    to: ProviderAuthFailedError,
    reason: 'The secret is missing, not readable by this role, or cannot be decrypted: the credentials are unavailable until fixed.',
  },
];

const NOT_THE_FORM = (arn: string) =>
  new ProviderAuthFailedError(`The secret ${arn} is not JSON of the form {"apiKey": "...", "authToken": "..."}`);

/** The parsed secret's fields, checked. */
const credentialsIn = (parsed: unknown, arn: string): TirCredentials => {
  if (parsed === null || typeof parsed !== 'object') throw NOT_THE_FORM(arn);
  const fields = parsed as Partial<Record<keyof TirCredentials, unknown>>;
  for (const field of ['apiKey', 'authToken'] as const) {
    const value = fields[field];
    if (typeof value !== 'string' || value === '') {
      throw new ProviderAuthFailedError(`The secret ${arn} lacks a non-empty string "${field}"`);
    }
  }
  return { apiKey: fields.apiKey as string, authToken: fields.authToken as string };
};

/** A failed read as a taxonomy error. Powertools wraps the SDK's error in a GetParameterError: its `cause` is classified. */
const readFailure = (err: unknown, arn: string): ProvisionerError => {
  // The transform's message quotes JSON.parse's, which quotes the input: it must not become a message or a cause.
  if (err instanceof TransformParameterError) return NOT_THE_FORM(arn);
  const sdkError = err instanceof GetParameterError && err.cause !== undefined ? err.cause : err;
  const e = (sdkError ?? {}) as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.code ?? e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const row = SECRET_ERROR_TABLE.find((r) => r.match(name, status)) as (typeof SECRET_ERROR_TABLE)[number];
  return new row.to(`Cannot read the TIR credentials secret ${arn} (${name})`, { providerCode: name, cause: sdkError });
};

const fromValues = (options: TirCredentialsOptions): TirCredentials => {
  const missing = [
    [ENV.tirApiKey, options.apiKey],
    [ENV.tirAuthToken, options.authToken],
  ].flatMap(([name, value]) => (value ? [] : [name as string]));
  if (missing.length > 0) {
    throw new ProviderAuthFailedError(
      `TIR credentials are not configured: set ${ENV.tirCredentialsSecretArn}, or ${ENV.tirApiKey} and ${ENV.tirAuthToken} (missing: ${missing.join(', ')})`,
    );
  }
  return { apiKey: options.apiKey as string, authToken: options.authToken as string };
};

/**
 * A credentials source. With a secret, its own Powertools SecretsProvider (and so its own cache): the secret is read
 * at most once per `maxAgeSeconds`.
 */
export const createTirCredentialsSource = (options: TirCredentialsOptions): TirCredentialsSource => {
  const { secretArn } = options;
  if (!secretArn) return async () => fromValues(options);
  const maxAge = options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  const secrets = once(() => new SecretsProvider(options.secretsClient ? { awsSdkV3Client: options.secretsClient } : {}));
  return async () => {
    let parsed: unknown;
    try {
      parsed = await secrets().get(secretArn, { maxAge, transform: 'json' });
    } catch (err) {
      throw readFailure(err, secretArn);
    }
    try {
      return credentialsIn(parsed, secretArn);
    } catch (err) {
      secrets().clearCache(); // a secret of the wrong form is not kept: a fix is picked up on the next call
      throw err;
    }
  };
};
