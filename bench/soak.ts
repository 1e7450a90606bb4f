/**
 * npm run bench -- soak [requests] [scaled-minutes]: the local stack (`npm start`'s entry, a child process on a free
 * port, in memory) holds REQUESTS requests (default 200) waiting for capacity for MINUTES minutes of scaled time
 * (default 10, LOCAL_TIME_SCALE 0.1: one real minute). Each asks for more ml.p5.48xlarge nodes than the simulator ever
 * has, so each waits for the whole run. Prints the stack's resident memory (VmRSS) and CPU (utime + stime) sampled every
 * second from /proc (Linux), the share of one-second samples in which the stack was idle, and whether the resident
 * memory stayed under the bound (600 MiB); exits 1 when it did not, or when a request left WAITING_FOR_CAPACITY.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { freePort } from '../local/free-port';

const RSS_BOUND_MIB = 600;
/** A one-second sample under this CPU share counts as idle (a wake's burst is well above it). */
const IDLE_CPU = 0.05;
const TIME_SCALE = 0.1;
/** Seconds the stack is watched with nothing to do, before the submits. */
const IDLE_BASELINE_SECONDS = 10;

const root = new URL('..', import.meta.url).pathname;
const CLOCK_TICKS = 100; // USER_HZ on Linux

const rssMiB = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
};
/** CPU seconds the process used so far (user + system). */
const cpuSeconds = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
};

