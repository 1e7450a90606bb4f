/**
 * On-demand prices with their source and date, for the plan's cost lines, the record's cost and the reserved-capacity
 * suggestions. In a deployment they come from AWS's Price List Query API (`pricing:GetProducts`, service code
 * `AmazonSageMaker`; functions/adapters/pricing-aws.ts), cached in DynamoDB for `ENV.priceCacheSeconds` (the offerings
 * table, key prefix `price#`, removed by its TTL: functions/adapters/pricing-dynamo.ts). Only when the API cannot be
 * read (offline, access denied, no such product) does the hand-written table of ./prices.ts answer, and its quote says
 * so. Every quote carries `source` (where the figure comes from) and `asOf` (when it was read or written).
 *
 * The PriceList entries are JSON strings, one per product (published example:
 * test/fixtures/providers/aws/pricing-get-products.json). Assumption, written here once: a HyperPod cluster instance
 * is billed at the on-demand `ML Instance` price of its `ml.*` type whose `component` names HyperPod; when the list
 * has no such product for the type, the `Training` component's price is taken (the price list's attribute values for
 * HyperPod are not in a published example).
 */
import { PRICE_TABLE_DATE, hourlyPrice } from './prices';

export interface PriceQuote {
  usdPerHour: number;
  /** Where the figure comes from, in words. */
  source: string;
  /** When it was read from the API (ISO 8601), or the date the fallback table was written. */
  asOf: string;
  /** `price-list-api`: AWS's Price List Query API; `fallback-table`: the hand-written table, used only offline. */
  origin: 'price-list-api' | 'fallback-table';
}

/** One on-demand price as the Price List answers it. */
export interface ListedPrice {
  usdPerHour: number;
  /** The term's effectiveDate. */
  effectiveDate?: string;
  /** The offer's publicationDate. */
  publicationDate?: string;
  sku?: string;
  component?: string;
}

/** The live Price List (GetProducts). Undefined: no such product. Throws when the API cannot be read. */
export interface PriceList {
  onDemandHourly(region: string, instanceType: string): Promise<ListedPrice | undefined>;
}

/** The cache of quotes (DynamoDB with a TTL). `null`: the API was read and has no price (cached too). */
export interface PriceCache {
  get(key: string, now: Date): Promise<PriceQuote | null | undefined>;
  put(key: string, quote: PriceQuote | null, expiresAt: Date): Promise<void>;
}

/** Prices as the plan, the record and the suggestions see them. */
export interface PriceBook {
  hourly(region: string, instanceType: string): Promise<PriceQuote | undefined>;
}

export const PRICE_SERVICE_CODE = 'AmazonSageMaker';
/** How long a price read from the API is trusted before it is read again. */
export const DEFAULT_PRICE_CACHE_SECONDS = 86_400;

/** The cache key of a price: `price#` keeps it apart from the offerings in their table (functions/adapters/offerings-reader.ts). */
export const priceCacheKey = (region: string, instanceType: string): string => `price#sagemaker#${region}#${instanceType}`;

/** The quote of the offline fallback table, saying so. */
export const fallbackQuote = (region: string, instanceType: string, why?: string): PriceQuote | undefined => {
  const price = hourlyPrice({ provider: 'hyperpod', region, instanceType });
  if (!price) return undefined;
  return {
    usdPerHour: price.usdPerHour,
    source: `offline fallback: ${price.source}${why ? ` (the Price List API: ${why})` : ''}`,
    asOf: PRICE_TABLE_DATE,
    origin: 'fallback-table',
  };
};

const listSource = (region: string, listed: ListedPrice): string =>
  `AWS Price List Query API (GetProducts, ${PRICE_SERVICE_CODE}, ${region}` +
  `${listed.component ? `, component ${listed.component}` : ''}${listed.sku ? `, sku ${listed.sku}` : ''}` +
  `${listed.effectiveDate ? `, effective ${listed.effectiveDate.slice(0, 10)}` : ''})`;

/**
 * The price book: the cache, then the Price List API (its answer cached for `ttlSeconds`), then the fallback table.
 * Without `live` (no API configured) the table answers.
 */
