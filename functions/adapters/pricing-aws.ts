/**
 * The Price List Query API (`AWSPriceListService.GetProducts`, AWS JSON 1.1, SigV4 service `pricing`) as the core's
 * `PriceList` port. Its endpoints are in us-east-1, ap-south-1 and eu-central-1 only (https://api.pricing.<region>.amazonaws.com);
 * `AWS_ENDPOINT_URL_PRICING` points it elsewhere (the local stack: local/simulators/account.ts).
 *
 * The call is signed with the SDK's own signer (@smithy/signature-v4) and the SDK's default credential chain: the
 * registry this project installs from carries no @aws-sdk/client-pricing of the SDK line the other clients pin, and
 * one JSON operation does not need a client.
 */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { ProviderAuthFailedError, ProviderThrottledError, ProviderUnavailableError } from '../core/errors';
import { PRICE_SERVICE_CODE, priceFromPriceList, type ListedPrice, type PriceList } from '../core/pricing';

/** Where the Price List Query API answers. */
export const PRICING_API_REGIONS = ['us-east-1', 'ap-south-1', 'eu-central-1'] as const;

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsPriceListOptions {
  /** One of PRICING_API_REGIONS. Default us-east-1. */
  region?: string;
  /** Default: AWS_ENDPOINT_URL_PRICING, else the region's public endpoint. */
  endpoint?: string;
  credentials?: () => Promise<Credentials>;
  timeoutMs?: number;
  /** Pages of 100 products read at most per lookup. Default 5. */
  maxPages?: number;
}

/** The SDK's default credential chain (environment, profile, container or instance role), loaded on first use. */
const defaultCredentials = (): (() => Promise<Credentials>) => {
  let chain: Promise<() => Promise<Credentials>> | undefined;
  return async () => {
    chain ??= import('@aws-sdk/credential-providers').then(({ fromNodeProviderChain }) => fromNodeProviderChain());
    return (await chain)();
  };
};

export const createAwsPriceList = (options: AwsPriceListOptions = {}): PriceList => {
  const region = options.region ?? 'us-east-1';
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_PRICING ?? `https://api.pricing.${region}.amazonaws.com`;
  const credentials = options.credentials ?? defaultCredentials();
  const signer = new SignatureV4({ service: 'pricing', region, credentials, sha256: Hash.bind(null, 'sha256') });
  const timeoutMs = options.timeoutMs ?? 4000;

  const getProducts = async (body: Record<string, unknown>): Promise<{ PriceList?: unknown[]; NextToken?: string }> => {
    const url = new URL(endpoint);
    const payload = JSON.stringify(body);
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname || '/',
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSPriceListService.GetProducts',
      },
      body: payload,
    });
    const { host: _host, ...headers } = signed.headers;
    const response = await fetch(url, { method: 'POST', headers, body: payload, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    if (!response.ok) {
      let type: string | undefined = response.headers.get('x-amzn-errortype')?.split(':')[0];
      let message = text;
      try {
        const parsed = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
        type ??= parsed.__type?.split('#').pop();
        message = parsed.message ?? parsed.Message ?? text;
      } catch {
        // not JSON: the body is the message
      }
      const what = `GetProducts: ${type ?? 'HTTP'} ${response.status}: ${message}`;
      if (response.status === 403 || /AccessDenied/i.test(type ?? '')) throw new ProviderAuthFailedError(what);
      if (response.status === 429 || /Throttl/i.test(type ?? '')) throw new ProviderThrottledError(what);
      throw new ProviderUnavailableError(what);
    }
    return JSON.parse(text) as { PriceList?: unknown[]; NextToken?: string };
  };

  return {
    onDemandHourly: async (priceRegion: string, instanceType: string): Promise<ListedPrice | undefined> => {
      const entries: unknown[] = [];
      let token: string | undefined;
      for (let page = 0; page < (options.maxPages ?? 5); page++) {
        const answer = await getProducts({
          ServiceCode: PRICE_SERVICE_CODE,
          FormatVersion: 'aws_v1',
          MaxResults: 100,
          Filters: [
            { Type: 'TERM_MATCH', Field: 'regionCode', Value: priceRegion },
            { Type: 'TERM_MATCH', Field: 'instanceName', Value: instanceType },
          ],
          ...(token ? { NextToken: token } : {}),
        });
        entries.push(...(answer.PriceList ?? []));
        token = answer.NextToken;
        if (!token) break;
      }
      return priceFromPriceList(entries, instanceType);
    },
  };
};
