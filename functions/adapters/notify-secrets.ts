/**
 * The webhook secrets: Secrets Manager GetSecretValue by name, only for names under the deployment's prefix (IAM
 * grants no more; this check says so before the call). A value is kept for `maxAgeSeconds` (5 minutes), so a rotation
 * is picked up without a redeploy; a failed read is not kept. No value reaches a log line or an error message.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NotifyRejectedError, NotifyTransientError } from '../core/errors';

export interface SecretSource {
  /** The secret's value (SecretString, or SecretBinary as UTF-8). */
  get(name: string): Promise<string>;
}

const TRANSIENT = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'InternalServiceError',
  'InternalFailure',
  'ServiceUnavailable',
  'TimeoutError',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export const createSecretSource = (options: {
  prefix: string;
  client?: SecretsManagerClient;
  maxAgeSeconds?: number;
  now?: () => number;
}): SecretSource => {
  const client = options.client ?? new SecretsManagerClient({});
  const maxAgeMs = (options.maxAgeSeconds ?? 300) * 1000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { value: string; at: number }>();
  return {
    async get(name) {
      if (!name.startsWith(options.prefix))
        throw new NotifyRejectedError(`The secret ${name} is not under the deployment's notifySecretPrefix (${options.prefix})`);
      const kept = cache.get(name);
      if (kept && now() - kept.at < maxAgeMs) return kept.value;
      let out: { SecretString?: string; SecretBinary?: Uint8Array };
      try {
        out = await client.send(new GetSecretValueCommand({ SecretId: name }));
      } catch (err) {
        const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
        const code = e.name ?? e.code ?? 'Error';
        const status = e.$metadata?.httpStatusCode;
        if (TRANSIENT.has(code) || TRANSIENT.has(e.code ?? '') || (status !== undefined && status >= 500))
          throw new NotifyTransientError(`Secrets Manager did not give the secret ${name} (${code}): transient`, { cause: err });
        throw new NotifyRejectedError(`Secrets Manager refused the secret ${name} (${code})`, { cause: err });
      }
      const value = out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString('utf8') : undefined);
      if (!value) throw new NotifyRejectedError(`The secret ${name} holds no value`);
      cache.set(name, { value, at: now() });
      return value;
    },
  };
};
