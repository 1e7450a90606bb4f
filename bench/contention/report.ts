/** The figures of a contention run: one markdown table per scenario and a CDF chart (hand-written SVG). */
import { orderViolations, type StrategyRun, ttcSeconds } from './outcome';
import { PRICES } from './pricing';
import type { ProviderKind } from './provider';
import type { Scenario } from './scenarios';

export interface Figures {
  strategy: string;
  label: string;
  requests: number;
  served: number;
  inHorizonShare: number;
  providerCalls: number;
  createCalls: number;
  callsPerCluster: number;
  ttcP50: number | undefined;
  ttcP99: number | undefined;
  orderViolations: number;
  /** Requests still waiting after their horizon when the run ended. */
  pastHorizon: number;
  /** Of those, the ones that never made a create attempt (every round skipped: no horizon at all). */
  pastHorizonUnattempted: number;
  /** The latest a horizon ended after submit + the requested horizon, seconds (it starts at the first create attempt). */
  horizonLateSeconds: number;
  doubles: number;
  multiClusters: number;
  /** Per provisioning (request), this project's policies only. */
  perProvisioning?: {
    transitions: number;
    invocations: number;
    rru: number;
    wru: number;
    reads: number;
    writes: number;
    usd: number;
    /** States entered per provisioning: the paths the executions took. */
    states: Record<string, number>;
  };
  ttc: number[];
  /** Clusters rolled back for capacity per cluster served (the HyperPod kind). */
  rolledBackPerServed: number;
  /** Rolled back clusters that were created while a window let several waiters try together. */
  windowRolledBack?: number;
  widestWindow?: number;
  /** From the capacity a request took being free to the create that took it, the longest over all served, seconds. */
  freedToLastCreated: number | undefined;
  /** The run livelocked: what and where (the figures are those up to that instant). */
  livelock?: string;
}

/** Nearest-rank percentile. */
export const percentile = (values: number[], p: number): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};

export const figuresOf = (run: StrategyRun, scenario: Scenario): Figures => {
  const ttc = run.outcomes.map(ttcSeconds).filter((t): t is number => t !== undefined);
  const served = ttc.length;
  const requests = run.outcomes.length;
  const providerCalls = Object.values(run.calls).reduce((a, b) => a + b, 0);
  const w = run.workflow;
  return {
    strategy: run.strategy,
    label: run.label,
    requests,
    served,
    inHorizonShare: run.outcomes.filter((o) => o.inHorizon).length / requests,
    providerCalls,
    createCalls: run.calls.create,
    callsPerCluster: served > 0 ? providerCalls / served : Number.POSITIVE_INFINITY,
    ttcP50: percentile(ttc, 50),
    ttcP99: percentile(ttc, 99),
    orderViolations: orderViolations(run.outcomes),
    ...(run.livelock
      ? {
          livelock:
            `LIVELOCK at ${new Date(run.livelock.atMs).toISOString().slice(11, 19)} (${run.livelock.message}; ` +
            `requests ${run.livelock.requestIds.join(', ')})`,
        }
      : {}),
    pastHorizon: run.outcomes.filter((o) => o.pastHorizon).length,
    pastHorizonUnattempted: run.outcomes.filter((o) => o.pastHorizon && o.attempts === 0).length,
    horizonLateSeconds: Math.max(
      0,
      ...run.outcomes.map((o) => ((o.horizonEndMs ?? o.submittedMs) - o.submittedMs) / 1000 - scenario.horizonSeconds),
    ),
    doubles: run.doubles,
    multiClusters: run.multiClusters,
    ...(w
      ? {
          perProvisioning: {
            transitions: w.transitions / requests,
            invocations: w.invocations / requests,
            rru: w.rru / requests,
            wru: w.wru / requests,
            reads: w.readRequests / requests,
            writes: w.writeRequests / requests,
            usd: w.usd / requests,
            states: Object.fromEntries(Object.entries(w.states).map(([k, v]) => [k, v / requests])),
          },
        }
      : {}),
    ttc,
    rolledBackPerServed: served > 0 ? (run.rolledBack ?? 0) / served : Number.POSITIVE_INFINITY,
    ...(run.windowRolledBack !== undefined ? { windowRolledBack: run.windowRolledBack } : {}),
    ...(run.widestWindow !== undefined ? { widestWindow: run.widestWindow } : {}),
    freedToLastCreated:
      served > 0 ? Math.max(...run.outcomes.map(createdAfterFree).filter((t): t is number => t !== undefined)) : undefined,
  };
};

