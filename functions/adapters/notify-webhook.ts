/**
 * Webhook delivery: one signed POST, to a public address only.
 *
 * Signature (docs/workflow.md#notifications): `X-Provisioner-Timestamp: <unix seconds>` and
 * `X-Provisioner-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret's value>`. A
 * receiver recomputes it over the raw body, compares in constant time, and refuses a timestamp more than 5 minutes
 * off (a replay). `X-Provisioner-Event-Id` is the event's id, the same on every retry: a receiver drops repeats by it.
 *
 * No SSRF: the host is resolved here (the resolver is injectable), every address it resolves to must be public
 * (functions/core/notify.ts addressKind: no loopback, private, link-local, unique-local, IPv4-mapped private, ...), and
 * the connection goes to the address that was checked (the socket's lookup is pinned to it, TLS still verifies the
 * name), so a DNS answer that changes between the check and the connect cannot redirect it. Redirects are not
 * followed. `allowLoopback` (the local stack only) admits loopback addresses, over http too.
 *
 * Outcomes: 2xx delivered; 408, 425, 429, 5xx, a timeout or a connection failure NotifyTransientError (retried);
 * anything else (3xx, 4xx, a refused address) NotifyRejectedError.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { NotifyRejectedError, NotifyTransientError } from '../core/errors';
import { addressKind, describeKind, type WebhookSender } from '../core/notify';
import type { SecretSource } from './notify-secrets';

export const SIGNATURE_HEADER = 'x-provisioner-signature';
export const TIMESTAMP_HEADER = 'x-provisioner-timestamp';
export const EVENT_ID_HEADER = 'x-provisioner-event-id';
/** How far a receiver should accept a timestamp from its own clock. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** `sha256=<hex>` of `<timestamp>.<body>`. */
export const signatureOf = (secret: string, timestamp: string, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

/** What a receiver does: true when the signature is right and the timestamp within the tolerance. */
export const verifySignature = (
  secret: string,
  headers: IncomingHttpHeaders | Record<string, string | undefined>,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean => {
  const timestamp = String(headers[TIMESTAMP_HEADER] ?? '');
  const given = Buffer.from(String(headers[SIGNATURE_HEADER] ?? ''));
  if (!/^\d+$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > SIGNATURE_TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(signatureOf(secret, timestamp, body));
  return given.length === expected.length && timingSafeEqual(given, expected);
};

export interface ResolvedAddress {
  address: string;
  family: number;
}
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = async (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export interface WebhookOptions {
  secrets: SecretSource;
  resolve?: Resolver;
  /** Loopback addresses (and http to them) allowed: the local stack only. */
  allowLoopback?: boolean;
  timeoutMs?: number;
  now?: () => number;
}

const TRANSIENT_STATUS = (status: number): boolean => status === 408 || status === 425 || status === 429 || status >= 500;

/** The address to connect to, after every address the host resolves to was checked; throws NotifyRejectedError. */
const checkedAddress = async (url: URL, resolve: Resolver, allowLoopback: boolean): Promise<ResolvedAddress> => {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: ResolvedAddress[];
  if (addressKind(host) !== 'not-an-ip') addresses = [{ address: host, family: host.includes(':') ? 6 : 4 }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'Error';
      if (code === 'ENOTFOUND' || code === 'ENODATA') throw new NotifyRejectedError(`${host} does not resolve (${code})`, { cause: err });
      throw new NotifyTransientError(`${host} could not be resolved (${code})`, { cause: err });
    }
  }
  if (addresses.length === 0) throw new NotifyRejectedError(`${host} resolves to no address`);
  for (const { address } of addresses) {
    const kind = addressKind(address);
    if (kind === 'public' || (kind === 'loopback' && allowLoopback)) continue;
    throw new NotifyRejectedError(`${host} resolves to ${describeKind(kind)} (${address}): webhooks go to public addresses only`);
  }
  return addresses[0]!;
};

export const createWebhookSender = (options: WebhookOptions): WebhookSender => {
  const resolve = options.resolve ?? systemResolver;
  const allowLoopback = options.allowLoopback ?? false;
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? Date.now;
  return {
    async send(target, secretName, body, eventId) {
      let url: URL;
      try {
        url = new URL(target);
      } catch (err) {
        throw new NotifyRejectedError('The webhook is not a URL', { cause: err });
      }
      const loopbackHttp = url.protocol === 'http:' && allowLoopback && addressKind(url.hostname.replace(/^\[|\]$/g, '')) !== 'public';
      if (url.protocol !== 'https:' && !loopbackHttp) throw new NotifyRejectedError(`The webhook must be https (got ${url.protocol})`);
      const pinned = await checkedAddress(url, resolve, allowLoopback);
      if (url.protocol === 'http:' && addressKind(pinned.address) !== 'loopback')
        throw new NotifyRejectedError('The webhook must be https (http only to loopback, on the local stack)');
      const secret = await options.secrets.get(secretName);
      const timestamp = String(Math.floor(now() / 1000));
      const headers = {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'gpu-cluster-provisioner-notify/1',
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: signatureOf(secret, timestamp, body),
        [EVENT_ID_HEADER]: eventId,
      };
      const lookup: LookupFunction = (_hostname, opts, callback) => {
        if ((opts as { all?: boolean }).all) (callback as (e: null, a: ResolvedAddress[]) => void)(null, [pinned]);
        else callback(null, pinned.address, pinned.family);
      };
      const status = await new Promise<number>((resolvePromise, reject) => {
        const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
          {
            protocol: url.protocol,
            hostname: url.hostname.replace(/^\[|\]$/g, ''),
            port: url.port || undefined,
            path: `${url.pathname}${url.search}`,
            method: 'POST',
            headers,
            lookup,
            ...(url.protocol === 'https:' && addressKind(url.hostname) === 'not-an-ip' ? { servername: url.hostname } : {}),
            timeout: timeoutMs,
          },
          (res) => {
            res.resume(); // the answer's body is not read
            res.on('end', () => resolvePromise(res.statusCode ?? 0));
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(Object.assign(new Error(`No answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
        req.on('error', reject);
        req.end(body);
      }).catch((err: unknown) => {
        const code = (err as { code?: string }).code ?? (err as Error).name;
        throw new NotifyTransientError(`The webhook at ${url.host} could not be reached (${code})`, { cause: err });
      });
      if (status >= 200 && status < 300) return { status };
      if (TRANSIENT_STATUS(status)) throw new NotifyTransientError(`The webhook at ${url.host} answered ${status}`);
      throw new NotifyRejectedError(`The webhook at ${url.host} answered ${status}`);
    },
  };
};
