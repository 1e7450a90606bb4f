/**
 * The pre-flight plan: will a request fit, what will it cost, what would fail — before anything is created.
 *
 * The request comes validated exactly as submit validates it (`acceptRequest` of ./submit.ts: the contract, the
 * deployment's allow-lists, the clock rules). `planAccepted` runs every check of ./plan-checks/ for the primary placement and every
 * alternative, through the read-only `PreflightProbes` port (functions/adapters/preflight-aws.ts, preflight-tir.ts),
 * and prices each placement (HyperPod: AWS's Price List API through ./pricing.ts, the offline table of ./prices.ts only
 * when the API cannot be read; TIR from its plan price when the API gives it). Nothing is recorded, nothing
 * is created. A check that cannot run (access denied, unreachable, slower than `checkTimeoutMs`, 5 s by default) is
 * `skipped` with the reason, and never fails the plan.
 *
 * The submit path reaches the plan through the `Planner` port (deployed: a synchronous Lambda Invoke of the plan
 * function, which alone holds the read permissions; functions/adapters/lambda-planner.ts).
 */
import { durationSeconds } from './duration';
import type { FieldError } from './errors';
import { runChecks, type CheckResult, type CheckStatus, type PreflightProbes } from './plan-checks';
import { placementsOf, whereOf, clusterNameOfPlacement, type Placement } from './placements';
import { PRICE_TABLE_DATE } from './prices';
import { fallbackQuote, type PriceBook, type PriceQuote } from './pricing';
import type { ProvisionRequest } from './request';

export type { CheckResult, CheckStatus, PreflightProbes } from './plan-checks';

export interface CostLine {
  instanceType: string;
  count: number;
  /** Price of one instance for an hour; absent when no price is known. */
  unitPerHour?: number;
  source?: string;
  /** When the price was read from the Price List API, or the date of the offline table it comes from. */
  asOf?: string;
}

export interface PlacementCost {
  currency: string;
  /** The cluster for an hour; absent when some line has no price. */
  perHour?: number;
  /** `deleteAfter` in hours, when the request has it. */
  hours?: number;
  /** perHour × hours. */
  total?: number;
  lines: CostLine[];
  /** Why some price is missing, or how it was reached. */
  note?: string;
}

export interface PlacementPlan {
  /** 0: the request's own placement; i + 1: alternatives[i]. */
  index: number;
  provider: Placement['provider'];
  where: string;
  clusterName: string;
  checks: CheckResult[];
  cost: PlacementCost;
}

export interface PlanReport {
  requestId: string;
  /** No check of any placement failed. */
  ok: boolean;
  summary: Record<CheckStatus, number>;
  placements: PlacementPlan[];
  /** The date of the offline fallback table (./prices.ts); a line priced from it says so in its source. */
  priceTableDate: string;
  /** Where the plan's HyperPod prices come from: the Price List API, the offline table, or both. */
  priceOrigin?: 'price-list-api' | 'fallback-table' | 'mixed' | 'none';
}

/** What the plan function answers (functions/handlers/plan.ts): the plan, or the errors of a request that is invalid. */
export type PlanAnswer = { report: PlanReport } | { invalid: FieldError[] };

/** The plan as the submit path sees it (deployed: the plan function, invoked synchronously). */
export interface Planner {
  plan(request: ProvisionRequest): Promise<PlanReport>;
}

export interface PlanDeps {
  probes: PreflightProbes;
  defaultRegion: string;
  /** How long one check may take before it is skipped. Default 5000 ms. */
  checkTimeoutMs?: number;
  /** On-demand prices (the Price List API, cached; ./pricing.ts). Without it the offline table prices the plan. */
  prices?: PriceBook;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 5000;

/** The failed checks of a plan as field errors: each at its pointer, naming the placement, the check and the fix. */
export const failuresOf = (report: PlanReport): FieldError[] =>
  report.placements.flatMap((p) =>
    p.checks
      .filter((c) => c.status === 'fail')
      .map((c) => ({ path: c.path, message: `${c.check} (${p.where}, ${c.subject}): ${c.message}${c.fix ? `; fix: ${c.fix}` : ''}` })),
  );

/** Plans a request already accepted (validated and normalized). */
export const planAccepted = async (deps: PlanDeps, request: ProvisionRequest & { requestId?: string }): Promise<PlanReport> => {
  const placements = placementsOf(request, deps.defaultRegion);
  const timeoutMs = deps.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const hours = request.deleteAfter ? (durationSeconds(request.deleteAfter) ?? 0) / 3600 : undefined;
  const quotes = await quotesOf(deps.prices, placements);
  const plans = await Promise.all(
    placements.map(async (placement, index): Promise<PlacementPlan> => {
      const base = index === 0 ? '' : `/alternatives/${index - 1}`;
      const { checks, tirPrice } = await runChecks(deps.probes, placement, {
        base,
        timeoutMs,
        hasOwnCluster: hasOwnCluster(request, index),
      });
      return {
        index,
        provider: placement.provider,
        where: whereOf(placement),
        clusterName: clusterNameOfPlacement(placement),
        checks,
        cost: costOf(placement, hours, tirPrice ? { ...tirPrice, asOf: new Date().toISOString() } : undefined, quotes),
      };
    }),
  );
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skipped: 0 };
  for (const p of plans) for (const c of p.checks) summary[c.status] += 1;
  return {
    requestId: request.requestId ?? '',
    ok: summary.fail === 0,
    summary,
    placements: plans,
    priceTableDate: PRICE_TABLE_DATE,
    priceOrigin: originOf(quotes),
  };
};

