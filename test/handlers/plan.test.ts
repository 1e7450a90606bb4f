/**
 * The plan through the HTTP API: `POST /clusters?dryRun=true` and a submit with `preflight`, the submit handler
 * reaching the plan function by a real Lambda Invoke (local/simulators/lambda.ts) whose handler reads the account
 * simulator, the SageMaker simulator and the TIR simulator through the real SDK. Every answer is checked against the
 * OpenAPI document; nothing is recorded or started by a plan or a refused submit.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLambdaPlanner } from '../../functions/adapters/lambda-planner';
import { createAwsProbes } from '../../functions/adapters/preflight-aws';
import { createTirProbes } from '../../functions/adapters/preflight-tir';
import type { EventEntry } from '../../functions/core/events';
import { intake } from '../../functions/core/intake';
import type { PlanDeps } from '../../functions/core/plan';
import type { SubmitDeps, WorkflowStarter } from '../../functions/core/submit';
import { makeHandler as makePlan } from '../../functions/handlers/plan';
import { makeHandler as makeSubmit } from '../../functions/handlers/http/submit';
import type { HttpResult } from '../../functions/platform/middleware/http';
import { startAccountSimulator, type AccountFixture, type AccountSimulator } from '../../local/simulators/account';
import { startLambdaSimulator, type LambdaSimulator } from '../../local/simulators/lambda';
import { startSageMakerSimulator, type SageMakerSimulator } from '../../local/simulators/sagemaker';
import { startTirSimulator, type TirSimulator } from '../../local/simulators/tir';
import { MemoryStore } from '../fakes/memory-store';
import { httpEvent, lambdaContext } from '../fixtures/events';
import { validateResponse } from '../helpers/openapi';

const FIXTURE = JSON.parse(readFileSync(new URL('../../local/account.json', import.meta.url), 'utf8')) as AccountFixture;
const example = (name: string) => {
  const { $schema: _s, ...request } = JSON.parse(readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
  return request;
};

type Handler = (event: ReturnType<typeof httpEvent>, context: ReturnType<typeof lambdaContext>) => Promise<HttpResult>;

describe('the plan through POST /clusters', () => {
  let account: AccountSimulator;
  let sagemaker: SageMakerSimulator;
  let tir: TirSimulator;
  let lambda: LambdaSimulator;
  const saved: Record<string, string | undefined> = {};
  const store = new MemoryStore();
  const started: string[] = [];
  const starter: WorkflowStarter = {
    startProvisioning: async (requestId) => {
      started.push(requestId);
      return { executionArn: `arn:aws:states:us-east-1:123456789012:execution:provision:${requestId}`, alreadyStarted: false };
    },
    startDeletion: async () => ({ executionArn: 'x', alreadyStarted: false }),
  };
  let failPlanFunction = false;
  let deps: SubmitDeps;

  beforeAll(async () => {
    account = await startAccountSimulator({ fixture: FIXTURE });
    sagemaker = await startSageMakerSimulator({ trainingPlans: FIXTURE.trainingPlans ?? [] });
    tir = await startTirSimulator({});
    const planDeps: PlanDeps = {
      probes: {
        ...createAwsProbes(),
        ...createTirProbes({ baseUrl: tir.baseUrl, credentials: async () => ({ apiKey: tir.apiKey, authToken: tir.authToken }) }),
      },
      defaultRegion: 'us-east-1',
    };
    const plan = makePlan(() => planDeps) as unknown as (event: unknown, context: unknown) => Promise<unknown>;
    lambda = await startLambdaSimulator({
      functions: {
        'gpu-cluster-provisioner-test-plan': async (event, context) => {
          if (failPlanFunction) throw new Error('boom');
          return plan(event, context);
        },
      },
      context: () => lambdaContext(),
    });
    const env = {
      ...account.environment,
      AWS_ENDPOINT_URL_SAGEMAKER: sagemaker.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    };
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    deps = {
      store,
      starter,
      defaultRegion: 'us-east-1',
      planner: createLambdaPlanner({ functionName: 'arn:aws:lambda:us-east-1:123456789012:function:gpu-cluster-provisioner-test-plan' }),
    };
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await Promise.all([account.close(), sagemaker.close(), tir.close(), lambda.close()]);
  });

  const post = async (body: unknown, query?: Record<string, string>, d: () => SubmitDeps = () => deps) => {
    const handler = makeSubmit(d) as unknown as Handler;
    const result = await handler(
      httpEvent('POST /clusters', '/clusters', { body: JSON.stringify(body), ...(query ? { query } : {}) }),
      lambdaContext(),
    );
    const parsed = result.body ? JSON.parse(result.body) : undefined;
    validateResponse('POST /clusters', result.statusCode!, parsed);
    return { status: result.statusCode!, body: parsed };
  };

  it('answers ?dryRun=true with the plan of every placement through the plan function, recording and starting nothing', async () => {
    const res = await post(example('hyperpod-fallback.json'), { dryRun: 'true' });
    expect(res.status).toBe(200);
    expect(res.body.placements.map((p: { where: string }) => p.where)).toEqual(['sagemaker us-east-1', 'sagemaker us-west-2', 'tir Delhi']);
    // the alternative in us-west-2 has a quota of 2 for the 4 it asks: it can never fit there
    const west = res.body.placements[1].checks.find((c: { check: string }) => c.check === 'quota');
    expect(west).toMatchObject({ status: 'fail', path: '/alternatives/0/patch' });
    expect(res.body.ok).toBe(false);
    expect(lambda.requests.some((r) => r.operation === 'Invoke')).toBe(true);
    expect(store.all()).toEqual([]);
    expect(started).toEqual([]);
  });

  it('validates a dry run exactly as a submit: the same 400 with the same pointers', async () => {
    const bad = { ...example('hyperpod-minimal.json'), region: 'nowhere', cluster: { ClusterName: '-x' } };
    const planned = await post(bad, { dryRun: 'true' });
    const submitted = await post(bad);
    expect(planned.status).toBe(400);
    expect(planned.body).toEqual(submitted.body);
    const query = await post(example('hyperpod-minimal.json'), { dryRun: 'yes' });
    expect(query).toMatchObject({ status: 400, body: { errors: [{ path: '/queryStringParameters/dryRun' }] } });
    expect(store.all()).toEqual([]);
  });

  it('refuses a submit with preflight: true whose plan fails, with 422 and the failing checks, before any record or start', async () => {
    const request = { ...example('hyperpod-fallback.json'), requestId: 'preflight-refused', preflight: true };
    const res = await post(request);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('PreflightFailed');
    expect(res.body.errors).toEqual([expect.objectContaining({ path: '/alternatives/0/patch' })]);
    expect(res.body.errors[0].message).toMatch(/^quota \(sagemaker us-west-2, ml\.p5e\.48xlarge\): the request needs 4, the limit is 2/);
    expect(await store.get('preflight-refused')).toBeUndefined();
    expect(started).toEqual([]);
  });

  it('accepts a submit whose plan passes, and does not record preflight as part of the request', async () => {
    const request = { ...example('hyperpod-minimal.json'), requestId: 'preflight-passed', preflight: true };
    const res = await post(request);
    expect(res.status).toBe(202);
    const record = await store.require('preflight-passed');
    expect(record.request).not.toHaveProperty('preflight');
    expect(started).toEqual(['preflight-passed']);
    // the same request without preflight is the same request (a replay), not a conflict
    const { preflight: _p, ...plain } = request;
    expect((await post(plain)).status).toBe(200);
  });

  it("plans every request when the deployment's default says so, unless the request opts out", async () => {
    const byDefault = () => ({ ...deps, preflightByDefault: true });
    const request = { ...example('hyperpod-fallback.json'), requestId: 'default-preflight' };
    expect((await post(request, undefined, byDefault)).status).toBe(422);
    expect(await store.get('default-preflight')).toBeUndefined();
    expect((await post({ ...request, preflight: false }, undefined, byDefault)).status).toBe(202);
  });

  it('answers a dry run with 503 when the plan function fails, and lets a preflight submit through', async () => {
    failPlanFunction = true;
    try {
      const res = await post(example('hyperpod-minimal.json'), { dryRun: 'true' });
      expect(res).toMatchObject({ status: 503, body: { code: 'PlanUnavailable' } });
      const submitted = await post({ ...example('hyperpod-minimal.json'), requestId: 'plan-down', preflight: true });
      expect(submitted.status).toBe(202);
    } finally {
      failPlanFunction = false;
    }
  });

  it('rejects a preflight request on the asynchronous ways in with a rejection event naming the failed checks, recording nothing', async () => {
    const published: EventEntry[] = [];
    const result = await intake(
      { ...deps, events: { publish: async (entries: EventEntry[]) => void published.push(...entries) }, eventBusName: 'bus' },
      { ...example('hyperpod-fallback.json'), requestId: 'queued-preflight', preflight: true },
      { source: 'sqs', messageId: 'm-1' },
    );
    expect(result).toMatchObject({ outcome: 'rejected', detail: { reason: 'invalid-request', requestId: 'queued-preflight' } });
    expect(result.outcome === 'rejected' && result.detail.errors.map((e) => e.path)).toEqual(['/alternatives/0/patch']);
    expect(published).toHaveLength(1);
    expect(await store.get('queued-preflight')).toBeUndefined();
  });

  it('answers a direct invoke of the plan function with the validation errors of a bad request', async () => {
    const plan = makePlan(() => ({ probes: {} as PlanDeps['probes'], defaultRegion: 'us-east-1' })) as unknown as (
      e: unknown,
      c: unknown,
    ) => Promise<unknown>;
    const answer = (await plan({ request: { provider: 'sagemaker' } }, lambdaContext())) as { invalid: Array<{ path: string }> };
    expect(answer.invalid.map((e) => e.path)).toContain('/cluster');
  });
});
