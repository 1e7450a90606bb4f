/**
 * The CLI's client of the provisioner API: `--api URL` (env PROVISIONER_API_URL, default http://localhost:3000).
 * Requests to anything but localhost are signed with SigV4 (service execute-api) using the caller's AWS credentials
 * from the SDK's default chain (environment, profile, SSO, instance role): see ./sigv4.ts.
 */
import { defaultCredentials, signRequest, type CredentialSource } from './sigv4';

export class ApiUnreachableError extends Error {
  override readonly name = 'ApiUnreachableError';
}

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export const apiUrlFrom = (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string =>
  (flag ?? env.PROVISIONER_API_URL ?? 'http://localhost:3000').replace(/\/+$/, '');

const isLocal = (url: URL): boolean => ['localhost', '127.0.0.1', '[::1]', '::1'].includes(url.hostname);

/** `abc.execute-api.eu-west-1.amazonaws.com` -> eu-west-1; otherwise AWS_REGION. */
const regionOf = (url: URL): string =>
  /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(url.hostname)?.[1] ?? process.env.AWS_REGION ?? 'us-east-1';

/** Retries of a 503 / 429 answer, and the longest wait between two (whatever Retry-After says). */
const RETRIES = 3;
const MAX_RETRY_WAIT_MS = 20_000;

/** `credentials` defaults to the SDK's default chain, resolved once per client (on the first signed call). */
export const createApi = (base: string, credentials: CredentialSource = defaultCredentials()) => {
  const call = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> => {
    const url = new URL(`${base}${path}`);
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    for (let attempt = 1; ; attempt++) {
      const answer = await once(url, method, text);
      // A moment's unavailability that names when to come back (a 503 or 429 with Retry-After: a store outage,
      // throttling) is waited out, a few times, as the AWS CLI does. Every call is idempotent (a submit carries its
      // requestId), so a retry changes nothing.
      const after = answer.retryAfter === null ? Number.NaN : Number(answer.retryAfter);
      if ((answer.status !== 503 && answer.status !== 429) || !(after >= 0) || attempt > RETRIES) return answer as ApiAnswer<T>;
      await new Promise((r) => setTimeout(r, Math.min(after * 1000, MAX_RETRY_WAIT_MS)));
    }
  };
  const once = async (url: URL, method: string, text: string | undefined): Promise<ApiAnswer & { retryAfter: string | null }> => {
    let headers: Record<string, string> = text === undefined ? {} : { 'content-type': 'application/json' };
    if (!isLocal(url)) {
      const region = regionOf(url);
      const signed = await signRequest({
        method,
        url,
        headers,
        ...(text !== undefined ? { body: text } : {}),
        region,
        service: 'execute-api',
        credentials,
      });
      headers = { ...headers, ...signed };
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(text !== undefined ? { body: text } : {}), signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new ApiUnreachableError(
        `Cannot reach the provisioner API at ${base} (${code}). Is it running? Start it with npm start, or pass --api URL (or set PROVISIONER_API_URL).`,
      );
    }
    const raw = await res.text();
    let parsed: unknown = raw;
    try {
      parsed = raw ? JSON.parse(raw) : {};
    } catch {
      // not JSON (e.g. a gateway's HTML): keep the text
    }
    return { status: res.status, body: parsed as Record<string, unknown>, retryAfter: res.headers.get('retry-after') };
  };
  return { base, call };
};

export type Api = ReturnType<typeof createApi>;
