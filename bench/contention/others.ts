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
 * up to 300 s), so the provider calls of every strategy count the same describes for the same wait.
 */
import { InsufficientCapacityError } from '../../functions/core/errors';
import type { RequestOutcome, StrategyRun } from './outcome';
import { requestOf } from './project';
import { CapacityWorld, SimProvider } from './provider';
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

export const runModel = async (scenario: Scenario, timeline: Timeline, seed: number, model: RetryModel): Promise<StrategyRun> => {
  const queue = new EventQueue(timeline.startMs);
  const world = new CapacityWorld(queue);
  const provider = new SimProvider(world, scenario.readySeconds);
  const random = stream(seed, `${scenario.name}/${model.strategy}`);
  const outcomes = new Map<string, RequestOutcome>();

  const poll = (ref: { providerId: string; clusterName: string; region: string }, wait: number) =>
    queue.after(wait, async () => {
      const d = await provider.describe({
        location: { provider: 'sagemaker', region: ref.region },
        clusterName: ref.clusterName,
        providerId: ref.providerId,
      });
      if (d.state !== 'READY') poll(ref, Math.min(POLL.max, Math.ceil(wait * POLL.factor)));
    });

  const attempt = async (arrival: Timeline['arrivals'][number], round: number): Promise<void> => {
    const request = requestOf(scenario, arrival.requestId);
    const regions = model.placements === 'all' ? scenario.regions : scenario.regions.slice(0, 1);
    const horizonMs = arrival.atMs + scenario.horizonSeconds * 1000;
    const outcome = outcomes.get(arrival.requestId)!;
    for (const region of regions) {
      try {
        const created = await provider.create({
          location: { provider: 'sagemaker', region },
          requestId: arrival.requestId,
          cluster: request.cluster,
        });
        const s = world.served.at(-1)!;
        Object.assign(outcome, { servedMs: s.atMs, freedMs: s.freedAtMs, endMs: s.atMs, inHorizon: s.atMs <= horizonMs });
        poll({ ...created, region }, POLL.first);
        return;
      } catch (err) {
        if (!(err instanceof InsufficientCapacityError)) throw err;
      }
    }
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
  return {
    strategy: model.strategy,
    label: model.label,
    outcomes: timeline.arrivals.map((a) => outcomes.get(a.requestId)!),
    calls: { ...provider.calls },
    doubles: provider.doubles.size,
    multiClusters: timeline.arrivals.filter((a) => provider.clustersOf(a.requestId) > 1).length,
  };
};
