/**
 * npm start: the whole provisioner on loopback (see local/stack.ts).
 *   PORT (3000)  DATA_DIR (.data)  LOCAL_TIME_SCALE (0.02)  LOCAL_READY_AFTER_MS (5000)  --memory (nothing on disk)
 *   AWS_ENDPOINT_URL_SAGEMAKER / the TIR API root (+ its key and token; functions/contract/environment.js
 *   `tirApiBaseUrl`, `tirApiKey`, `tirAuthToken`): use that endpoint, not a simulator.
 *   LOCAL_DELETE_AFTER_MS (2000)  LOCAL_ROLLBACK_MS (100)  LOCAL_MINIMUM_WAIT_MS (0)  LOCAL_LAUNCH_AFTER_MS (the
 *   ready time): the SageMaker simulator's timings;
 *   LOCAL_HYPERPOD_TIMINGS=real: HyperPod's own magnitudes at the time scale (docs/cli.md).
 *   `hyperPodEventRegions` (the stack's region): regions whose HyperPod events reach the bus; others are polled.
 *   Every variable and setting by name: docs/cli.md "Environment variables", docs/operations.md.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { startStack } = await import('./stack');

const port = Number(process.env.PORT ?? 3000);
const dataDir = process.env.DATA_DIR ?? '.data';
const memory = process.argv.includes('--memory');
const timeScale = Number(process.env.LOCAL_TIME_SCALE ?? 0.02);

/**
 * HyperPod's magnitudes, for LOCAL_HYPERPOD_TIMINGS=real (scaled by LOCAL_TIME_SCALE): creation and deletion take
 * minutes (AWS: "typically 10 to 25 minutes" to provision; deletion is not documented, assumed 10 minutes), the
 * instances are launched (or the shortage known) a few minutes into the creation (assumed 4, as the contention
 * benchmark's HyperPod model), a roll back shows for a few minutes (assumed 5), and a group with MinInstanceCount waits
 * up to 3 hours for its minimum (documented).
 */
const REAL_HYPERPOD_MS = {
  readyAfterMs: 20 * 60_000,
  launchAfterMs: 4 * 60_000,
  deleteAfterMs: 10 * 60_000,
  rollbackMs: 5 * 60_000,
  minimumWaitMs: 3 * 3_600_000,
};
const real = process.env.LOCAL_HYPERPOD_TIMINGS === 'real';
if (process.env.LOCAL_HYPERPOD_TIMINGS !== undefined && process.env.LOCAL_HYPERPOD_TIMINGS !== '' && !real) {
  console.error(`LOCAL_HYPERPOD_TIMINGS must be "real" or unset, got "${process.env.LOCAL_HYPERPOD_TIMINGS}"`);
  process.exit(2);
}
/** A duration in ms from the environment: its own value, else HyperPod's magnitude at the time scale (real), else the default. */
const msOf = (name: string, realMs: number, fallback: number): number => {
  const raw = process.env[name];
  if (raw !== undefined && raw !== '') {
    const value = Number(raw);
    if (!(value >= 0)) {
      console.error(`${name} must be a number of milliseconds (0 or more), got "${raw}"`);
      process.exit(2);
    }
    return value;
  }
  return real ? Math.round(realMs * timeScale) : fallback;
};
const readyAfterMs = msOf('LOCAL_READY_AFTER_MS', REAL_HYPERPOD_MS.readyAfterMs, 5000);
const sagemakerTimings = {
  deleteAfterMs: msOf('LOCAL_DELETE_AFTER_MS', REAL_HYPERPOD_MS.deleteAfterMs, 2000),
  rollbackMs: msOf('LOCAL_ROLLBACK_MS', REAL_HYPERPOD_MS.rollbackMs, 100),
  minimumWaitMs: msOf('LOCAL_MINIMUM_WAIT_MS', REAL_HYPERPOD_MS.minimumWaitMs, 0),
  // Unset and not real: the instances launch (and a shortage shows) when the cluster is ready, as before.
  launchAfterMs: msOf('LOCAL_LAUNCH_AFTER_MS', REAL_HYPERPOD_MS.launchAfterMs, readyAfterMs),
};

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got "${process.env.PORT}"`);
  process.exit(2);
}
if (!(timeScale > 0)) {
  console.error(`LOCAL_TIME_SCALE must be a positive number, got "${process.env.LOCAL_TIME_SCALE}"`);
  process.exit(2);
}

try {
  const stack = await startStack({ port, dataDir, memory, timeScale, readyAfterMs, sagemakerTimings, log: (line) => console.log(line) });
  console.log('GPU cluster provisioner, local stack (same handlers and state machines as the deployment)');
  for (const [name, where] of Object.entries(stack.endpoints)) console.log(`  ${name.padEnd(20)} ${where}`);
  console.log(`  ${'time scale'.padEnd(20)} ${timeScale} (retries, backoff, polls and schedules run ${Math.round(1 / timeScale)}x faster)`);
  console.log('  No SigV4 check locally: every request acts as one local principal.');
  console.log(`listening on ${stack.apiUrl}`);
  console.log(`Console: ${stack.apiUrl}/console/`);
  console.log(`Try: npx provision submit examples/hyperpod-minimal.json --watch --api ${stack.apiUrl}`);
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`${signal}: shutting down`);
    await stack.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE') {
    console.error(`Port ${port} is taken: stop what is using it, or start on another port with PORT=${port + 1} npm start`);
    process.exit(1);
  }
  console.error(`The local stack could not start: ${e.message}`);
  process.exit(1);
}
export {};
