/**
 * Every shipped example, as is, on `npm start` with no setting: submitted through the `provision`
 * CLI, each reaches READY (a `startAt` still ahead: SCHEDULED, as docs/contract.md says), all at once on one stack.
 * The allow-lists are the local defaults (local/settings.ts): none is set here. The capacity demos keep their stories:
 * the shortage example waits for capacity before READY, the fallback example lands on TIR.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LOCAL_SETTINGS } from '../../local/settings';
import { freePort } from '../../local/free-port';

const root = new URL('../..', import.meta.url).pathname;
const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.json'));

const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(process.execPath, ['cli/bin.mjs', ...args, '--api', api], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

let api: string;
let child: ReturnType<typeof spawn>;

beforeAll(async () => {
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: mkdtempSync(join(tmpdir(), 'provisioner-examples-')) };
  for (const name of Object.keys(LOCAL_SETTINGS)) delete env[name];
  // npm start's own scaled time (LOCAL_TIME_SCALE 0.02: backoff, polls and schedules 50x faster), clusters up in 5 s.
  for (const name of ['LOCAL_TIME_SCALE', 'LOCAL_READY_AFTER_MS']) delete env[name];
  env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', '--memory'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => output.includes('listening on') && (clearInterval(timer), resolve()), 100);
    child.on('exit', (code) => (clearInterval(timer), reject(new Error(`stack exited with ${code}: ${output}`))));
  });
}, 150_000);

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

interface Status {
  status: string;
  landed?: { provider: string };
  history: Array<{ to: string }>;
}

it(`brings every example (${examples.join(', ')}) to READY, or SCHEDULED while its startAt is ahead`, async () => {
  const outcomes = await Promise.all(
    examples.map(async (file) => {
      const request = JSON.parse(readFileSync(join(root, 'examples', file), 'utf8')) as { requestId: string; startAt?: string };
      const scheduled = request.startAt !== undefined && Date.parse(request.startAt) - Date.now() > 60_000;
      const submitted = await cli(['submit', `examples/${file}`]);
      expect(submitted.code, `${file}: ${submitted.stdout}${submitted.stderr}`).toBe(0);
      const expected = scheduled ? 'SCHEDULED' : 'READY';
      const started = Date.now();
      for (;;) {
        // GET /clusters/{id}, what `provision status` reads (no SigV4 locally).
        const status = (await (await fetch(`${api}/clusters/${encodeURIComponent(request.requestId)}`)).json()) as Status;
        if (status.status === expected || ['FAILED', 'CANCELLED', 'DELETED'].includes(status.status)) {
          console.info(`${file}: ${status.status} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
          return { file, status };
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }),
  );
  for (const { file, status } of outcomes) {
    const request = JSON.parse(readFileSync(join(root, 'examples', file), 'utf8')) as { startAt?: string };
    const scheduled = request.startAt !== undefined && Date.parse(request.startAt) - Date.now() > 60_000;
    expect(status.status, `${file}: ${JSON.stringify(status)}`).toBe(scheduled ? 'SCHEDULED' : 'READY');
  }
  const of = (file: string) => outcomes.find((o) => o.file === file)!.status;
  // The stories: the shortage example waited for capacity before READY; the fallback example landed on TIR.
  expect(of('hyperpod-capacity-shortage.json').history.map((h) => h.to)).toContain('WAITING_FOR_CAPACITY');
  expect(of('hyperpod-fallback.json').landed?.provider).toBe('tir');
}, 150_000);
