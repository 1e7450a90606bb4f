/**
 * End to end: `npm start`'s entry as a child process on a free port with its own data dir, driven by the real
 * `provision` CLI binary, for each provider; then a clean Ctrl-C.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/free-port';

const root = new URL('../..', import.meta.url).pathname;

const startStack = (env: Record<string, string>, args: string[] = ['--memory']) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', ...args], {
    cwd: root,
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', LOCAL_TIME_SCALE: '0.01', LOCAL_READY_AFTER_MS: '1500', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes('listening on')) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`stack exited with ${code}: ${output}`));
    });
  });
  return { child, ready, exited, output: () => output };
};

const cli = (args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ['cli/bin.mjs', ...args],
      { cwd: root, env: { ...process.env, PROVISION_WATCH_INTERVAL_MS: '200', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

let stack: ReturnType<typeof startStack> & { child: ChildProcess };
let api: string;
let dataDir: string;

const events = () =>
  readFileSync(join(dataDir, 'events.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(
      (line) =>
        JSON.parse(line) as { Source: string; DetailType: string; Detail: Record<string, unknown>; EventBusName: string; Time: string },
    );

beforeAll(async () => {
  const port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), 'provisioner-stack-'));
  api = `http://127.0.0.1:${port}`;
  stack = startStack({ PORT: String(port), DATA_DIR: dataDir });
  await stack.ready;
}, 90_000);

afterAll(async () => {
  if (stack.child.exitCode === null) stack.child.kill('SIGKILL');
});

describe('the local stack driven by the provision CLI', () => {
  it.each([
    ['sagemaker', 'examples/hyperpod-minimal.json', 'hyperpod-minimal-001'],
    ['tir', 'examples/tir-minimal.json', 'tir-minimal-001'],
  ])(
    'provisions the %s example to READY with a Cluster Ready event, then deletes it',
    async (provider, file, requestId) => {
      const submitted = await cli(['submit', file, '--watch', '--api', api]);
      expect(submitted.stderr).toBe('');
      expect(submitted.code).toBe(0);
      expect(submitted.stdout).toMatch(new RegExp(`${requestId} .*READY`));

      const ready = events().find((e) => e.DetailType === 'Cluster Ready' && e.Detail.requestId === requestId);
      expect(ready).toBeDefined();
      expect(Object.keys(ready!).sort()).toEqual(['Detail', 'DetailType', 'EventBusName', 'Source', 'Time']);
      expect(ready!.Detail).toMatchObject({ provider, status: 'READY' });

      const deleted = await cli(['delete', requestId, '--watch', '--api', api]);
      expect(deleted.code).toBe(0);
      expect(deleted.stdout).toMatch(/DELETED/);
      expect(events().some((e) => e.DetailType === 'Cluster Deleted' && e.Detail.requestId === requestId)).toBe(true);

      const status = await cli(['status', requestId, '--json', '--api', api]);
      expect(JSON.parse(status.stdout)).toMatchObject({ requestId, status: 'DELETED' });
    },
    60_000,
  );

  it('moves a shortage naming another zone to the alternative whose subnet is there, before the others', async () => {
    const submitted = await cli(['submit', 'examples/hyperpod-zones.json', '--api', api]);
    expect(submitted.code, submitted.stderr).toBe(0);
    type Entry = { placement: number; outcome: string; reason: string };
    const logOf = async () =>
      (JSON.parse((await cli(['status', 'hyperpod-zones-001', '--json', '--api', api])).stdout).attemptLog ?? []) as Entry[];
    // us-west-2 is short for p5en (local/account.json holds none), in the zone of the request's own subnet (us-west-2a);
    // EC2 names us-west-2b and -2c.
    await expect.poll(async () => (await logOf()).length, { timeout: 40_000, interval: 500 }).toBeGreaterThanOrEqual(4);
    const log = await logOf();
    expect(log.slice(0, 4).map((e) => [e.placement, e.outcome])).toEqual([
      [0, 'created'],
      [0, 'short'],
      [2, 'created'],
      [2, 'short'],
    ]);
    expect(log[1]!.reason).toContain(
      'EC2 names capacity in us-west-2b, us-west-2c: trying placement 2 next, its subnets lie in us-west-2b',
    );
    const human = await cli(['status', 'hyperpod-zones-001', '--api', api]);
    expect(human.stdout).toMatch(/EC2 named capacity in us-west-2b, us-west-2c \(short in us-west-2a\)/);
    // Then TIR (placement 1), where it lands.
    const done = await cli(['status', 'hyperpod-zones-001', '--watch', '--api', api]);
    expect(done.stdout).toMatch(/READY/);
    expect((await logOf()).slice(4).map((e) => [e.placement, e.outcome])).toEqual([[1, 'created']]);
    await cli(['delete', 'hyperpod-zones-001', '--watch', '--api', api]);
  }, 60_000);

  it('shows the capacity shortage in the watch output, then READY', async () => {
    const run = await cli(['submit', 'examples/hyperpod-capacity-shortage.json', '--watch', '--api', api]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /WAITING_FOR_CAPACITY · attempt \d+ · waiting for capacity · (provider \w+ 0\/4 nodes · )?(parked [^·]+ · )?(woken at \S+ · )?InsufficientCapacityError: We currently do not have sufficient ml\.p5\.48xlarge capacity/,
    );
    // Where it waits, as it happens: for its cluster's event while HyperPod creates it, for its turn while short.
    expect(run.stdout).toMatch(/CREATING +· attempt 1 · .*parked until the cluster's event \(poll at \d\d:\d\d:\d\dZ\)/);
    expect(run.stdout).toMatch(/WAITING_FOR_CAPACITY .*parked until its turn \(or \d\d:\d\d:\d\dZ\)/);
    expect(run.stdout).toMatch(/READY/);
  }, 60_000);

  it('falls the fallback example over from us-east-1 to us-west-2 to TIR, and the status tells the story', async () => {
    const run = await cli(['submit', 'examples/hyperpod-fallback.json', '--watch', '--api', api]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const status = JSON.parse((await cli(['status', 'hyperpod-fallback-001', '--json', '--api', api])).stdout);
    expect(status).toMatchObject({ status: 'READY', landed: { provider: 'tir', location: 'Delhi' } });
    // us-east-1 is short (found so now, or remembered from the shortage example before); us-west-2 is short too.
    const tried = (status.attemptLog as Array<{ where: string; outcome: string }>).filter((e) => e.outcome !== 'created');
    expect(tried.map((e) => e.where)).toEqual(['sagemaker us-east-1', 'sagemaker us-west-2']);
    expect(['short', 'skipped']).toContain(tried[0]!.outcome);
    expect(tried[1]!.outcome).toBe('short');
  }, 60_000);

  it('suggests priced reserved capacity to a p5 request once it has waited the (scaled) setting, and plans with sourced prices', async () => {
    const request = JSON.parse(readFileSync(join(root, 'examples', 'hyperpod-capacity-shortage.json'), 'utf8'));
    const file = join(dataDir, 'p5-west.json');
    // 8 × p5 in us-west-2, which holds 4 (local/account.json): short for as long as the test waits.
    const groups = request.cluster.InstanceGroups.map((g: Record<string, unknown>) => ({ ...g, InstanceCount: 8 }));
    const cluster = { ...request.cluster, InstanceGroups: groups };
    writeFileSync(file, JSON.stringify({ ...request, requestId: 'p5-west-001', region: 'us-west-2', cluster }));
    expect((await cli(['submit', file, '--api', api])).code).toBe(0);
    // The setting is 30 minutes, 18 s at LOCAL_TIME_SCALE 0.01.
    const offersOf = async () => JSON.parse((await cli(['status', 'p5-west-001', '--json', '--api', api])).stdout).reservedOffers;
    await expect.poll(offersOf, { timeout: 50_000, interval: 1000 }).toBeDefined();
    const offers = await offersOf();
    expect(Date.parse(offers.at) - Date.parse(offers.waitingSince)).toBeGreaterThanOrEqual(18_000);
    expect(offers.suggestions[0]).toMatchObject({
      instanceType: 'ml.p5.48xlarge',
      instanceCount: 8,
      availabilityZone: 'us-west-2a',
      durationHours: 24,
      currency: 'USD',
      source: 'SageMaker SearchTrainingPlanOfferings, us-west-2',
    });
    expect(offers.suggestions[0].upfrontFee).toBeGreaterThan(0);
    expect(offers.suggestions[0].onDemand.source).toMatch(/^AWS Price List Query API \(GetProducts, AmazonSageMaker, us-west-2/);
    const human = (await cli(['status', 'p5-west-001', '--api', api])).stdout;
    expect(human).toContain('reserved capacity (training-plan offerings, not bought');
    expect(human).toMatch(
      /8 x ml\.p5\.48xlarge sagemaker us-west-2 \(us-west-2a\): offering tpo-\w+, from \S+ for 24 h, upfront [\d.]+ USD/,
    );
    // The waiting notification carries them: a Cluster Waiting For Capacity event with wait.reservedOffers.
    expect(
      events().some(
        (e) =>
          e.DetailType === 'Cluster Waiting For Capacity' &&
          e.Detail.requestId === 'p5-west-001' &&
          'reservedOffers' in (e.Detail.wait as object),
      ),
    ).toBe(true);
    await cli(['delete', 'p5-west-001', '--watch', '--api', api]);

    const plan = await cli(['plan', 'examples/hyperpod-capacity-shortage.json', '--api', api]);
    expect(plan.stdout).toMatch(
      /cost: USD 452\.27\/h.*\[AWS Price List Query API \(GetProducts, AmazonSageMaker, us-east-1, component Training/,
    );
    expect(plan.stdout).toContain('prices from the AWS Price List API');
  }, 90_000);

  it('accepts a request through the local SQS intake and lists it', async () => {
    const sent = await cli(['submit', 'test/fixtures/requests/tir-sqs.json', '--via', 'sqs', '--watch', '--api', api]);
    expect(sent.code).toBe(0);
    const list = await cli(['list', '--provider', 'tir', '--json', '--api', api]);
    expect(JSON.parse(list.stdout).items.map((i: { requestId: string }) => i.requestId)).toContain('tir-sqs-001');
  }, 60_000);

  it('says clearly when the port is taken', async () => {
    const second = startStack({ PORT: new URL(api).port, DATA_DIR: mkdtempSync(join(tmpdir(), 'provisioner-stack-')) });
    second.ready.catch(() => undefined); // it is expected never to be ready
    const code = await second.exited;
    expect(code).toBe(1);
    expect(second.output()).toMatch(/Port \d+ is taken/);
  }, 60_000);

  it('explains an unreachable API and exits 2', async () => {
    const run = await cli(['status', 'x', '--api', 'http://127.0.0.1:9']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Cannot reach the provisioner API at http:\/\/127.0.0.1:9 .*npm start/);
  });

  it('shuts down cleanly on Ctrl-C', async () => {
    stack.child.kill('SIGINT');
    expect(await stack.exited).toBe(0);
    expect(stack.output()).toMatch(/SIGINT: shutting down/);
  }, 30_000);
});

describe('kill -9 of the local stack, then a restart on the same data', () => {
  it('heals every request: each ends READY with one cluster and one announcement', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'provisioner-kill-'));
    // Clusters take 10 s to come up: time to see both CREATING through the CLI, even on a loaded machine.
    const env = { PORT: String(port), DATA_DIR: dir, LOCAL_READY_AFTER_MS: '10000' };
    const url = `http://127.0.0.1:${port}`;
    const first = startStack(env, []);
    await first.ready;
    for (const file of ['examples/hyperpod-minimal.json', 'examples/tir-minimal.json']) {
      expect((await cli(['submit', file, '--api', url])).code).toBe(0);
    }
    const ids = ['hyperpod-minimal-001', 'tir-minimal-001'];
    // Both are being created at the provider when the stack dies.
    for (const id of ids) {
      await expect
        .poll(async () => JSON.parse((await cli(['status', id, '--json', '--api', url])).stdout).status, { timeout: 20_000, interval: 200 })
        .toBe('CREATING');
    }
    first.child.kill('SIGKILL');
    await first.exited;

    const second = startStack(env, []);
    try {
      await second.ready;
      for (const id of ids) {
        const watched = await cli(['status', id, '--watch', '--api', url]);
        expect(watched.code, watched.stdout + watched.stderr).toBe(0);
        expect(watched.stdout).toMatch(/READY/);
      }
      const lines = readFileSync(join(dir, 'events.ndjson'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { DetailType: string; Detail: { requestId: string } });
      for (const id of ids)
        expect(
          lines.filter((e) => e.DetailType === 'Cluster Ready' && e.Detail.requestId === id),
          id,
        ).toHaveLength(1);
      const hyperpod = JSON.parse(readFileSync(join(dir, 'sagemaker-state.json'), 'utf8')) as { clusters: Array<{ name: string }> };
      expect(hyperpod.clusters.filter((c) => c.name === 'demo-g5')).toHaveLength(1);
      const reconciled = await cli(['reconcile', '--api', url]);
      expect(reconciled.code).toBe(0);
      expect(reconciled.stdout).toMatch(/checked \d+ record\(s\); nothing to resume/);
    } finally {
      second.child.kill('SIGKILL');
    }
  }, 120_000);
});
