/**
 * The strategies users would otherwise run, as models on the same simulated provider and timeline. Each is per
 * request, shares nothing with the others, and follows its documented schedule (SkyPilot:
 * https://github.com/skypilot-org/skypilot/blob/master/sky/backends/cloud_vm_ray_backend.py; dstack's retry policy:
 * https://dstack.ai/docs/concepts/tasks/#retry-policy):
 *   - SkyPilot `sky launch --retry-until-up`: tries every candidate location in the optimizer's order, then waits
 *     `_RETRY_UNTIL_UP_INIT_GAP_SECONDS` (30 s) between full rounds; no sharing between users. It has no horizon of its
 *     own: it is given the scenario's (the user's patience).
 *   - dstack `retry: {on_events: [no-capacity], duration}`: each attempt considers its offers in order (up to 25), and
 *     backs off from about 15 s to about 10 min between attempts until the duration (the scenario's horizon) ends;
 *     no jitter, no sharing between runs.
 *   - this project's previous policy: per request, full-jitter backoff 30 s doubling to 600 s, 10 attempts (about
 *     33 min), no memory, no alternatives (its own region only).
 * A create that gets capacity is followed by the same readiness polling as the provision workflow's (30 s, then x1.5
 * up to 300 s), so the provider calls of every strategy count the same describes for the same wait. On the HyperPod
 * kind an accepted create is polled the same way until it is InService or rolls back; a rolled-back cluster is
 * deleted and, its name being reused, polled every 20 s until gone before the next attempt (as the workflow does).
 */
import { ClusterNotFoundError, InsufficientCapacityError } from '../../functions/core/errors';
import type { RequestOutcome, StrategyRun } from './outcome';
import { requestOf } from './project';
import { CapacityWorld, type ProviderKind, SimProvider } from './provider';
import { EventQueue } from './queue';
import { type Random, stream } from './rng';
import type { Scenario, Timeline } from './scenarios';

export interface RetryModel {
  strategy: string;
  label: string;
  /** Every placement in order each round, or the request's own region only. */
  placements: 'all' | 'primary';
  /** Seconds to wait after the `round`-th round that found every placement short. */
  gapSeconds(round: number, random: Random): number;
  /** Rounds at most (then FAILED); unbounded: until the horizon. */
  maxRounds?: number;
}

export const SKYPILOT: RetryModel = {
  strategy: 'skypilot',
  label: 'SkyPilot --retry-until-up (30 s between rounds, failover order)',
  placements: 'all',
  gapSeconds: () => 30,
};

export const DSTACK: RetryModel = {
  strategy: 'dstack',
  label: 'dstack retry for the duration (15 s doubling to 10 min, offers in order)',
  placements: 'all',
  gapSeconds: (round) => Math.min(600, 15 * 2 ** (round - 1)),
};

export const PREVIOUS: RetryModel = {
  strategy: 'previous',
  label: "this project's previous policy (30 s doubling to 600 s, full jitter, 10 attempts, no memory)",
  placements: 'primary',
  gapSeconds: (round, random) => Math.max(1, Math.ceil(random() * Math.min(600, 30 * 2 ** (round - 1)))),
  maxRounds: 10,
};

export const OTHER_MODELS: readonly RetryModel[] = [SKYPILOT, DSTACK, PREVIOUS];

const POLL = { first: 30, factor: 1.5, max: 300 };

const GONE_POLL_SECONDS = 20;

