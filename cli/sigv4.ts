/**
 * AWS Signature Version 4 for the CLI's calls to a deployed API (API Gateway `AWS_IAM` authorization, service
 * `execute-api`), done by the AWS SDK's own signer (@smithy/signature-v4) with the caller's credentials from the SDK's
 * default chain (@aws-sdk/credential-providers `fromNodeProviderChain`: environment, profile, SSO, instance role).
 * test/cli/sigv4.test.ts checks the configuration against AWS's published example and a request the CLI sends.
 */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Fixed credentials, or a provider resolving them (the default chain is one). */
export type CredentialSource = Credentials | (() => Promise<Credentials>);

/**
 * The SDK's default credential chain. Loaded on first use, so commands against a local API never load it. The chain
 * caches what it resolves, so keep one per API client.
 */
export const defaultCredentials = (): (() => Promise<Credentials>) => {
  let chain: Promise<() => Promise<Credentials>> | undefined;
  return async () => {
    chain ??= import('@aws-sdk/credential-providers').then(({ fromNodeProviderChain }) => fromNodeProviderChain());
    return (await chain)();
  };
};

/** `name -> value`, or `name -> [values]` when a query name repeats (the signer sorts and encodes them). */
const queryOf = (url: URL): Record<string, string | string[]> => {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return query;
};

/**
 * Headers to add for `method url` with `headers` and `body`: `authorization`, `x-amz-date`, and `x-amz-security-token`
 * for temporary credentials. The `host` header is signed (from the URL) but not returned: fetch sends the same value.
 */
export const signRequest = async (input: {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  region: string;
  service: string;
  credentials: CredentialSource;
  now?: Date;
}): Promise<Record<string, string>> => {
  const signer = new SignatureV4({
    service: input.service,
    region: input.region,
    credentials: input.credentials,
    sha256: Hash.bind(null, 'sha256'),
    // API Gateway needs no x-amz-content-sha256 header (the payload hash is still signed).
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: input.method.toUpperCase(),
      protocol: input.url.protocol,
      hostname: input.url.hostname,
      path: input.url.pathname,
      query: queryOf(input.url),
      headers: { ...lower(input.headers), host: input.url.host },
      ...(input.body !== undefined ? { body: input.body } : {}),
    },
    { signingDate: input.now ?? new Date() },
  );
  const { host: _host, ...headers } = lower(signed.headers);
  const added = Object.entries(headers).filter(([name]) => !(name in lower(input.headers)));
  return Object.fromEntries(added);
};

const lower = (headers: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