/** From the capacity a served request took being free (or its submit) to the create that took it (0 if sent before). */
const createdAfterFree = (o: StrategyRun['outcomes'][number]): number | undefined =>
  o.servedMs === undefined
    ? undefined
    : Math.max(0, ((o.createdMs ?? o.servedMs) - Math.max(o.freedMs ?? o.submittedMs, o.submittedMs)) / 1000);

const PROJECT = 'project';

export interface GoalCheck {
  /** The best other strategy: the most requests served in their horizon, then the best p99 time to capacity. */
  against: string;
  callsRatio: number;
  p99: number | undefined;
  theirP99: number | undefined;
  met: boolean;
  why: string;
}

/** The goal: at most 1/5 of the calls of the best other strategy at an equal or better p99, and no order violations. */
export const goalCheck = (figures: Figures[]): GoalCheck | undefined => {
  const ours = figures.find((f) => f.strategy === PROJECT);
  const others = figures.filter((f) => !f.strategy.startsWith(PROJECT) && f.ttcP99 !== undefined);
  if (!ours || others.length === 0) return undefined;
  const best = [...others].sort(
    (a, b) => b.inHorizonShare - a.inHorizonShare || a.ttcP99! - b.ttcP99! || a.callsPerCluster - b.callsPerCluster,
  )[0]!;
  const callsRatio = ours.callsPerCluster / best.callsPerCluster;
  const p99ok = ours.ttcP99 !== undefined && ours.ttcP99 <= best.ttcP99!;
  if (ours.livelock)
    return { against: best.strategy, callsRatio, p99: undefined, theirP99: best.ttcP99, met: false, why: `not met: ${ours.livelock}` };
  const misses = [
    ...(callsRatio > 0.2 ? [`calls ${fmtRatio(callsRatio)} of ${best.strategy}'s (goal ≤ 0.20)`] : []),
    ...(!p99ok ? [`p99 ${fmtSeconds(ours.ttcP99)} vs ${fmtSeconds(best.ttcP99)}`] : []),
    ...(ours.orderViolations > 0 ? [`${ours.orderViolations} order violations`] : []),
  ];
  return {
    against: best.strategy,
    callsRatio,
    p99: ours.ttcP99,
    theirP99: best.ttcP99,
    met: misses.length === 0,
    why: misses.length === 0 ? 'met' : `not met: ${misses.join('; ')}`,
  };
};

const fmtSeconds = (s: number | undefined): string =>
  s === undefined ? '—' : s < 100 ? `${s.toFixed(0)} s` : `${Math.round(s).toLocaleString('en')} s`;
const fmtRatio = (r: number): string => r.toFixed(2);
const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');

const duration = (seconds: number): string =>
  seconds % 3600 === 0 ? `${seconds / 3600} h` : seconds >= 7200 ? `${(seconds / 3600).toFixed(1)} h` : `${Math.round(seconds / 60)} min`;

