/**
 * Availability-Zone hints: EC2's insufficient-capacity wording often says where the capacity is ("… You can currently
 * get ml.p5.48xlarge capacity by not specifying an Availability Zone in your request or choosing us-east-1b,
 * us-east-1c."; published examples: test/fixtures/providers/aws/insufficient-capacity-az.json). The zones it names are
 * kept on the record (`zoneHint`), and when a later placement of the request has its subnets in one of them, that
 * placement is tried next, before the others (functions/core/workflow/capacity-wait.ts `nextPlacement`).
 *
 * A placement's zones come from its subnets (the cluster's VpcConfig and each group's OverrideVpcConfig), through the
 * read-only `ZoneLookup` port (EC2 DescribeSubnets: functions/adapters/zones-aws.ts), the same read the plan makes.
 */
import type { Placement } from './placements';

/** Subnet -> Availability Zone of a region (EC2 DescribeSubnets). */
export interface ZoneLookup {
  /** The zone of each subnet it knows; a subnet it does not know is absent. Throws when EC2 cannot be read. */
  subnetZones(region: string, subnetIds: readonly string[]): Promise<Record<string, string>>;
}

/** The zones an insufficient-capacity message names as having capacity, and the zone it was short in. */
export interface ZoneHint {
  /** Zones EC2 says have capacity now ("… or choosing us-east-1b, us-east-1c"). */
  zones: string[];
  /** The zone the request was short in ("… in the Availability Zone you requested (us-east-1a)"), when named. */
  shortIn?: string;
  /** The placement whose shortage named them (0: the request's own). */
  placement: number;
  at: string;
  /**
   * The placements tried out of order in this round (`round`: the record's rounds then) because their subnets lie in a
   * named zone, and where the round goes on after them.
   */
  detour?: { round: number; placements: number[]; resume: number };
}

/**
 * The placements still to try in this round after `index`, in order: the ones after it (or, after a detour, after the
 * placement the detour left from), without those the detour tried already and those excluded for good.
 */
export const remainingAfter = (
  hint: ZoneHint | undefined,
  rounds: number,
  index: number,
  count: number,
  excluded: readonly number[],
): number[] => {
  const detour = hint?.detour && hint.detour.round === rounds ? hint.detour : undefined;
  const from = detour?.placements.includes(index) ? detour.resume : index + 1;
  const out: number[] = [];
  for (let i = from; i < count; i++) if (!excluded.includes(i) && !detour?.placements.includes(i)) out.push(i);
  return out;
};

/** An Availability Zone name: region plus a letter (us-east-1b), or a Local Zone (us-west-2-lax-1a). */
const ZONE = /^[a-z]{2}(?:-[a-z]+)+-\d+(?:-[a-z]+-\d+)?[a-z]$/;

const CHOOSING = /\bor choosing (.+?)(?:\.(?:\s|$)|$)/i;
const REQUESTED = /in the Availability Zone you requested \(([^)]+)\)/i;

/** The zones the message names as having capacity (none when it names none), and the zone it was short in. */
export const parseZoneHint = (message: string | undefined): { zones: string[]; shortIn?: string } => {
  if (!message) return { zones: [] };
  const listed = CHOOSING.exec(message)?.[1] ?? '';
  const zones = [
    ...new Set(
      listed
        .split(/,|\bor\b|\band\b/)
        .map((z) => z.trim().replace(/\.$/, ''))
        .filter((z) => ZONE.test(z)),
    ),
  ];
  const shortIn = REQUESTED.exec(message)?.[1]?.trim();
  return { zones, ...(shortIn && ZONE.test(shortIn) ? { shortIn } : {}) };
};

/** Every subnet a HyperPod placement names (the cluster's VpcConfig, each group's OverrideVpcConfig). */
export const subnetsOf = (p: Placement): string[] => {
  if (p.provider !== 'sagemaker') return [];
  const out = new Set<string>(p.cluster.VpcConfig?.Subnets ?? []);
  for (const g of p.cluster.InstanceGroups ?? []) {
    for (const s of (g as { OverrideVpcConfig?: { Subnets?: string[] } }).OverrideVpcConfig?.Subnets ?? []) out.add(s);
  }
  return [...out];
};

export interface HintedPlacement {
  index: number;
  /** The named zones its subnets lie in. */
  zones: string[];
}