const quoteKey = (region: string, instanceType: string): string => `${region}#${instanceType}`;

/** The HyperPod prices of every placement, read once per region and type. */
const quotesOf = async (book: PriceBook | undefined, placements: Placement[]): Promise<Map<string, PriceQuote | undefined>> => {
  const wanted = new Map<string, { region: string; type: string }>();
  for (const p of placements) {
    if (p.provider !== 'sagemaker') continue;
    for (const g of p.cluster.InstanceGroups) {
      const type = g.InstanceType ?? g.InstanceRequirements?.InstanceTypes[0];
      if (type) wanted.set(quoteKey(p.region, type), { region: p.region, type });
    }
  }
  const out = new Map<string, PriceQuote | undefined>();
  await Promise.all(
    [...wanted].map(async ([key, { region, type }]) => {
      out.set(key, book ? await book.hourly(region, type).catch(() => fallbackQuote(region, type)) : fallbackQuote(region, type));
    }),
  );
  return out;
};

const originOf = (quotes: Map<string, PriceQuote | undefined>): PlanReport['priceOrigin'] => {
  const origins = new Set([...quotes.values()].flatMap((q) => (q ? [q.origin] : [])));
  if (origins.size === 0) return 'none';
  return origins.size > 1 ? 'mixed' : [...origins][0]!;
};

/** Whether placement `index` carries its own cluster body (else its pointers into the cluster go to the patch). */
const hasOwnCluster = (request: ProvisionRequest, index: number): boolean =>
  index === 0 || request.alternatives?.[index - 1]?.cluster !== undefined;

const round = (n: number): number => Math.round(n * 100) / 100;

/** The price of a placement for an hour and for `hours`, from the shipped table (HyperPod) or the TIR plan's price. */
export const costOf = (
  placement: Placement,
  hours: number | undefined,
  tirPrice?: { unitPerHour: number; currency: string; asOf?: string },
  quotes?: Map<string, PriceQuote | undefined>,
): PlacementCost => {
  if (placement.provider === 'tir') {
    const count = placement.cluster.no_of_nodes;
    const instanceType = `sku-${placement.cluster.sku_id}`;
    if (!tirPrice) return { currency: 'INR', lines: [{ instanceType, count }], note: 'no price: the TIR API gave no price for this plan' };
    const perHour = round(tirPrice.unitPerHour * count);
    return {
      currency: tirPrice.currency,
      perHour,
      ...(hours !== undefined ? { hours, total: round(perHour * hours) } : {}),
      lines: [
        {
          instanceType,
          count,
          unitPerHour: tirPrice.unitPerHour,
          source: 'TIR plan price (unit_price)',
          ...(tirPrice.asOf ? { asOf: tirPrice.asOf } : {}),
        },
      ],
    };
  }
  const lines: CostLine[] = placement.cluster.InstanceGroups.map((g) => {
    // A flexible group is priced at its first (preferred) type.
    const instanceType = g.InstanceType ?? g.InstanceRequirements?.InstanceTypes[0] ?? 'unknown';
    const price = quotes ? quotes.get(quoteKey(placement.region, instanceType)) : fallbackQuote(placement.region, instanceType);
    return {
      instanceType,
      count: g.InstanceCount,
      ...(price ? { unitPerHour: price.usdPerHour, source: price.source, asOf: price.asOf } : {}),
    };
  });
  const unpriced = [...new Set(lines.filter((l) => l.unitPerHour === undefined).map((l) => l.instanceType))];
  if (unpriced.length > 0) {
    return {
      currency: 'USD',
      lines,
      note: `no price for ${unpriced.join(', ')} in ${placement.region} from the Price List API or in the offline price table of ${PRICE_TABLE_DATE}`,
    };
  }
  const exact = lines.reduce((sum, l) => sum + l.unitPerHour! * l.count, 0);
  return { currency: 'USD', perHour: round(exact), ...(hours !== undefined ? { hours, total: round(exact * hours) } : {}), lines };
};