/** The scenario in one sentence: who asks, and how capacity frees and fills. */
export const setupOf = (scenario: Scenario): string => {
  const pools = scenario.pools
    .map(
      (p) =>
        `${p.region}: ${p.initialFree} free, ${p.frees} ${p.freeAllAtSeconds !== undefined ? `freed at once after ${duration(p.freeAllAtSeconds)}` : `freeing over ${duration(p.freeOverSeconds)}`}` +
        (p.fillMeanSeconds !== undefined ? `, other tenants take one every ${duration(p.fillMeanSeconds)} on average` : ', nobody else'),
    )
    .join('; ');
  const arrivals = scenario.arrivalSpreadSeconds === 0 ? 'all at once' : `over ${duration(scenario.arrivalSpreadSeconds)}`;
  return (
    `${scenario.requests} requests of ${scenario.instancesPerRequest} × ${scenario.instanceType} arriving ${arrivals}, ` +
    `placements ${scenario.regions.join(' → ')}, horizon ${duration(scenario.horizonSeconds)}, ` +
    `InService ${duration(scenario.readySeconds)} after a create. Capacity (${pools}).`
  );
};

/** The provider kind in words. */
export const kindOf = (kind: ProviderKind): string =>
  kind.kind === 'refuse'
    ? 'provider refuses a create it has no capacity for (as TIR)'
    : `provider accepts every create and answers later, as HyperPod: instances launched or a roll back ${duration(kind.launchSeconds)} ` +
      `after the create, InService after ${duration(kind.creationSeconds)}, Failed ${duration(kind.rollbackSeconds)} after RollingBack, ` +
      `a delete ${duration(kind.deleteSeconds)}`;

export const tableOf = (scenario: Scenario, figures: Figures[], kind: ProviderKind = { kind: 'refuse' }): string => {
  const head =
    '| strategy | served (in horizon) | still waiting when the run ends | provider calls / cluster | creates / cluster | time to capacity p50 / p99 | order violations | ' +
    'rolled back / served | freed → last created | transitions | Lambda invocations | DynamoDB reads / writes (RRU / WRU) | cost / provisioning |';
  const rule = `|${' --- |'.repeat(13)}`;
  const rows = figures.map((f) => {
    const p = f.perProvisioning;
    if (f.livelock) return [`${f.label}: **${f.livelock}**`, `${f.served} / ${f.requests}`, ...Array(11).fill('—')].join(' | ');
    return [
      f.label,
      `${f.served} / ${f.requests} (${(f.inHorizonShare * 100).toFixed(0)} %)`,
      f.pastHorizon === 0
        ? '0'
        : `${f.pastHorizon} (horizons ended up to ${duration(f.horizonLateSeconds)} late` +
          `${f.pastHorizonUnattempted > 0 ? `, ${f.pastHorizonUnattempted} with no create attempt` : ''})`,
      fmt(f.callsPerCluster),
      fmt(f.createCalls / Math.max(1, f.served)),
      `${fmtSeconds(f.ttcP50)} / ${fmtSeconds(f.ttcP99)}`,
      String(f.orderViolations),
      fmt(f.rolledBackPerServed, 2),
      fmtSeconds(f.freedToLastCreated),
      p ? fmt(p.transitions) : '—',
      p ? fmt(p.invocations) : '—',
      p ? `${fmt(p.reads)} / ${fmt(p.writes)} (${fmt(p.rru)} / ${fmt(p.wru)})` : '—',
      p ? `$${p.usd.toFixed(5)}` : '—',
    ].join(' | ');
  });
  const title = `### ${scenario.title} — ${kind.kind === 'refuse' ? 'refused at create' : 'HyperPod: accepted, rolled back'}`;
  return [title, '', `${setupOf(scenario)} The ${kindOf(kind)}.`, '', head, rule, ...rows.map((r) => `| ${r} |`)].join('\n');
};

/**
 * The goal of the burst scenario on the HyperPod kind: every waiting request created within two launch delays of the
 * free, at most 1/5 of SkyPilot's provider calls per cluster, no order violation, at most one cluster rolled back per
 * cluster served.
 */
