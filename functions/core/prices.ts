/**
 * The OFFLINE FALLBACK of on-demand prices: used only when AWS's Price List Query API cannot be read (no network, access
 * denied, no such product) or is not configured; ./pricing.ts reads the API (and caches it) and says, with every figure,
 * which of the two it comes from. Per hour, for the plan's cost line and the console's "cost so far".
 *
 * HyperPod: SageMaker AI bills a HyperPod cluster instance at the on-demand price of its `ml.*` instance type. Source:
 * AWS's published on-demand SageMaker ML instance prices ("Amazon SageMaker AI pricing",
 * https://aws.amazon.com/sagemaker/ai/pricing/, USD per instance-hour), written into this table on PRICE_TABLE_DATE, unverified, for
 * the common GPU, Trainium and a few CPU (controller) types in four regions; not fetched live. AWS changes these prices
 * (the P4 and P5 families were cut in June 2025): the AWS Price List API (service code `AmazonSageMaker`) is the
 * authority, refresh the table from it. A type or region not in the table has no price here (the caller says so).
 * US East (N. Virginia), US East (Ohio) and US West (Oregon) share one price list; Europe (Ireland) has its own.
 *
 * TIR: E2E Networks prices a cluster by its SKU plan (`sku_item_price_id`), in INR, and its API answers the plan's
 * `unit_price`; no shipped table, so `hourlyPrice` answers undefined for TIR and the plan reads the price from the API.
 */

export const PRICE_TABLE_DATE = '2026-11-29';

/**
 * Said with every price. The table was written on PRICE_TABLE_DATE without access to AWS's pricing page or the Price
 * List API from the machine that wrote it: its values are list prices as remembered, unverified. Refresh them from the
 * Price List API before relying on a total.
 */
const SOURCE = `AWS SageMaker AI on-demand list prices, written ${PRICE_TABLE_DATE}, unverified against the Price List API`;

type Row = Readonly<Record<string, number>>;

/** USD per instance-hour, US regions (us-east-1, us-east-2, us-west-2). */
const US: Row = {
  'ml.g5.xlarge': 1.408,
  'ml.g5.2xlarge': 1.515,
  'ml.g5.4xlarge': 2.03,
  'ml.g5.8xlarge': 3.06,
  'ml.g5.12xlarge': 7.09,
  'ml.g5.16xlarge': 5.12,
  'ml.g5.24xlarge': 10.18,
  'ml.g5.48xlarge': 20.36,
  'ml.g6.xlarge': 1.1,
  'ml.g6.12xlarge': 5.76,
  'ml.g6.48xlarge': 16.73,
  'ml.g6e.12xlarge': 13.12,
  'ml.g6e.48xlarge': 37.65,
  'ml.p4d.24xlarge': 37.688,
  'ml.p4de.24xlarge': 47.11,
  'ml.p5.48xlarge': 113.068,
  'ml.p5e.48xlarge': 130.24,
  'ml.p5en.48xlarge': 132.56,
  'ml.trn1.32xlarge': 24.725,
  'ml.trn1n.32xlarge': 28.497,
  'ml.trn2.48xlarge': 59.39,
  'ml.m5.xlarge': 0.23,
  'ml.m5.2xlarge': 0.461,
  'ml.m5.4xlarge': 0.922,
  'ml.c5.xlarge': 0.204,
  'ml.c5.2xlarge': 0.408,
  'ml.t3.medium': 0.05,
};

/** USD per instance-hour, eu-west-1. */
const EU_WEST_1: Row = {
  'ml.g5.xlarge': 1.571,
  'ml.g5.2xlarge': 1.69,
  'ml.g5.4xlarge': 2.265,
  'ml.g5.8xlarge': 3.414,
  'ml.g5.12xlarge': 7.911,
  'ml.g5.16xlarge': 5.713,
  'ml.g5.24xlarge': 11.358,
  'ml.g5.48xlarge': 22.717,
  'ml.p4d.24xlarge': 41.5,
  'ml.p5.48xlarge': 124.5,
};

const TABLE: Readonly<Record<string, Row>> = {
  'us-east-1': US,
  'us-east-2': US,
  'us-west-2': US,
  'eu-west-1': EU_WEST_1,
};

/** The regions the table covers. */
export const PRICED_REGIONS: readonly string[] = Object.keys(TABLE);

/**
 * The on-demand price of one instance of `instanceType` for an hour, or undefined when the table has none (an unlisted
 * type or region, a HyperPod placement without a region, or TIR, whose price comes from its API).
 */
export const hourlyPrice = (placement: {
  provider: 'hyperpod' | 'tir';
  region?: string;
  instanceType: string;
}): { usdPerHour: number; source: string } | undefined => {
  if (placement.provider !== 'hyperpod' || placement.region === undefined) return undefined;
  const row = Object.hasOwn(TABLE, placement.region) ? TABLE[placement.region] : undefined;
  if (row === undefined || !Object.hasOwn(row, placement.instanceType)) return undefined;
  return { usdPerHour: row[placement.instanceType]!, source: `${SOURCE}, ${placement.region}` };
};
