/**
 * The local stack's environment, from the one table of the functions' variables (functions/contract/environment.js):
 * the values the stack sets, the settings of `npm start` with their defaults, what it removes and what it leaves as it
 * was started with; and the handler loader finding every function serverless.yml names.
 */
import { describe, expect, it } from 'vitest';
import { ENV, VARIABLES, type EnvKey, type LocalContext } from '../../functions/contract/environment.js';
import { localEnvironment } from '../../local/environment';
import { createHandlerLoader } from '../../local/handlers';
import { ACCOUNT, LOCAL_PRINCIPAL, REGION, STAGE_PREFIX } from '../../local/identity';
import { LOCAL_SETTINGS } from '../../local/settings';
import { taskFunctionKeys } from '../../local/workflow-wiring';

const context = (env: Record<string, string | undefined> = {}, tir = true): LocalContext => ({
  region: REGION,
  account: ACCOUNT,
  prefix: STAGE_PREFIX,
  principal: LOCAL_PRINCIPAL,
  timeScale: 0.02,
  env,
  ...(tir ? { tirSimulator: { baseUrl: 'http://127.0.0.1:9/myaccount/api/v1/gpu', apiKey: 'key', authToken: 'token' } } : {}),
  newKey: () => 'fresh-key',
});

describe('the local stack environment', () => {
  it('names the deployment-made resources as the local stack spells them', () => {
    const env = localEnvironment(context());
    expect(env[ENV.clustersTable]).toBe('gpu-cluster-provisioner-local-clusters');
    expect(env[ENV.offeringsTable]).toBe('gpu-cluster-provisioner-local-offerings');
    expect(env[ENV.eventBusName]).toBe('gpu-cluster-provisioner-local');
    expect(env[ENV.provisionStateMachineArn]).toBe(
      'arn:aws:states:us-east-1:000000000000:stateMachine:gpu-cluster-provisioner-local-provision-cluster',
    );
    expect(env[ENV.scheduleTargetArn]).toBe('arn:aws:lambda:us-east-1:000000000000:function:gpu-cluster-provisioner-local-scheduleTarget');
    expect(env[ENV.planFunctionName]).toBe('gpu-cluster-provisioner-local-plan');
    expect(env[ENV.adminPrincipals]).toBe('arn:aws:iam::000000000000:user/local');
    expect(env[ENV.awsRegion]).toBe('us-east-1');
    expect(env[ENV.notifyAllowLoopback]).toBe('true');
  });

  it('uses the TIR simulator and its credentials, and removes the deployed secret', () => {
    const env = localEnvironment(context());
    expect(env[ENV.tirApiBaseUrl]).toBe('http://127.0.0.1:9/myaccount/api/v1/gpu');
    expect([env[ENV.tirApiKey], env[ENV.tirAuthToken]]).toEqual(['key', 'token']);
    expect(ENV.tirCredentialsSecretArn in env).toBe(true);
    expect(env[ENV.tirCredentialsSecretArn]).toBeUndefined();
  });

  it('leaves a TIR API given at start, and its credentials, as they are', () => {
    const env = localEnvironment(context({ [ENV.tirApiBaseUrl]: 'https://tir.example' }, false));
    for (const name of [ENV.tirApiBaseUrl, ENV.tirApiKey, ENV.tirAuthToken]) expect(name in env, name).toBe(false);
  });

  it('takes each setting from the environment when set, else its local default', () => {
    const defaults = localEnvironment(context());
    expect(defaults[ENV.allowedRegions]).toBe('us-east-1,us-west-2');
    expect(defaults[ENV.preflightDefault]).toBe('false');
    expect(defaults[ENV.notifySnsTopics]).toBe('arn:aws:sns:us-east-1:000000000000:*');
    const given = localEnvironment(context({ [ENV.allowedRegions]: ' eu-west-1 ', [ENV.preflightDefault]: '  ' }));
    expect(given[ENV.allowedRegions]).toBe('eu-west-1');
    expect(given[ENV.preflightDefault]).toBe('false');
    // The settings are exactly the variables the table marks as settings.
    const marked = (Object.keys(VARIABLES) as EnvKey[]).filter((key) => VARIABLES[key].local === 'setting').map((key) => ENV[key]);
    expect(Object.keys(LOCAL_SETTINGS).sort()).toEqual(marked.sort());
  });

  it('keeps the cursor key and the reserved-offers wait given at start, else makes them', () => {
    expect(localEnvironment(context())[ENV.cursorKey]).toBe('fresh-key');
    expect(localEnvironment(context({ [ENV.cursorKey]: 'shared' }))[ENV.cursorKey]).toBe('shared');
    expect(localEnvironment(context())[ENV.reservedOffersAfterSeconds]).toBe('36');
    expect(localEnvironment(context({ [ENV.reservedOffersAfterSeconds]: '5' }))[ENV.reservedOffersAfterSeconds]).toBe('5');
  });

  it('leaves what the deployment does not set locally as the stack was started with', () => {
    const env = localEnvironment(context());
    for (const name of [ENV.hyperPodEventRegions, ENV.notifySecretPrefix, ENV.sweepGraceSeconds, ENV.priceList]) {
      expect(name in env, name).toBe(false);
    }
  });
});

describe('the handler loader', () => {
  const loader = createHandlerLoader();

  it("reads each function's handler from serverless.yml", () => {
    expect(loader.handlerPath('createCluster')).toEqual({ module: 'functions/handlers/tasks/create-cluster', exportName: 'handler' });
    expect(loader.handlerPath('httpSubmit')).toEqual({ module: 'functions/handlers/http/submit', exportName: 'handler' });
    expect(() => loader.handlerPath('noSuchFunction')).toThrow(/no function noSuchFunction/);
  });

  it('knows every function the state machines and the table of variables name', () => {
    for (const key of taskFunctionKeys()) expect(loader.functionKeys, key).toContain(key);
    for (const key of Object.keys(VARIABLES) as EnvKey[]) {
      const { readBy } = VARIABLES[key];
      if (readBy !== 'all')
        for (const functionKey of readBy) expect(loader.functionKeys, `${ENV[key]}: ${functionKey}`).toContain(functionKey);
    }
  });

  it('loads every handler serverless.yml names', async () => {
    await loader.preload();
    for (const key of loader.functionKeys) expect(typeof (await loader.handler(key)), key).toBe('function');
  });
});