export const burstGoal = (figures: Figures[], kind: ProviderKind, scenario: Scenario): string | undefined => {
  const ours = figures.find((f) => f.strategy === PROJECT);
  const sky = figures.find((f) => f.strategy === 'skypilot');
  if (kind.kind !== 'rollback' || !ours || !sky || scenario.pools.every((p) => p.freeAllAtSeconds === undefined)) return undefined;
  const bound = 2 * kind.launchSeconds;
  const ratio = ours.callsPerCluster / sky.callsPerCluster;
  const checks: Array<[boolean, string]> = [
    [ours.served === scenario.requests, `${ours.served} of ${scenario.requests} served`],
    [
      ours.freedToLastCreated !== undefined && ours.freedToLastCreated <= bound,
      `the last created ${fmtSeconds(ours.freedToLastCreated)} after the free (≤ ${fmtSeconds(bound)}: two launch delays)`,
    ],
    [ratio <= 0.2, `provider calls per cluster ×${ratio.toFixed(3)} of SkyPilot's (≤ 0.2)`],
    [ours.orderViolations === 0, `${ours.orderViolations} order violations (0)`],
    [ours.rolledBackPerServed <= 1, `${fmt(ours.rolledBackPerServed, 2)} rolled back per served (≤ 1)`],
  ];
  const met = checks.every(([ok]) => ok);
  return `Goal of this scenario: ${met ? 'met' : 'not met'} — ${checks.map(([ok, what]) => `${ok ? '✓' : '✗'} ${what}`).join('; ')}.`;
};

export const reportOf = (seed: number, sections: Array<{ scenario: Scenario; figures: Figures[]; kind?: ProviderKind }>): string => {
  const lines: string[] = [
    '# Capacity contention: figures',
    '',
    `Generated by \`npm run bench -- contention --seed ${seed}\` (virtual time; the same seed writes the same file). ` +
      'How it is run and what each column means: [docs/development.md](../../docs/development.md#capacity-contention).',
    '',
    "Per provisioning (this project only): the provision workflow's state transitions, Lambda invocations and DynamoDB " +
      `requests and units per request; cost at ${PRICES.region} list prices taken on ${PRICES.takenOn} (Step Functions ` +
      'Standard $0.025 / 1,000 transitions; Lambda arm64 $0.20 / million requests + $0.0000133334 / GB-s at 512 MB; DynamoDB ' +
      'on-demand $0.125 / million RRU, $0.625 / million WRU; EventBridge $1.00 / million events). Time to capacity: from ' +
      'the moment the instances a request got were free (or it was submitted, if later) to the create that took them.',
    '',
  ];
  for (const { scenario, figures, kind = { kind: 'refuse' } as ProviderKind } of sections) {
    lines.push(tableOf(scenario, figures, kind), '');
    const ourRun = figures.find((f) => f.strategy === PROJECT);
    if (kind.kind === 'rollback' && ourRun?.widestWindow !== undefined)
      lines.push(
        `The window (this project): the widest an offering's reached was ${ourRun.widestWindow} (the cap 16); clusters rolled back ` +
          `that were created while a window was open: ${ourRun.windowRolledBack ?? 0} (at most the window − 1 per shortage met).`,
        '',
      );
    const burst = burstGoal(figures, kind, scenario);
    if (burst) lines.push(burst, '');
    const paths = figures.find((f) => f.strategy === PROJECT)?.perProvisioning?.states;
    if (paths)
      lines.push(
        `States entered per provisioning (this project): ${Object.entries(paths)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join(', ')}.`,
        '',
      );
    const ours = figures.find((f) => f.strategy === PROJECT);
    if (ours && !ours.livelock && ours.served > 0)
      lines.push(
        `This project's provider calls per cluster against each other strategy: ${figures
          .filter((f) => f !== ours && f.served > 0 && !f.livelock)
          .map((f) => `${f.strategy} ×${(ours.callsPerCluster / f.callsPerCluster).toFixed(3)}`)
          .join(', ')}.`,
        '',
      );
    const goal = goalCheck(figures);
    if (goal)
      lines.push(
        `Goal (≤ 1/5 of the provider calls per cluster of the best other strategy — the most served in their horizon, then ` +
          `the best p99 — at an equal or better p99, no order violations), against ${goal.against}: ${goal.why}.`,
        '',
      );
  }
  lines.push('![CDF of time to capacity per strategy](contention.svg)', '');
  return lines.join('\n');
};

