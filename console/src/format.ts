/** Formatting for the console: durations, times, money, where a request is, what it runs on. */
import type { Cluster } from './api';

/** `3 s`, `4 min`, `2 h 5 min`, `3 d 4 h`. */
export const duration = (ms: number): string => {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h${min % 60 ? ` ${min % 60} min` : ''}`;
  return `${Math.floor(h / 24)} d${h % 24 ? ` ${h % 24} h` : ''}`;
};

/** `in 4 min` / `4 min ago`. */
export const relative = (iso: string, now: number): string => {
  const delta = Date.parse(iso) - now;
  return delta >= 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
};

/** `2026-11-29 08:20:13 UTC`: one fixed zone, so what two people see matches. */
export const timestamp = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;

export const usd = (amount: number): string => `$${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** `sagemaker us-east-1`, `tir Delhi`: where it landed, else where it was asked for. */
export const whereOf = (c: Pick<Cluster, 'provider' | 'region' | 'location' | 'landed'>): string => {
  const at = c.landed ?? c;
  return at.provider === 'sagemaker' ? (at.region ?? '') : (at.location ?? '');
};

/** The instance types a request asks for, with counts: `4 × ml.p5.48xlarge`, or `2 × sku-401` on TIR. */
export const instanceTypesOf = (c: Pick<Cluster, 'request'>): string[] => {
  const cluster = (c.request.cluster ?? {}) as {
    InstanceGroups?: Array<{ InstanceType?: string; InstanceCount?: number; InstanceRequirements?: { InstanceTypes?: string[] } }>;
    sku_id?: number;
    no_of_nodes?: number;
  };
  if (cluster.InstanceGroups) {
    return cluster.InstanceGroups.map((g) => {
      const types = g.InstanceType ? [g.InstanceType] : (g.InstanceRequirements?.InstanceTypes ?? []);
      return `${g.InstanceCount ?? '?'} × ${types.join(' | ')}`;
    });
  }
  if (cluster.sku_id !== undefined) return [`${cluster.no_of_nodes ?? '?'} × sku-${cluster.sku_id}`];
  return [];
};

/** Running now: READY, or being deleted after it was READY, and not yet gone. */
export const isRunning = (c: Cluster): boolean => Boolean(c.readyAt) && !c.deletedAt && (c.status === 'READY' || c.status === 'DELETING');

/** Instances a running cluster has now: its reported node count, else the groups' counts. */
export const instancesOf = (c: Cluster): number => c.nodes?.current ?? (c.groups ?? []).reduce((n, g) => n + g.current, 0);

export interface Totals {
  running: number;
  instances: number;
  instanceHours: number;
  usdPerHour: number;
  runningUsd: number;
  unpriced: number;
}

/** Totals over the running clusters: instance-hours since each became READY, the spend rate and the spend so far. */
export const totalsOf = (clusters: Cluster[], now: number): Totals => {
  const t: Totals = { running: 0, instances: 0, instanceHours: 0, usdPerHour: 0, runningUsd: 0, unpriced: 0 };
  for (const c of clusters.filter(isRunning)) {
    const n = instancesOf(c);
    t.running += 1;
    t.instances += n;
    t.instanceHours += (n * Math.max(0, now - Date.parse(c.readyAt!))) / 3_600_000;
    if (c.cost) {
      t.usdPerHour += c.cost.usdPerHour;
      t.runningUsd += c.cost.sinceReadyUsd;
    } else t.unpriced += 1;
  }
  return t;
};
