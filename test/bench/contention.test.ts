/**
 * The capacity-contention benchmark on its small scenario (bench/contention): the same seed writes the same report,
 * and the invariants hold — figures are checked as ratios and invariants, never as timings.
 */
import { describe, expect, it } from 'vitest';
import { runContention, runScenario } from '../../bench/contention/index';
import { runProject } from '../../bench/contention/project';
import type { Figures } from '../../bench/contention/report';
import { SCENARIOS, timelineOf } from '../../bench/contention/scenarios';

const SEED = 7;
const small = SCENARIOS.small!;

const byStrategy = (figures: Figures[]) => Object.fromEntries(figures.map((f) => [f.strategy, f])) as Record<string, Figures>;

describe('capacity contention benchmark (small scenario)', async () => {
  const { figures } = await runScenario(small, SEED);
  const f = byStrategy(figures);

  it('writes the same table and chart from the same seed', async () => {
    const first = await runContention(SEED, ['small']);
    const second = await runContention(SEED, ['small']);
    expect(second.markdown).toBe(first.markdown);
    expect(second.svg).toBe(first.svg);
    expect(first.markdown).toContain(small.title);
    expect(first.svg.startsWith('<svg')).toBe(true);
    const other = await runContention(SEED + 1, ['small']);
    expect(other.markdown).not.toBe(first.markdown);
  });

  it('runs to the end: the workflow never keeps working at one instant (a livelock stops virtual time)', () => {
    for (const x of figures) expect(x.livelock, x.strategy).toBeUndefined();
  });

  it('serves every request when capacity allows (this project, SkyPilot, dstack), none after its horizon', () => {
    for (const name of ['project', 'project-lease', 'project-no-memory', 'skypilot', 'dstack']) {
      expect(f[name]!.served, name).toBe(small.requests);
      expect(f[name]!.inHorizonShare, name).toBe(1);
      expect(f[name]!.pastHorizon, name).toBe(0);
    }
  });

  it('never gives one request two clusters', () => {
    for (const x of figures) {
      expect(x.doubles, x.strategy).toBe(0);
      expect(x.multiClusters, x.strategy).toBe(0);
    }
  });

  it('makes at most 1/5 of the provider calls per cluster of SkyPilot, and fewer than dstack and than itself without the memory', () => {
    for (const name of ['project', 'project-lease']) {
      expect(f[name]!.callsPerCluster, name).toBeLessThanOrEqual(f.skypilot!.callsPerCluster / 5);
      expect(f[name]!.callsPerCluster, name).toBeLessThan(f.dstack!.callsPerCluster);
      expect(f[name]!.callsPerCluster, name).toBeLessThan(f['project-no-memory']!.callsPerCluster);
    }
  });

  it('runs the shipped ASL: every served request passes RecordReady once, every create is a CreateCluster task', async () => {
    const run = await runProject(small, timelineOf(small, SEED), SEED, { memory: 'queue' });
    const served = run.outcomes.filter((o) => o.servedMs !== undefined).length;
    expect(run.workflow!.states.RecordReady ?? 0).toBe(served);
    expect(run.workflow!.states.CreateCluster).toBeGreaterThanOrEqual(run.calls.create);
    expect(run.workflow!.invocations).toBeGreaterThan(0);
    expect(run.workflow!.wru).toBeGreaterThan(0);
  });

  it('serves the requests of one offering in submit order (this project)', () => {
    expect(f.project!.orderViolations).toBe(0);
  });
});
