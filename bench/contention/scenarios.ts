/**
 * The contention scenarios: who asks, when, for what, and when capacity frees and fills. A scenario and a seed make
 * one timeline (arrivals, frees, other tenants' takes) that every strategy meets in turn, unchanged.
 */
import { type CapacityEvent, poolKey } from './provider';
import { exponential, type Random, stream } from './rng';

export interface PoolSpec {
  region: string;
  /** Free at the start. */
  initialFree: number;
  /** Instances that come free, one each, at uniform random times over `freeOverSeconds`. */
  frees: number;
  freeOverSeconds: number;
  /** Other tenants take one free instance at exponential intervals of this mean (none: nobody else takes capacity). */
  fillMeanSeconds?: number;
  /** The `frees` come all at once, this long after the start (instead of one by one over `freeOverSeconds`). */
  freeAllAtSeconds?: number;
}

export interface Scenario {
  name: string;
  title: string;
  requests: number;
  /** Requests arrive at uniform random times over this many seconds (0: all at once, in submit order). */
  arrivalSpreadSeconds: number;
  /** The placements of every request, in failover order (the first is its own region). */
  regions: string[];
  instanceType: string;
  instancesPerRequest: number;
  /** The retry horizon every request asks for (`retry.for`), and every other strategy's patience. */
  horizonSeconds: number;
  /** From a create that got capacity to the cluster InService. */
  readySeconds: number;
  pools: PoolSpec[];
}

const H = 3600;

/**
 * HyperPod's timing for the `rollback` kind (bench/contention/provider.ts), seconds. Creation: the developer guide
 * says provisioning typically takes 10 to 25 minutes (https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod.html);
 * 15 min, as every scenario's readySeconds. The rest is assumed: no AWS page gives the time to an insufficient-capacity
 * roll back, its length or a delete's. Launch: 4 min (EC2 answers a launch within seconds; HyperPod's own
 * orchestration before it is what takes the time); roll back: 2 min; delete: 2 min.
 */
export const HYPERPOD_TIMING = { launchSeconds: 240, creationSeconds: 900, rollbackSeconds: 120, deleteSeconds: 120 } as const;

export const SCENARIOS: Record<string, Scenario> = {
  'one-region': {
    name: 'one-region',
    title: '200 requests vs 20 instances freeing over 6 h in one region',
    requests: 200,
    arrivalSpreadSeconds: 600,
    regions: ['us-east-1'],
    instanceType: 'ml.p5.48xlarge',
    instancesPerRequest: 1,
    horizonSeconds: 6 * H,
    readySeconds: 900,
    pools: [{ region: 'us-east-1', initialFree: 0, frees: 20, freeOverSeconds: 6 * H, fillMeanSeconds: 600 }],
  },
  'three-regions': {
    name: 'three-regions',
    title: '120 requests, three regions of different scarcity, alternatives in order',
    requests: 120,
    arrivalSpreadSeconds: 600,
    regions: ['us-east-1', 'us-west-2', 'eu-west-1'],
    instanceType: 'ml.p5.48xlarge',
    instancesPerRequest: 1,
    horizonSeconds: 6 * H,
    readySeconds: 900,
    pools: [
      { region: 'us-east-1', initialFree: 0, frees: 10, freeOverSeconds: 6 * H, fillMeanSeconds: 600 },
      { region: 'us-west-2', initialFree: 2, frees: 30, freeOverSeconds: 6 * H, fillMeanSeconds: 900 },
      { region: 'eu-west-1', initialFree: 5, frees: 60, freeOverSeconds: 6 * H, fillMeanSeconds: 1800 },
    ],
  },
  burst: {
    name: 'burst',
    title: 'a burst of 50 identical requests, 50 instances freeing over 3 h',
    requests: 50,
    arrivalSpreadSeconds: 0,
    regions: ['us-east-1'],
    instanceType: 'ml.p5.48xlarge',
    instancesPerRequest: 1,
    horizonSeconds: 6 * H,
    readySeconds: 900,
    pools: [{ region: 'us-east-1', initialFree: 5, frees: 45, freeOverSeconds: 3 * H, fillMeanSeconds: 1200 }],
  },
  'free-ten': {
    name: 'free-ten',
    title: '10 requests waiting on one offering with 0 free, then capacity for 10 freed at once',
    requests: 10,
    arrivalSpreadSeconds: 0,
    regions: ['us-east-1'],
    instanceType: 'ml.p5.48xlarge',
    instancesPerRequest: 1,
    horizonSeconds: 6 * H,
    readySeconds: 900,
    pools: [{ region: 'us-east-1', initialFree: 0, frees: 10, freeOverSeconds: 0, freeAllAtSeconds: H }],
  },
  /** The CI scenario: small, and capacity enough for everyone in the end (nobody else takes it). */
  small: {
    name: 'small',
    title: '20 requests vs 20 instances freeing over 1 h, nobody else taking them',
    requests: 20,
    arrivalSpreadSeconds: 60,
    regions: ['us-east-1', 'us-west-2'],
    instanceType: 'ml.p5.48xlarge',
    instancesPerRequest: 1,
    horizonSeconds: 6 * H,
    readySeconds: 600,
    pools: [
      { region: 'us-east-1', initialFree: 0, frees: 14, freeOverSeconds: H },
      { region: 'us-west-2', initialFree: 0, frees: 6, freeOverSeconds: H },
    ],
  },
};

export interface Arrival {
  index: number;
  requestId: string;
  atMs: number;
}

export interface Timeline {
  startMs: number;
  endMs: number;
  arrivals: Arrival[];
  capacity: CapacityEvent[];
}

/** Start of every run (virtual). */
export const START_MS = Date.parse('2026-12-01T08:00:00.000Z');

export const timelineOf = (scenario: Scenario, seed: number): Timeline => {
  const arrive: Random = stream(seed, `${scenario.name}/arrivals`);
  const arrivals = Array.from({ length: scenario.requests }, () => Math.floor(arrive() * scenario.arrivalSpreadSeconds * 1000))
    .sort((a, b) => a - b)
    .map((offset, index) => ({ index, requestId: `req-${String(index).padStart(4, '0')}`, atMs: START_MS + offset }));
  const endMs = START_MS + (scenario.arrivalSpreadSeconds + scenario.horizonSeconds + scenario.readySeconds + 3600) * 1000;
  const capacity: CapacityEvent[] = [];
  for (const pool of scenario.pools) {
    const key = poolKey(pool.region, scenario.instanceType);
    const random = stream(seed, `${scenario.name}/${pool.region}`);
    if (pool.initialFree > 0) capacity.push({ atMs: START_MS, pool: key, kind: 'free', count: pool.initialFree });
    if (pool.freeAllAtSeconds !== undefined)
      capacity.push({ atMs: START_MS + pool.freeAllAtSeconds * 1000, pool: key, kind: 'free', count: pool.frees });
    else
      for (let i = 0; i < pool.frees; i++)
        capacity.push({ atMs: START_MS + Math.floor(random() * pool.freeOverSeconds * 1000), pool: key, kind: 'free', count: 1 });
    if (pool.fillMeanSeconds !== undefined) {
      for (
        let t = START_MS + exponential(random, pool.fillMeanSeconds) * 1000;
        t < endMs;
        t += exponential(random, pool.fillMeanSeconds) * 1000
      )
        capacity.push({ atMs: Math.floor(t), pool: key, kind: 'fill', count: 1 });
    }
  }
  capacity.sort((a, b) => a.atMs - b.atMs || (a.kind === b.kind ? 0 : a.kind === 'free' ? -1 : 1));
  return { startMs: START_MS, endMs, arrivals, capacity };
};
