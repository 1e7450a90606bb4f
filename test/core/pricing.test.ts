import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PRICE_TABLE_DATE } from '../../functions/core/prices';
import { createPriceBook, priceFromPriceList, type PriceCache, type PriceQuote } from '../../functions/core/pricing';
import { priceListEntry } from '../../local/simulators/price-list';

const published = JSON.parse(readFileSync(new URL('../fixtures/providers/aws/pricing-get-products.json', import.meta.url), 'utf8')) as {
  example: { output: { PriceList: string[] } };
};

const P5 = 'ml.p5.48xlarge';

describe('priceFromPriceList', () => {
  it('reads the published entry shape (a JSON string), and finds no instance price in an EBS product', () => {
    const entry = JSON.parse(published.example.output.PriceList[0]!);
    expect(Object.keys(entry).sort()).toEqual(['product', 'publicationDate', 'serviceCode', 'terms', 'version']);
    expect(priceFromPriceList(published.example.output.PriceList, P5)).toBeUndefined();
  });

  it('takes the hourly on-demand price of the type, the HyperPod component before Training', () => {
    const training = priceListEntry({ region: 'us-east-1', instanceType: P5, component: 'Training', usdPerHour: 50 });
    const hyperpod = priceListEntry({ region: 'us-east-1', instanceType: P5, component: 'HyperPod', usdPerHour: 52 });
    const hosting = priceListEntry({ region: 'us-east-1', instanceType: P5, component: 'Hosting', usdPerHour: 60 });
    expect(priceFromPriceList([hosting, training], P5)?.usdPerHour).toBe(50);
    expect(priceFromPriceList([training, hyperpod], P5)).toMatchObject({ usdPerHour: 52, component: 'HyperPod' });
    expect(priceFromPriceList([hosting], P5)).toBeUndefined();
    expect(priceFromPriceList(['not json', training], 'ml.g5.2xlarge')).toBeUndefined();
  });

  it('has the same keys in a simulated entry as in the published one, down to the price dimension', () => {
    const sim = JSON.parse(priceListEntry({ region: 'us-east-1', instanceType: P5, component: 'Training', usdPerHour: 1 }));
    const pub = JSON.parse(published.example.output.PriceList[0]!);
    expect(Object.keys(sim).sort()).toEqual(Object.keys(pub).sort());
    const termOf = (e: { terms: { OnDemand: Record<string, { priceDimensions: Record<string, object> }> } }) =>
      Object.values(e.terms.OnDemand)[0]!;
    expect(Object.keys(termOf(sim)).sort()).toEqual(Object.keys(termOf(pub)).sort());
    expect(Object.keys(Object.values(termOf(sim).priceDimensions)[0]!).sort()).toEqual(
      Object.keys(Object.values(termOf(pub).priceDimensions)[0]!).sort(),
    );
  });
});

const memoryCache = (): PriceCache & { items: Map<string, { quote: PriceQuote | null; expiresAt: Date }> } => {
  const items = new Map<string, { quote: PriceQuote | null; expiresAt: Date }>();
  return {
    items,
    get: async (key, now) => {
      const item = items.get(key);
      return item && item.expiresAt > now ? item.quote : undefined;
    },
    put: async (key, quote, expiresAt) => void items.set(key, { quote, expiresAt }),
  };
};

describe('the price book', () => {
  const now = new Date('2026-12-01T00:00:00Z');

  it('answers from the Price List API with its source and date, then from the cache until the TTL', async () => {
    let calls = 0;
    const cache = memoryCache();
    const book = createPriceBook({
      live: { onDemandHourly: async () => (calls++, { usdPerHour: 50, component: 'Training', effectiveDate: '2026-11-01T00:00:00Z' }) },
      cache,
      now: () => now,
      ttlSeconds: 60,
    });
    const quote = await book.hourly('us-east-1', P5);
    expect(quote).toMatchObject({ usdPerHour: 50, origin: 'price-list-api', asOf: now.toISOString() });
    expect(quote!.source).toContain('AWS Price List Query API (GetProducts, AmazonSageMaker, us-east-1, component Training');
    await book.hourly('us-east-1', P5);
    expect(calls).toBe(1);
    expect(cache.items.get('price#sagemaker#us-east-1#ml.p5.48xlarge')!.expiresAt).toEqual(new Date(now.getTime() + 60_000));
  });

  it('falls back to the offline table, saying so, when the API fails or has no such product', async () => {
    const down = createPriceBook({
      live: { onDemandHourly: async () => Promise.reject(Object.assign(new Error('x'), { name: 'ProviderUnavailableError' })) },
    });
    const quote = await down.hourly('us-east-1', P5);
    expect(quote).toMatchObject({ origin: 'fallback-table', asOf: PRICE_TABLE_DATE });
    expect(quote!.source).toMatch(/^offline fallback: .*\(the Price List API: unavailable, ProviderUnavailableError\)$/);
    const none = createPriceBook({ live: { onDemandHourly: async () => undefined } });
    expect((await none.hourly('us-east-1', P5))!.source).toContain('no such product');
    expect(await none.hourly('us-east-1', 'ml.x99.huge')).toBeUndefined();
  });
});