// ---- the chart ----

const COLORS: Record<string, string> = {
  project: '#1f77b4',
  'project-lease': '#9467bd',
  'project-no-memory': '#17becf',
  skypilot: '#d62728',
  dstack: '#2ca02c',
  previous: '#7f7f7f',
};

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * One panel per scenario: x the time to capacity (log scale, 1 s to 6 h), y the share of all requests served within
 * it (so a curve ends at the share served).
 */
export const chartOf = (sections: Array<{ scenario: Scenario; figures: Figures[] }>): string => {
  const pw = 320;
  const ph = 220;
  const ml = 48;
  const mt = 40;
  const gap = 40;
  const width = ml + sections.length * (pw + gap);
  const height = mt + ph + 120;
  const xMin = 0;
  const xMax = Math.log10(6 * 3600);
  const x = (s: number) => ((Math.log10(Math.max(1, s)) - xMin) / (xMax - xMin)) * pw;
  const y = (share: number) => ph - share * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    '<title>Time to capacity per strategy (CDF), one panel per scenario</title>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${ml}" y="16" font-size="13" font-weight="bold">Time from capacity free to cluster created: share of requests served within it</text>`,
  ];
  sections.forEach(({ scenario, figures }, i) => {
    const ox = ml + i * (pw + gap);
    out.push(`<g transform="translate(${ox},${mt})">`);
    out.push(`<text x="0" y="-6" font-weight="bold">${esc(scenario.name)}</text>`);
    out.push(`<rect x="0" y="0" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
    for (const [s, label] of [
      [1, '1 s'],
      [10, '10 s'],
      [60, '1 min'],
      [600, '10 min'],
      [3600, '1 h'],
    ] as const) {
      out.push(`<line x1="${x(s).toFixed(1)}" y1="0" x2="${x(s).toFixed(1)}" y2="${ph}" stroke="#eee"/>`);
      out.push(`<text x="${x(s).toFixed(1)}" y="${ph + 14}" text-anchor="middle">${label}</text>`);
    }
    for (const share of [0, 0.25, 0.5, 0.75, 1]) {
      out.push(`<line x1="0" y1="${y(share).toFixed(1)}" x2="${pw}" y2="${y(share).toFixed(1)}" stroke="#eee"/>`);
      if (i === 0) out.push(`<text x="-6" y="${(y(share) + 4).toFixed(1)}" text-anchor="end">${Math.round(share * 100)} %</text>`);
    }
    for (const f of figures) {
      const sorted = [...f.ttc].sort((a, b) => a - b);
      const points: string[] = [`0,${ph}`];
      sorted.forEach((t, k) => {
        const px = x(t).toFixed(1);
        points.push(`${px},${y(k / f.requests).toFixed(1)}`, `${px},${y((k + 1) / f.requests).toFixed(1)}`);
      });
      points.push(`${pw},${y(sorted.length / f.requests).toFixed(1)}`);
      out.push(`<polyline fill="none" stroke="${COLORS[f.strategy] ?? '#000'}" stroke-width="1.6" points="${points.join(' ')}"/>`);
    }
    out.push('</g>');
  });
  const legend = sections[0]?.figures ?? [];
  legend.forEach((f, k) => {
    const ly = mt + ph + 34 + k * 16;
    out.push(`<line x1="${ml}" y1="${ly - 4}" x2="${ml + 24}" y2="${ly - 4}" stroke="${COLORS[f.strategy] ?? '#000'}" stroke-width="2"/>`);
    const stopped = sections.filter((x) => x.figures.some((g) => g.strategy === f.strategy && g.livelock)).map((x) => x.scenario.name);
    const note = stopped.length > 0 ? ` — LIVELOCK, run stopped (${stopped.join(', ')})` : '';
    out.push(`<text x="${ml + 30}" y="${ly}">${esc(f.label + note)}</text>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
};
