/**
 * A Secrets Manager simulator on loopback speaking AWS JSON 1.1 (`X-Amz-Target: secretsmanager.<Operation>`), enough
 * for the webhook secrets of notifications: CreateSecret, PutSecretValue, GetSecretValue (by name or ARN; unknown:
 * ResourceNotFoundException). Point the SDK at it with AWS_ENDPOINT_URL_SECRETS_MANAGER. Values stay in memory and
 * are never logged.
 */
import { randomUUID } from 'node:crypto';
import { readBody, sendJson, startServer, type RunningServer } from './common';

export interface SecretsManagerSimulator extends RunningServer {
  /** Sets a secret's value (as CreateSecret or PutSecretValue would). */
  put(name: string, value: string): void;
  /** How many GetSecretValue calls were answered. */
  readonly reads: () => number;
}

export const startSecretsManagerSimulator = async (
  options: { port?: number; region?: string; account?: string } = {},
): Promise<SecretsManagerSimulator> => {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '000000000000';
  const secrets = new Map<string, { arn: string; value: string; versionId: string; created: number }>();
  let reads = 0;
  const arnOf = (name: string) => `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${randomUUID().slice(0, 6)}`;
  const put = (name: string, value: string) => {
    const existing = secrets.get(name);
    secrets.set(name, {
      arn: existing?.arn ?? arnOf(name),
      value,
      versionId: randomUUID(),
      created: existing?.created ?? Date.now() / 1000,
    });
  };
  const find = (id: string) => secrets.get(id) ?? [...secrets.values()].find((s) => s.arn === id);
  const nameOf = (arn: string) => [...secrets.entries()].find(([, s]) => s.arn === arn)?.[0] ?? '';
  const server = await startServer(async (req, res) => {
    const body = await readBody(req);
    const headers = { 'content-type': 'application/x-amz-json-1.1' };
    const fail = (type: string, message: string) => sendJson(res, 400, { __type: type, message }, { ...headers, 'x-amzn-errortype': type });
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256'))
      return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
    let input: { Name?: string; SecretId?: string; SecretString?: string };
    try {
      input = JSON.parse(body || '{}') as typeof input;
    } catch {
      return fail('SerializationException', 'Body is not JSON');
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    switch (target) {
      case 'secretsmanager.CreateSecret': {
        if (!input.Name || !/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(input.Name)) return fail('InvalidParameterException', 'Invalid name');
        if (secrets.has(input.Name))
          return fail('ResourceExistsException', `The operation failed because the secret ${input.Name} already exists.`);
        put(input.Name, input.SecretString ?? '');
        const s = secrets.get(input.Name)!;
        return sendJson(res, 200, { ARN: s.arn, Name: input.Name, VersionId: s.versionId }, headers);
      }
      case 'secretsmanager.PutSecretValue': {
        const s = find(input.SecretId ?? '');
        if (!s) return fail('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
        const name = nameOf(s.arn);
        put(name, input.SecretString ?? '');
        const now = secrets.get(name)!;
        return sendJson(res, 200, { ARN: now.arn, Name: name, VersionId: now.versionId, VersionStages: ['AWSCURRENT'] }, headers);
      }
      case 'secretsmanager.GetSecretValue': {
        const s = find(input.SecretId ?? '');
        if (!s) return fail('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
        reads++;
        return sendJson(
          res,
          200,
          {
            ARN: s.arn,
            Name: nameOf(s.arn),
            VersionId: s.versionId,
            SecretString: s.value,
            VersionStages: ['AWSCURRENT'],
            CreatedDate: s.created,
          },
          headers,
        );
      }
      default:
        return fail('UnknownOperationException', `Unknown operation ${target}`);
    }
  }, options.port ?? 0);
  return { ...server, put, reads: () => reads };
};