export const createPriceBook = (deps: {
  live?: PriceList;
  cache?: PriceCache;
  now?: () => Date;
  ttlSeconds?: number;
  onWarning?: (message: string, details: Record<string, unknown>) => void;
}): PriceBook => {
  const now = deps.now ?? (() => new Date());
  const ttl = deps.ttlSeconds ?? DEFAULT_PRICE_CACHE_SECONDS;
  return {
    hourly: async (region, instanceType) => {
      if (!deps.live) return fallbackQuote(region, instanceType, 'not configured');
      const key = priceCacheKey(region, instanceType);
      const at = now();
      const cached = await deps.cache?.get(key, at).catch(() => undefined);
      if (cached !== undefined) return cached ?? fallbackQuote(region, instanceType, 'no such product');
      let listed: ListedPrice | undefined;
      try {
        listed = await deps.live.onDemandHourly(region, instanceType);
      } catch (err) {
        const { name, message } = err as Error;
        deps.onWarning?.('The Price List API could not be read; the offline table answers', {
          region,
          instanceType,
          error: { name, message },
        });
        return fallbackQuote(region, instanceType, `unavailable, ${name}`);
      }
      const quote: PriceQuote | null = listed
        ? { usdPerHour: listed.usdPerHour, source: listSource(region, listed), asOf: at.toISOString(), origin: 'price-list-api' }
        : null;
      await deps.cache?.put(key, quote, new Date(at.getTime() + ttl * 1000)).catch(() => undefined);
      return quote ?? fallbackQuote(region, instanceType, 'no such product');
    },
  };
};

/** The price book of the shipped table alone (no API): offline, and the unit tests. */
export const tablePriceBook: PriceBook = { hourly: async (region, instanceType) => fallbackQuote(region, instanceType) };

// ---- the PriceList entries ----

interface PriceListProduct {
  product?: { productFamily?: string; sku?: string; attributes?: Record<string, string> };
  terms?: {
    OnDemand?: Record<
      string,
      {
        effectiveDate?: string;
        priceDimensions?: Record<string, { unit?: string; pricePerUnit?: Record<string, string> }>;
      }
    >;
  };
  publicationDate?: string;
}

const parseEntry = (entry: unknown): PriceListProduct | undefined => {
  if (typeof entry !== 'string') return typeof entry === 'object' && entry !== null ? (entry as PriceListProduct) : undefined;
  try {
    return JSON.parse(entry) as PriceListProduct;
  } catch {
    return undefined;
  }
};

/** The hourly USD on-demand price of one product, if it has one. */
const onDemandOf = (p: PriceListProduct): ListedPrice | undefined => {
  for (const term of Object.values(p.terms?.OnDemand ?? {})) {
    for (const dimension of Object.values(term.priceDimensions ?? {})) {
      const usd = Number(dimension.pricePerUnit?.USD);
      if (!/^hrs?$/i.test(dimension.unit ?? '') || !Number.isFinite(usd) || usd <= 0) continue;
      return {
        usdPerHour: usd,
        ...(term.effectiveDate ? { effectiveDate: term.effectiveDate } : {}),
        ...(p.publicationDate ? { publicationDate: p.publicationDate } : {}),
        ...(p.product?.sku ? { sku: p.product.sku } : {}),
        ...(p.product?.attributes?.component ? { component: p.product.attributes.component } : {}),
      };
    }
  }
  return undefined;
};

/**
 * The on-demand hourly price of `instanceType` among GetProducts' PriceList entries (JSON strings): the HyperPod
 * component's, else the Training component's (the assumption above). Undefined when none has an hourly USD price.
 */
export const priceFromPriceList = (entries: readonly unknown[], instanceType: string): ListedPrice | undefined => {
  const priced = entries
    .map(parseEntry)
    .filter((p): p is PriceListProduct => p !== undefined && p.product?.attributes?.instanceName === instanceType)
    .map((p) => ({ component: p.product?.attributes?.component ?? '', price: onDemandOf(p) }))
    .filter((p): p is { component: string; price: ListedPrice } => p.price !== undefined);
  return (priced.find((p) => /hyperpod/i.test(p.component)) ?? priced.find((p) => /^training$/i.test(p.component)))?.price;
};
