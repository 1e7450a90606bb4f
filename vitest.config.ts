/**
 * Three tiers, as three disjoint vitest projects (`npm test` runs all three, each file once):
 *   unit  — `npm run test:unit`: the core and the contract over in-memory fakes; no DynamoDB, no browser, no child
 *           process. Seconds.
 *   quick — `npm run test:quick` runs unit and quick: the handlers, adapters and the state machines over dynalite and
 *           the simulators, in virtual or scaled time. About a minute of CPU (user + sys) for both tiers.
 *   full  — the rest, for `npm test` (CI): packaging serverless.yml, the local stack as `npm start` runs it, the browser,
 *           the fuzz and fault suites, the docs' currency.
 * The kill -9 storms on the local stack take minutes a storm: `npm run test:storms` only (VITEST_STORMS).
 * Output is quiet: a passing test's logs are not printed (`silent: 'passed-only'`); a failing test's are.
 */
import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

const UNIT = [
  'test/unit/**/*.test.ts',
  'test/core/{access,capacity,notify,placements,plan,policy,validate}.test.ts',
  'test/contract/{request-schema,sdk-coverage}.test.ts',
  'test/architecture/**/*.test.ts',
  'test/wiring/**/*.test.ts',
];

const QUICK = [
  'test/core/sweep.test.ts',
  'test/contract/generated.test.ts',
  // The state machines, but for the long runs (the 100-waiter queue, failover rounds, a crash at every write): full.
  'test/statemachines/{capacity,contract,delete-cluster,ownership,provision-cluster,readiness,reconcile}.test.ts',
  'test/handlers/**/*.test.ts',
  'test/adapters/**/*.test.ts',
  'test/cli/{clusters,events,orphans,plan,sigv4,validate}.test.ts',
  'test/local/{event-patterns,lambda-async,sagemaker-capacity,scheduler,step-functions}.test.ts',
];

const ALL = ['test/**/*.test.ts'];

const STORMS = process.env.VITEST_STORMS ? [] : ['test/faults/kill-storm.test.ts'];

const env = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_DEV: 'false',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
  POWERTOOLS_TRACE_DISABLED: 'true',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
};

export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // full: a process of its own for each file (it spawns the local stack, packages, kills), one at a time on 2 cores.
    // unit and quick: worker threads, two even on 2 cores (the state machine files spend much of their time waiting on
    // timers and loopback answers), each keeping its module cache from one file to the next.
    pool: 'forks',
    poolOptions: { threads: { isolate: false, maxThreads: Math.max(2, availableParallelism() - 1) } },
    silent: 'passed-only',
    env,
    projects: [
      // Importing the SDK clients, the handlers and the state machine runner once per worker rather than once per file
      // was most of what unit and quick cost. Their files restore what they change (environment, timers, stubs, the
      // logger's level), so sharing a worker is safe.
      { extends: true, test: { name: 'unit', include: UNIT, pool: 'threads' } },
      { extends: true, test: { name: 'quick', include: QUICK, pool: 'threads', globalSetup: ['test/global-setup.ts'] } },
      {
        extends: true,
        test: {
          name: 'full',
          // After unit and quick, not beside them: the full tier's timing is as it was alone.
          sequence: { groupOrder: 1 },
          include: ALL,
          exclude: [...configDefaults.exclude, ...UNIT, ...QUICK, ...STORMS],
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