/**
 * Of the `candidates` (placement indexes, in the order they would be tried), the first HyperPod placement in the region
 * of the shortage whose subnets lie in a zone the hint names: one with all its subnets there first, then one with some.
 * Undefined when none does, or the zones cannot be read (the usual order stands).
 */
export const hintedPlacement = async (
  lookup: ZoneLookup,
  placements: readonly Placement[],
  candidates: readonly number[],
  region: string,
  zones: readonly string[],
): Promise<HintedPlacement | undefined> => {
  if (zones.length === 0) return undefined;
  const named = new Set(zones);
  const inRegion = candidates.filter((i) => {
    const p = placements[i];
    return p?.provider === 'sagemaker' && p.region === region && subnetsOf(p).length > 0;
  });
  if (inRegion.length === 0) return undefined;
  const all = [...new Set(inRegion.flatMap((i) => subnetsOf(placements[i]!)))];
  let known: Record<string, string>;
  try {
    known = await lookup.subnetZones(region, all);
  } catch {
    return undefined;
  }
  const scored = inRegion.map((index) => {
    const subnets = subnetsOf(placements[index]!);
    const hits = subnets.map((s) => known[s]).filter((z): z is string => z !== undefined && named.has(z));
    return { index, zones: [...new Set(hits)], whole: hits.length === subnets.length };
  });
  const best = scored.find((s) => s.whole && s.zones.length > 0) ?? scored.find((s) => s.zones.length > 0);
  return best ? { index: best.index, zones: best.zones } : undefined;
};

/**
 * Whether placement `index` is where a zone hint of this round sent the request: it is tried even when the memory of
 * short offerings (kept per region and type) says its offering is short, since EC2 just named capacity in its zone.
 */
export const isDetourTarget = (hint: ZoneHint | undefined, rounds: number, index: number): boolean =>
  hint?.detour !== undefined && hint.detour.round === rounds && hint.detour.placements.at(-1) === index;

/** Where the request goes after a shortage at `index`, and what the record keeps of the zones the message named. */
export interface ZoneDecision {
  /** The next placement of this round; undefined when the round is over. */
  next?: number;
  /** The record's zoneHint after this shortage (unchanged when the message names no zone). */
  hint?: ZoneHint;
  /** Why the next placement was chosen out of order, for the attempt log; absent when the order stands. */
  why?: string;
}

/**
 * After a shortage at placement `index` with EC2's `message`: the zones it names (kept on the record), and the next
 * placement: a later one whose subnets lie in a named zone when there is one (read through `lookup`), else the next in
 * order.
 */
export const decideAfterShortage = async (
  lookup: ZoneLookup | undefined,
  input: {
    placements: readonly Placement[];
    index: number;
    rounds: number;
    excluded: readonly number[];
    previous?: ZoneHint;
    message: string;
    at: string;
  },
): Promise<ZoneDecision> => {
  const { placements, index, rounds, excluded, previous, message, at } = input;
  const remaining = remainingAfter(previous, rounds, index, placements.length, excluded);
  const parsed = parseZoneHint(message);
  const failed = placements[index];
  if (parsed.zones.length === 0 || failed?.provider !== 'sagemaker') return { next: remaining[0], ...(previous ? { hint: previous } : {}) };
  const liveDetour = previous?.detour && previous.detour.round === rounds ? previous.detour : undefined;
  const base: ZoneHint = { zones: parsed.zones, ...(parsed.shortIn ? { shortIn: parsed.shortIn } : {}), placement: index, at };
  const hinted =
    lookup && remaining.length > 1 ? await hintedPlacement(lookup, placements, remaining, failed.region, parsed.zones) : undefined;
  if (!hinted || hinted.index === remaining[0]) {
    const why = hinted
      ? `EC2 names capacity in ${parsed.zones.join(', ')}; placement ${hinted.index} (subnets in ${hinted.zones.join(', ')}) is next anyway`
      : undefined;
    return { next: remaining[0], hint: liveDetour ? { ...base, detour: liveDetour } : base, ...(why ? { why } : {}) };
  }
  const resume = liveDetour?.placements.includes(index) ? liveDetour.resume : index + 1;
  const detour = { round: rounds, placements: [...(liveDetour?.placements ?? []), hinted.index], resume };
  return {
    next: hinted.index,
    hint: { ...base, detour },
    why:
      `EC2 names capacity in ${parsed.zones.join(', ')}: trying placement ${hinted.index} next, its subnets lie in ` +
      `${hinted.zones.join(', ')} (before placement ${remaining[0]})`,
  };
};
