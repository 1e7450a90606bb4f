/**
 * What runs on a clock on the local stack, at the time scale: the Scheduler simulator (one-time schedules fire
 * scheduleTarget), the enabled recurring schedules of config/schedules.yml, the reconciler (deployed every 5 minutes)
 * and the orphan sweeper (every hour). The reconciler and the sweeper run once at start, to heal what a previous run
 * left behind.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { HandlerLoader } from './handlers';
import { startSchedulerSimulator } from './simulators/scheduler';
import type { LambdaHandler } from './workflows';

interface ClockOptions {
  loader: HandlerLoader;
  timeScale: number;
  log: (line: string) => void;
  defer: (close: () => Promise<void>) => void;
}

/** The Scheduler simulator and the recurring schedules; answers the simulator's endpoint. */
export const startSchedules = async ({ loader, timeScale: scale, log, defer }: ClockOptions): Promise<{ endpoint: string }> => {
  const scheduler = await startSchedulerSimulator({
    timeScale: scale,
    fire: async (input) => void (await loader.invoke('scheduleTarget', input)),
    onError: (err) => log(`scheduleTarget failed: ${(err as Error).message}`),
  });
  defer(() => scheduler.close());

  // Recurring schedules of config/schedules.yml that are enabled: rate(...) runs locally (scaled); cron(...) is
  // evaluated by EventBridge Scheduler once deployed.
  const recurring =
    (
      parseYaml(readFileSync(new URL('../config/schedules.yml', import.meta.url), 'utf8')) as {
        schedules?: Array<{ name: string; expression: string; enabled?: boolean; request: object }>;
      }
    ).schedules ?? [];
  for (const entry of recurring.filter((s) => s.enabled !== false)) {
    const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(entry.expression);
    if (!rate) {
      log(`schedule ${entry.name}: ${entry.expression} runs only when deployed (local schedules support rate(...))`);
      continue;
    }
    const unitMs = rate[2]!.startsWith('minute') ? 60_000 : rate[2]!.startsWith('hour') ? 3_600_000 : 86_400_000;
    const every = Math.max(1000, Number(rate[1]) * unitMs * scale);
    const timer = setInterval(() => {
      const scheduledTime = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      loader
        .invoke('scheduleTarget', { schedule: entry.name, scheduledTime, request: entry.request })
        .catch((err) => log(`schedule ${entry.name} failed: ${(err as Error).message}`));
    }, every);
    defer(async () => clearInterval(timer));
  }
  return { endpoint: scheduler.endpoint };
};

type HandlerModule<Deps> = { makeHandler: (deps: () => Deps) => unknown };

/** The reconciler and the sweeper, their grace periods scaled: each runs now, then every (scaled) period. */
export const startHousekeeping = async ({ loader, timeScale: scale, log, defer }: ClockOptions): Promise<void> => {
  const [reconciler, reconcileWiring, sweeper, sweepWiring] = await Promise.all([
    loader.module<HandlerModule<import('../functions/core/reconcile').ReconcileDeps>>('reconcile'),
    import('../functions/wiring/reconcile'),
    loader.module<HandlerModule<import('../functions/core/sweep').SweepDeps>>('sweep'),
    import('../functions/wiring/sweep'),
  ]);

  // The reconciler, as deployed every 5 minutes (scaled): at start it resumes what a previous run left behind.
  const reconcileHandler = reconciler.makeHandler(() => ({ ...reconcileWiring.reconcileDeps(), graceSeconds: Math.max(1, 60 * scale) }));
  const runReconcile = async () => {
    try {
      const report = (await loader.invoke('reconcile', {}, { handler: reconcileHandler as LambdaHandler })) as {
        actions: Array<{ requestId: string; action: string }>;
      };
      for (const a of report.actions.filter((x) => x.action !== 'running' && x.action !== 'recent'))
        log(`reconcile  ${a.action}  ${a.requestId}`);
    } catch (err) {
      log(`reconcile failed: ${(err as Error).message}`);
    }
  };
  await runReconcile();
  const reconcileTimer = setInterval(() => void runReconcile(), Math.max(1000, 300_000 * scale));
  defer(async () => clearInterval(reconcileTimer));

  // The orphan sweeper, as deployed every hour (scaled, its grace too): at start it deletes what a previous run left.
  const sweepHandler = sweeper.makeHandler(() => ({ ...sweepWiring.sweepDeps(), graceSeconds: Math.max(1, 1800 * scale) }));
  const runSweep = async () => {
    try {
      const report = (await loader.invoke('sweep', {}, { handler: sweepHandler as LambdaHandler })) as {
        items: Array<{ finding: string; action: string; clusterName: string; requestId?: string }>;
      };
      for (const i of report.items.filter((x) => x.finding === 'orphan' || x.action === 'deleted'))
        log(`sweep  ${i.finding === 'orphan' ? 'orphan' : 'deleted'}  ${i.clusterName}  ${i.requestId ?? ''}`);
    } catch (err) {
      log(`sweep failed: ${(err as Error).message}`);
    }
  };
  await runSweep();
  const sweepTimer = setInterval(() => void runSweep(), Math.max(1000, 3_600_000 * scale));
  defer(async () => clearInterval(sweepTimer));
};
