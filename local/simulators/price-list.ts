/**
 * The Price List Query API's GetProducts for the account simulator (./account.ts serves it), service code
 * AmazonSageMaker. Each PriceList entry is a JSON string in the shape of AWS's published example
 * (test/fixtures/providers/aws/pricing-get-products.json: `product` {productFamily, attributes, sku}, `serviceCode`,
 * `terms.OnDemand.<sku>.<offer term>` {priceDimensions.<rate code> {unit, pricePerUnit.USD, …}, effectiveDate, …},
 * `version`, `publicationDate`). Filters are TERM_MATCH on `ServiceCode` or a product attribute; pages by MaxResults and
 * NextToken.
 *
 * Assumption (the published example is an EC2 product): a SageMaker instance product has productFamily `ML Instance`
 * and the attributes `regionCode`, `instanceName` and `component` (the component of the price: the account fixture
 * names it, e.g. `Training`), with an hourly (`Hrs`) on-demand dimension.
 */
import { createHash } from 'node:crypto';

/** A price the simulated list carries: one region, one instance type, one component. */
export interface SimPrice {
  region: string;
  instanceType: string;
  component: string;
  usdPerHour: number;
}

/** The version and dates of the simulated offer file. */
const PUBLICATION_DATE = '2026-11-01T00:00:00Z';
const EFFECTIVE_DATE = '2026-11-01T00:00:00Z';
const OFFER_TERM = 'JRTCKXETXF';
const RATE = '6YS6EN2CT7';

const skuOf = (p: SimPrice): string =>
  createHash('sha256').update(`${p.region}|${p.instanceType}|${p.component}`).digest('hex').slice(0, 16).toUpperCase();

/** One PriceList entry, as a JSON string. */
export const priceListEntry = (p: SimPrice): string => {
  const sku = skuOf(p);
  return JSON.stringify({
    product: {
      productFamily: 'ML Instance',
      attributes: {
        servicecode: 'AmazonSageMaker',
        servicename: 'Amazon SageMaker',
        regionCode: p.region,
        locationType: 'AWS Region',
        instanceName: p.instanceType,
        component: p.component,
        usagetype: `${p.region}-${p.component}:${p.instanceType}`,
        operation: '',
      },
      sku,
    },
    serviceCode: 'AmazonSageMaker',
    terms: {
      OnDemand: {
        [`${sku}.${OFFER_TERM}`]: {
          priceDimensions: {
            [`${sku}.${OFFER_TERM}.${RATE}`]: {
              unit: 'Hrs',
              endRange: 'Inf',
              description: `$${p.usdPerHour} per ${p.component} ${p.instanceType} instance hour in ${p.region}`,
              appliesTo: [],
              rateCode: `${sku}.${OFFER_TERM}.${RATE}`,
              beginRange: '0',
              pricePerUnit: { USD: p.usdPerHour.toFixed(10) },
            },
          },
          sku,
          effectiveDate: EFFECTIVE_DATE,
          offerTermCode: OFFER_TERM,
          termAttributes: {},
        },
      },
    },
    version: '20261101000000',
    publicationDate: PUBLICATION_DATE,
  });
};

/** The GetProducts answer for `body`, or an error (type, message) for an invalid one. */
export const getProducts = (
  prices: readonly SimPrice[],
  body: Record<string, unknown>,
): { ok: Record<string, unknown> } | { error: { type: string; message: string } } => {
  if (typeof body.ServiceCode !== 'string') return { error: { type: 'InvalidParameterException', message: 'ServiceCode is required' } };
  if (body.ServiceCode !== 'AmazonSageMaker') return { ok: { FormatVersion: 'aws_v1', PriceList: [] } };
  const filters = Array.isArray(body.Filters) ? (body.Filters as Array<{ Type?: string; Field?: string; Value?: string }>) : [];
  const attribute = (p: SimPrice, field: string): string | undefined =>
    ({
      regionCode: p.region,
      instanceName: p.instanceType,
      component: p.component,
      servicecode: 'AmazonSageMaker',
      productFamily: 'ML Instance',
    })[field];
  const matching = prices.filter((p) =>
    filters.every(
      (f) =>
        f.Type === 'TERM_MATCH' && (f.Field === 'ServiceCode' ? f.Value === 'AmazonSageMaker' : attribute(p, f.Field ?? '') === f.Value),
    ),
  );
  const offset = typeof body.NextToken === 'string' ? Number(body.NextToken) || 0 : 0;
  const max = typeof body.MaxResults === 'number' ? body.MaxResults : 100;
  const page = matching.slice(offset, offset + max).map(priceListEntry);
  return {
    ok: { FormatVersion: 'aws_v1', PriceList: page, ...(offset + max < matching.length ? { NextToken: String(offset + max) } : {}) },
  };
};
