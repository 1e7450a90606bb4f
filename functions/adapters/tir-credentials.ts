/**
 * Where the TIR API key and auth token come from.
 *
 * Deployed: TIR_CREDENTIALS_SECRET_ARN names a Secrets Manager secret whose SecretString is
 * `{"apiKey": "...", "authToken": "..."}`. It is read on first use and kept for `ttlMs` (5 minutes), so a rotation is
 * picked up without a redeploy. Local: TIR_API_KEY and TIR_AUTH_TOKEN.
 *
 * No value ever reaches a log line or an error message; errors name the variable or the field that is missing.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ProviderAuthFailedError,
  ProviderThrottledError,
  ProviderUnavailableError,
  ProvisionerError,
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
  env?: NodeJS.ProcessEnv;
  /** Default: one `new SecretsManagerClient({})` per source, made on first use (endpoint from the environment). */
  secretsClient?: () => Pick<SecretsManagerClient, 'send'>;
  /** How long a secret read is kept. Default 5 minutes. */
  ttlMs?: number;
  now?: () => number;
}

export const SECRET_ARN_VARIABLE = 'TIR_CREDENTIALS_SECRET_ARN';
const DEFAULT_TTL_MS = 5 * 60_000;

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

const parseSecret = (secretString: string | undefined, arn: string): TirCredentials => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString ?? '');
  } catch {
    // JSON.parse's message quotes the input: it must not become a message or a cause.
    throw new ProviderAuthFailedError(`The secret ${arn} is not JSON of the form {"apiKey": "...", "authToken": "..."}`);
  }
  const fields = (parsed ?? {}) as Partial<Record<keyof TirCredentials, unknown>>;
  for (const field of ['apiKey', 'authToken'] as const) {
    const value = fields[field];
    if (typeof value !== 'string' || value === '') {
      throw new ProviderAuthFailedError(`The secret ${arn} lacks a non-empty string "${field}"`);
    }
  }
  return { apiKey: fields.apiKey as string, authToken: fields.authToken as string };
};

const fromVariables = (env: NodeJS.ProcessEnv): TirCredentials => {
  const missing = ['TIR_API_KEY', 'TIR_AUTH_TOKEN'].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new ProviderAuthFailedError(
      `TIR credentials are not configured: set ${SECRET_ARN_VARIABLE}, or TIR_API_KEY and TIR_AUTH_TOKEN (missing: ${missing.join(', ')})`,
    );
  }
  return { apiKey: env.TIR_API_KEY as string, authToken: env.TIR_AUTH_TOKEN as string };
};

/** A credentials source with its own cache: the secret is read at most once per `ttlMs` (concurrent calls share a read). */
export const createTirCredentialsSource = (options: TirCredentialsOptions = {}): TirCredentialsSource => {
  const env = options.env ?? process.env;
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const now = options.now ?? Date.now;
  const client = once(options.secretsClient ?? (() => new SecretsManagerClient({})));
  let cached: { arn: string; at: number; value: Promise<TirCredentials> } | undefined;

  const readSecret = async (arn: string): Promise<TirCredentials> => {
    try {
      const output = await client().send(new GetSecretValueCommand({ SecretId: arn }));
      return parseSecret(output.SecretString, arn);
    } catch (err) {
      if (err instanceof ProvisionerError) throw err;
      const e = (err ?? {}) as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
      const name = e.code ?? e.name ?? 'Error';
      const status = e.$metadata?.httpStatusCode;
      const row = SECRET_ERROR_TABLE.find((r) => r.match(name, status)) as (typeof SECRET_ERROR_TABLE)[number];
      throw new row.to(`Cannot read the TIR credentials secret ${arn} (${name})`, { providerCode: name, cause: err });
    }
  };

  return async () => {
    const arn = env[SECRET_ARN_VARIABLE];
    if (!arn) return fromVariables(env);
    if (!cached || cached.arn !== arn || now() - cached.at >= ttlMs) {
      const entry = { arn, at: now(), value: readSecret(arn) };
      cached = entry;
      entry.value.catch(() => {
        if (cached === entry) cached = undefined; // a failed read is not kept
      });
    }
    return cached.value;
  };
};

const processSource = once(() => createTirCredentialsSource());

/**
 * The process-wide credentials source (one cache per Lambda container). Returns the source, not the credentials:
 * nothing is read until the first TIR call.
 */
export const tirCredentialsFromEnvironment = (): TirCredentialsSource => processSource();