const request = (i: number) => ({
  requestId: `soak-${i}`,
  provider: 'sagemaker',
  retry: { for: 'PT24H' },
  cluster: {
    ClusterName: `soak-${i}`,
    InstanceGroups: [
      {
        InstanceGroupName: 'gpu-workers',
        InstanceCount: 16,
        InstanceType: 'ml.p5.48xlarge',
        LifeCycleConfig: { SourceS3Uri: 's3://sagemaker-demo-lifecycle/hyperpod/', OnCreate: 'on_create.sh' },
        ExecutionRole: 'arn:aws:iam::123456789012:role/HyperPodExecutionRole',
      },
    ],
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** fetch, waiting out a 503 / 429 that names its Retry-After as a client of the API does (the CLI retries 3 times). */
const call = async (url: string, init?: RequestInit): Promise<Response> => {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, init);
    const after = Number(res.headers.get('retry-after') ?? Number.NaN);
    if ((res.status !== 503 && res.status !== 429) || !(after >= 0) || attempt > 3) return res;
    await res.arrayBuffer();
    await sleep(after * 1000);
  }
};

export const main = async (args: string[]): Promise<void> => {
  const count = Number(args[0] ?? 200);
  const minutes = Number(args[1] ?? 10);
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', '--memory'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), LOCAL_TIME_SCALE: String(TIME_SCALE), POWERTOOLS_LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  try {
    const t0 = Date.now();
    while (!output.includes('listening on')) {
      if (child.exitCode !== null) throw new Error(`the stack exited: ${output}`);
      if (Date.now() - t0 > 120_000) throw new Error('the stack did not start in 120 s');
      await sleep(100);
    }
    const pid = child.pid!;
    const started = rssMiB(pid);
    // The stack with nothing to do, before any request: what a wake's cost is measured against.
    const idleSamples: number[] = [];
    {
      let before = cpuSeconds(pid);
      for (let s = 0; s < IDLE_BASELINE_SECONDS; s++) {
        const tick = Date.now();
        await sleep(1000);
        const now = cpuSeconds(pid);
        idleSamples.push((now - before) / ((Date.now() - tick) / 1000));
        before = now;
      }
    }
    const submitStart = Date.now();
    let next = 0;
    const statuses = new Map<number, number>();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) {
          const i = next++;
          const res = await call(`${api}/clusters`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(request(i)),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          await res.arrayBuffer();
        }
      }),
    );
    const submitMs = Date.now() - submitStart;
    // Every request reaches its wait before the clock starts.
    /** Requests by status; `attempts` counts the attempts refused for capacity (one history entry each), `history` all entries. */
    const tally = { attempts: 0, history: 0 };
    const reasons = new Map<string, number>();
    const waiting = async () => {
      const byStatus = new Map<string, number>();
      tally.attempts = 0;
      tally.history = 0;
      reasons.clear();
      for (let i = 0; i < count; i++) {
        const res = await call(`${api}/clusters/soak-${i}`);
        const record = res.ok ? ((await res.json()) as { status: string; history?: unknown[] }) : undefined;
        const status = record?.status ?? `HTTP ${res.status}`;
        byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
        tally.history += record?.history?.length ?? 0;
        for (const entry of (record?.history ?? []) as Array<{ to: string; reason?: string }>) {
          if (/^attempt \d+ waits/.test(entry.reason ?? '')) tally.attempts++;
          const reason = `${entry.to}: ${(entry.reason ?? '').replace(/\d[\d:.TZ-]*/g, '#').slice(0, 90)}`;
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
      }
      return byStatus;
    };
    const settleStart = Date.now();
    let before = await waiting();
    while ((before.get('WAITING_FOR_CAPACITY') ?? 0) < count && Date.now() - settleStart < 120_000) {
      await sleep(1000);
      before = await waiting();
    }
    const attemptsBefore = tally.attempts;
    const historyBefore = tally.history;
    const afterSubmits = rssMiB(pid);
    const windowMs = minutes * 60_000 * TIME_SCALE;
    const samples: Array<{ rss: number; cpu: number }> = [];
    let cpu = cpuSeconds(pid);
    const windowStart = Date.now();
    const cpuStart = cpu;
    while (Date.now() - windowStart < windowMs) {
      const tick = Date.now();
      await sleep(1000);
      const now = cpuSeconds(pid);
      samples.push({ rss: rssMiB(pid), cpu: (now - cpu) / ((Date.now() - tick) / 1000) });
      cpu = now;
    }
    const cpuUsed = cpuSeconds(pid) - cpuStart;
    const after = await waiting();
    const rss = samples.map((s) => s.rss);
    const maxRss = Math.max(afterSubmits, ...rss);
    const idle = samples.filter((s) => s.cpu < IDLE_CPU).length;
    const fmt = (m: Map<string | number, number>) => [...m].map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(
      `machine         ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}, node ${process.version}`,
    );
    console.log(
      `soak            ${count} requests waiting for capacity, ${minutes} min of scaled time (LOCAL_TIME_SCALE ${TIME_SCALE}: ${(windowMs / 1000).toFixed(0)} s real)`,
    );
    console.log(`soak submit     ${fmt(statuses)} in ${(submitMs / 1000).toFixed(1)} s; before the window: ${fmt(before)}`);
    console.log(
      `soak rss        start ${started.toFixed(0)} MiB, after submits ${afterSubmits.toFixed(0)} MiB, window ${Math.min(...rss).toFixed(0)}–${Math.max(...rss).toFixed(0)} MiB, end ${rss.at(-1)!.toFixed(0)} MiB (bound ${RSS_BOUND_MIB} MiB: ${maxRss < RSS_BOUND_MIB ? 'held' : 'EXCEEDED'})`,
    );
    console.log(
      `soak cpu        ${((cpuUsed / (windowMs / 1000)) * 100).toFixed(1)} % of one core over the window; ${idle} of ${samples.length} one-second samples idle (< ${IDLE_CPU * 100} %); busiest second ${(Math.max(...samples.map((s) => s.cpu)) * 100).toFixed(0)} %`,
    );
    const attempts = tally.attempts - attemptsBefore;
    // Every wake of a waiting request writes one history entry (its next wait), whether it called the provider or not.
    const wakes = tally.history - historyBefore;
    const idleCpu = idleSamples.reduce((a, b) => a + b, 0) / idleSamples.length;
    console.log(
      `soak idle       nothing waiting (${idleSamples.length} s before the submits): ${(idleCpu * 100).toFixed(1)} % of one core; ${idleSamples.filter((c) => c < IDLE_CPU).length} of ${idleSamples.length} samples idle`,
    );
    console.log(
      `soak wakes      ${wakes} wakes in the window (one history entry each; ${(wakes / (windowMs / 1000)).toFixed(1)}/s real), ${attempts} of them a capacity wait (a refusal, or a round the shared memory skipped); ${wakes > 0 ? (((cpuUsed - idleCpu * (windowMs / 1000)) * 1000) / wakes).toFixed(1) : '-'} ms CPU per wake above the idle stack`,
    );
    const top = [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 4);
    console.log(`soak history    most written: ${top.map(([r, n]) => `${n} × "${r}"`).join('; ')}`);
    console.log(`soak after      ${fmt(after)}`);
    if (maxRss >= RSS_BOUND_MIB || (after.get('WAITING_FOR_CAPACITY') ?? 0) !== count) process.exitCode = 1;
  } finally {
    if (process.env.SOAK_LOG) (await import('node:fs')).writeFileSync(process.env.SOAK_LOG, output);
    child.kill('SIGKILL');
  }
};