export const runModel = async (
  scenario: Scenario,
  timeline: Timeline,
  seed: number,
  model: RetryModel,
  kind: ProviderKind = { kind: 'refuse' },
): Promise<StrategyRun> => {
  const queue = new EventQueue(timeline.startMs);
  const world = new CapacityWorld(queue);
  const provider = new SimProvider(world, scenario.readySeconds, (seconds, run) => queue.after(seconds, run), kind);
  const random = stream(seed, `${scenario.name}/${model.strategy}`);
  const outcomes = new Map<string, RequestOutcome>();

  type Ref = { providerId: string; clusterName: string; region: string };
  const refOf = (ref: Ref) => ({
    location: { provider: 'sagemaker' as const, region: ref.region },
    clusterName: ref.clusterName,
    providerId: ref.providerId,
  });
  /** Polls an accepted create until READY; on the HyperPod kind a roll back calls `rolledBack` instead. */
  const poll = (ref: Ref, wait: number, rolledBack?: () => void) =>
    queue.after(wait, async () => {
      const d = await provider.describe(refOf(ref));
      if (d.state === 'FAILED' && rolledBack) return rolledBack();
      if (d.state !== 'READY') poll(ref, Math.min(POLL.max, Math.ceil(wait * POLL.factor)), rolledBack);
    });
  /** Deletes a rolled-back cluster and calls `gone` once its name is free again. */
  const discard = async (ref: Ref, gone: () => Promise<void>) => {
    await provider.delete(refOf(ref));
    const check = () =>
      queue.after(GONE_POLL_SECONDS, async () => {
        try {
          await provider.describe(refOf(ref));
          check();
        } catch (err) {
          if (!(err instanceof ClusterNotFoundError)) throw err;
          await gone();
        }
      });
    check();
  };

  const attempt = async (arrival: Timeline['arrivals'][number], round: number, from = 0): Promise<void> => {
    const request = requestOf(scenario, arrival.requestId);
    const regions = model.placements === 'all' ? scenario.regions : scenario.regions.slice(0, 1);
    const horizonMs = arrival.atMs + scenario.horizonSeconds * 1000;
    const outcome = outcomes.get(arrival.requestId)!;
    const served = () => {
      const s = world.served.findLast((x) => x.requestId === arrival.requestId)!;
      Object.assign(outcome, {
        servedMs: s.atMs,
        freedMs: s.freedAtMs,
        createdMs: s.createdAtMs,
        endMs: s.atMs,
        inHorizon: s.atMs <= horizonMs,
      });
    };
    for (let i = from; i < regions.length; i++) {
      const region = regions[i]!;
      try {
        const created = await provider.create({
          location: { provider: 'sagemaker', region },
          requestId: arrival.requestId,
          cluster: request.cluster,
        });
        if (kind.kind === 'refuse') {
          served();
          poll({ ...created, region }, POLL.first);
          return;
        }
        // HyperPod: accepted; the answer comes later. Served when its instances launch; a roll back moves on.
        const ref = { ...created, region };
        poll(ref, POLL.first, () =>
          discard(ref, async () => {
            if (i + 1 < regions.length) return attempt(arrival, round, i + 1);
            return nextRound(arrival, round, horizonMs, outcome);
          }),
        );
        // Its launch is recorded by the world; the outcome is read when the run ends.
        return;
      } catch (err) {
        if (!(err instanceof InsufficientCapacityError)) throw err;
      }
    }
    return nextRound(arrival, round, horizonMs, outcome);
  };

  const nextRound = async (arrival: Timeline['arrivals'][number], round: number, horizonMs: number, outcome: RequestOutcome) => {
    if (model.maxRounds !== undefined && round >= model.maxRounds) {
      outcome.endMs = queue.ms;
      return;
    }
    const next = queue.ms + model.gapSeconds(round, random) * 1000;
    if (next > horizonMs) {
      outcome.endMs = horizonMs;
      return;
    }
    queue.at(next, () => attempt(arrival, round + 1));
  };

  for (const event of timeline.capacity) queue.at(event.atMs, () => world.apply(event));
  for (const arrival of timeline.arrivals) {
    outcomes.set(arrival.requestId, {
      requestId: arrival.requestId,
      index: arrival.index,
      submittedMs: arrival.atMs,
      endMs: arrival.atMs,
      inHorizon: false,
    });
    queue.at(arrival.atMs, () => attempt(arrival, 1));
  }
  await queue.drain();
  // The HyperPod kind: a request was served when its cluster's instances launched.
  for (const s of world.served) {
    const outcome = outcomes.get(s.requestId)!;
    if (outcome.servedMs !== undefined) continue;
    const horizonMs = outcome.submittedMs + scenario.horizonSeconds * 1000;
    Object.assign(outcome, {
      servedMs: s.atMs,
      freedMs: s.freedAtMs,
      createdMs: s.createdAtMs,
      endMs: s.atMs,
      inHorizon: s.atMs <= horizonMs,
    });
  }
  return {
    strategy: model.strategy,
    label: model.label,
    outcomes: timeline.arrivals.map((a) => outcomes.get(a.requestId)!),
    calls: { ...provider.calls },
    doubles: provider.doubles.size,
    multiClusters: timeline.arrivals.filter((a) => provider.clustersOf(a.requestId) > 1).length,
    rolledBack: provider.rolledBack,
  };
};
