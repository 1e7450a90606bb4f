/**
 * npm start: the whole provisioner on loopback (see local/stack.ts).
 *   PORT (3000)  DATA_DIR (.data)  LOCAL_TIME_SCALE (0.02)  LOCAL_READY_AFTER_MS (5000)  --memory (nothing on disk)
 *   AWS_ENDPOINT_URL_SAGEMAKER / TIR_API_BASE_URL (+ TIR_API_KEY, TIR_AUTH_TOKEN): use that endpoint, not a simulator.
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
const readyAfterMs = Number(process.env.LOCAL_READY_AFTER_MS ?? 5000);

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got "${process.env.PORT}"`);
  process.exit(2);
}
if (!(timeScale > 0)) {
  console.error(`LOCAL_TIME_SCALE must be a positive number, got "${process.env.LOCAL_TIME_SCALE}"`);
  process.exit(2);
}

try {
  const stack = await startStack({ port, dataDir, memory, timeScale, readyAfterMs, log: (line) => console.log(line) });
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
