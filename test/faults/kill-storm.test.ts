/**
 * kill -9 storms on the real local stack (`npm start`'s entry, a child process, its data on disk: dynalite, the
 * simulators' state files): FAULT_STORMS storms (default 3; 50 for the full run), each FAULT_STORM_REQUESTS requests
 * (default 20, HyperPod and TIR mixed) with the stack killed FAULT_STORM_KILLS times (default 3) at seeded moments,
 * restarted on the same data each time. Every request must end READY with exactly one cluster at its provider: nothing
 * stuck, whatever write a kill interrupted (dynalite writes an item and its index entries as separate steps).
 * Prints one `[fault-scenario]` line of figures. Minutes per storm: outside `npm test`, run by `npm run test:storms`
 * (FAULT_STORMS=50 for the full run).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../local/free-port';

const root = new URL('../..', import.meta.url).pathname;
const STORMS = Number(process.env.FAULT_STORMS ?? 3);
const REQUESTS = Number(process.env.FAULT_STORM_REQUESTS ?? 20);
const KILLS = Number(process.env.FAULT_STORM_KILLS ?? 3);
/** How long after the last restart a request may take to end READY (real time; the reconciler runs every 3 s). */
const SETTLE_MS = 90_000;

const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const startStack = async (env: Record<string, string>) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: root,
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', LOCAL_TIME_SCALE: '0.01', LOCAL_READY_AFTER_MS: '3000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const until = Date.now() + 120_000;
  while (!output.includes('listening on')) {
    if (child.exitCode !== null) throw new Error(`the stack exited: ${output}`);
    if (Date.now() > until) throw new Error(`the stack did not start: ${output}`);
    await sleep(100);
  }
  return {
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
};

const request = (storm: number, i: number) =>
  i % 2 === 0
    ? {
        requestId: `storm-${storm}-${i}`,
        provider: 'sagemaker',
        cluster: {
          ClusterName: `storm-${storm}-${i}`,
          InstanceGroups: [
            {
              InstanceGroupName: 'workers',
              InstanceCount: 1,
              InstanceType: 'ml.g5.2xlarge',
              LifeCycleConfig: { SourceS3Uri: 's3://sagemaker-demo-lifecycle/hyperpod/', OnCreate: 'on_create.sh' },
              ExecutionRole: 'arn:aws:iam::123456789012:role/HyperPodExecutionRole',
            },
          ],
        },
      }
    : {
        requestId: `storm-${storm}-${i}`,
        provider: 'tir',
        projectId: 12345,
        location: 'Delhi',
        cluster: {
          name: `storm-${storm}-${i}`,
          image_version_id: 101,
          ssh_key_ids: [2001],
          security_group_id: 301,
          sku_id: 401,
          no_of_nodes: 1,
          sku_item_price_id: 501,
        },
      };

/** Clusters per name in a simulator's state file (it is written before every answer). */
const clustersPerName = (file: string): Map<string, number> => {
  const counts = new Map<string, number>();
  if (!existsSync(file)) return counts;
  const state = JSON.parse(readFileSync(file, 'utf8')) as { clusters: Array<{ name: string }> };
  for (const c of state.clusters) counts.set(c.name, (counts.get(c.name) ?? 0) + 1);
  return counts;
};

describe('kill -9 storms on the local stack', () => {
  it(
    `${STORMS} seeded storms of ${REQUESTS} requests, ${KILLS} kills each: every request READY with one cluster, none stuck`,
    async () => {
      const t0 = Date.now();
      const stuck: Array<{ requestId: string; status: string }> = [];
      const notOne: Array<{ requestId: string; clusters: number }> = [];
      let submitted = 0;
      let unprovable = 0;
      for (let storm = 0; storm < STORMS; storm++) {
        const random = seeded(storm + 1);
        const dir = mkdtempSync(join(tmpdir(), 'provisioner-storm-'));
        const port = await freePort();
        const api = `http://127.0.0.1:${port}`;
        const env = { PORT: String(port), DATA_DIR: dir };
        let stack = await startStack(env);
        const accepted = new Set<string>();
        /** Submits what has no 202 yet (a client retries a submit its connection lost); a kill stops the round. */
        const submitAll = async () => {
          for (let i = 0; i < REQUESTS; i++) {
            const body = request(storm, i);
            if (accepted.has(body.requestId)) continue;
            try {
              const res = await fetch(`${api}/clusters`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify(body),
              });
              if (res.status === 202 || res.status === 200) accepted.add(body.requestId);
              else throw new Error(`submit answered ${res.status}: ${await res.text()}`);
            } catch (err) {
              if ((err as Error).message.startsWith('submit answered')) throw err;
              return; // the stack is down
            }
          }
        };
        for (let kill = 0; kill < KILLS; kill++) {
          const submitting = submitAll();
          await sleep(200 + random() * 4_000);
          await stack.kill();
          await submitting;
          stack = await startStack(env);
        }
        await submitAll();
        expect(accepted.size).toBe(REQUESTS);
        submitted += accepted.size;
        const statuses = new Map<string, string>();
        const until = Date.now() + SETTLE_MS;
        for (;;) {
          for (const id of accepted) {
            if (statuses.get(id) === 'READY') continue;
            const res = await fetch(`${api}/clusters/${id}`);
            statuses.set(id, res.ok ? ((await res.json()) as { status: string }).status : `HTTP ${res.status}`);
          }
          if ([...statuses.values()].every((s) => s === 'READY') || Date.now() > until) break;
          await sleep(1000);
        }
        for (const [requestId, status] of statuses) {
          if (status === 'READY') continue;
          // A kill between TIR's create answer and the record write: TIR hands back no owner marker, so the cluster
          // cannot be proven this request's and is neither adopted nor deleted; the record waits, saying so
          // (docs/workflow.md, "Exactly one cluster per request"). Counted apart; anything else is stuck.
          const record = (await (await fetch(`${api}/clusters/${requestId}`)).json()) as {
            provider: string;
            lastError?: { reason?: string };
          };
          if (status === 'WAITING_FOR_CAPACITY' && record.provider === 'tir' && record.lastError?.reason === 'name-in-use') unprovable++;
          else stuck.push({ requestId, status });
        }
        await stack.kill();
        const clusters = new Map([...clustersPerName(join(dir, 'sagemaker-state.json')), ...clustersPerName(join(dir, 'tir-state.json'))]);
        for (const requestId of accepted) {
          const count = clusters.get(requestId) ?? 0;
          if (count !== 1) notOne.push({ requestId, clusters: count });
        }
        // Each storm leaves its outcome beside its data, so a long run can be followed and a stuck request examined
        // on the stack's own files (DATA_DIR) while the next storms run.
        const outcome = { storm, statuses: Object.fromEntries(statuses), stuck: stuck.length, notOne: notOne.length, unprovable };
        writeFileSync(join(dir, 'storm-outcome.json'), JSON.stringify(outcome, null, 2));
        console.log(`[fault-scenario] storm ${storm}: ${JSON.stringify({ ...outcome, statuses: undefined })}`);
      }
      console.log(
        `[fault-scenario] kill -9 storms: storms=${STORMS} requests=${submitted} kills_per_storm=${KILLS} stuck=${stuck.length} tir_unprovable_waiting=${unprovable} not_one_cluster=${notOne.length} wall_s=${((Date.now() - t0) / 1000).toFixed(0)}`,
      );
      expect(stuck).toEqual([]);
      expect(notOne).toEqual([]);
    },
    STORMS * 400_000,
  );
});
