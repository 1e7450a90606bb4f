import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../functions/contract/errors.js';
import * as errors from '../../functions/core/errors';
import {
  SETTINGS,
  applySettings,
  bindLambdaTasks,
  deleteClusterAsl,
  isCallbackTask,
  lambdaFunctionKey,
  provisionClusterAsl,
} from '../../statemachines/definitions.js';

type State = {
  Type: string;
  Next?: string;
  Default?: string;
  End?: boolean;
  Choices?: Array<{ Next: string }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  Retry?: Array<{
    ErrorEquals: string[];
    IntervalSeconds?: number;
    MaxAttempts?: number;
    MaxDelaySeconds?: number;
    BackoffRate?: number;
    JitterStrategy?: string;
  }>;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  Resource?: unknown;
  Parameters?: Record<string, unknown>;
};
type Definition = { StartAt: string; States: Record<string, State> };

const machines: Array<[string, () => Definition]> = [
  ['provision-cluster', provisionClusterAsl as () => Definition],
  ['delete-cluster', deleteClusterAsl as () => Definition],
];

const LAMBDA_TRANSIENT = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** Name and retryable flag of every exported error class (read from an instance: class fields are set by the constructor). */
const errorClasses = (): Map<string, boolean> => {
  const classes = new Map<string, boolean>();
  for (const value of Object.values(errors)) {
    if (typeof value !== 'function' || !(value.prototype instanceof errors.ProvisionerError)) continue;
    const Class = value as unknown as new (arg: unknown) => { name: string; retryable: boolean };
    // A validation error (PreflightFailedError is one) takes its field errors first.
    const validation = value === errors.RequestValidationError || value.prototype instanceof errors.RequestValidationError;
    const instance = new Class(validation ? [] : 'x');
    classes.set(instance.name, instance.retryable);
  }
  return classes;
};
const exportedErrorNames = (): Set<string> => new Set(errorClasses().keys());

const successors = (state: State): string[] => [
  ...(state.Next ? [state.Next] : []),
  ...(state.Default ? [state.Default] : []),
  ...(state.Choices ?? []).map((c) => c.Next),
  ...(state.Catch ?? []).map((c) => c.Next),
];

it("has an error class for every error name of the contract, each with the contract's retryable flag", () => {
  expect([...exportedErrorNames()].sort()).toEqual([...errors.ERROR_NAMES].sort());
  for (const [name, retryable] of errorClasses()) expect(retryable, name).toBe(ERRORS[name as keyof typeof ERRORS].retryable);
});

describe.each(machines)('%s.asl.json', (_name, load) => {
  const definition = load();
  const states = Object.entries(definition.States);

  it('is accepted by asl-validator as committed and as deployed (settings applied, tasks bound)', () => {
    const committed = aslValidator(definition as never);
    expect(committed.errors).toEqual([]);
    expect(committed.isValid).toBe(true);
    const machine = _name.startsWith('provision') ? 'provision' : 'delete';
    const bound = bindLambdaTasks(
      applySettings(definition, machine, {}),
      (key: string) => `arn:aws:lambda:eu-west-1:123456789012:function:svc-${key}`,
    );
    expect(aslValidator(bound as never).isValid).toBe(true);
  });

  it('waits out a store outage that outlasts the retries: every Lambda task but the failure records catches StoreUnavailableError first, to a Wait that returns to it', () => {
    for (const [name, state] of states) {
      if (lambdaFunctionKey(state) === undefined || isCallbackTask(state) || /Failure$/.test(name)) continue;
      const first = state.Catch?.[0];
      expect(first?.ErrorEquals, name).toContain('StoreUnavailableError');
      const wait = definition.States[first!.Next]!;
      expect(wait, name).toMatchObject({ Type: 'Wait', Next: name });
      expect((wait as { Seconds?: number }).Seconds, name).toBeGreaterThanOrEqual(30);
    }
  });

  it('names in ErrorEquals only States.*, Lambda.*, Sandbox.Timedout (a Lambda that ran out of time) or an exported error class', () => {
    const known = exportedErrorNames();
    for (const [, state] of states) {
      for (const rule of [...(state.Retry ?? []), ...(state.Catch ?? [])]) {
        for (const name of rule.ErrorEquals) {
          if (name.startsWith('States.') || name.startsWith('Lambda.') || name === 'Sandbox.Timedout') continue;
          expect(known, `${name} must be an exported error class`).toContain(name);
          expect(errors.ERROR_NAMES).toContain(name);
        }
      }
    }
  });

  it('gives every Lambda task the transient Lambda retry, a timeout and a catch-all', () => {
    const lambdaTasks = states.filter(([, s]) => lambdaFunctionKey(s) !== undefined);
    expect(lambdaTasks.length).toBeGreaterThan(0);
    for (const [stateName, state] of lambdaTasks) {
      const transient = (state.Retry ?? []).find((r) => LAMBDA_TRANSIENT.every((n) => r.ErrorEquals.includes(n)));
      expect(transient, `${stateName} lacks the Lambda transient retry`).toBeDefined();
      expect(transient!.MaxAttempts).toBeGreaterThan(0);
      if (isCallbackTask(state)) {
        // A parked wait: its timeout is the wait itself, and ends it (Catch States.Timeout), never a retry.
        expect(state.TimeoutSecondsPath, `${stateName} lacks TimeoutSecondsPath`).toMatch(/^\$\./);
        expect(transient!.ErrorEquals, stateName).not.toContain('States.Timeout');
        expect(state.Catch?.[0], stateName).toMatchObject({ ErrorEquals: ['States.Timeout'], Next: state.Next });
      } else expect(state.TimeoutSeconds, `${stateName} lacks TimeoutSeconds`).toBeGreaterThan(0);
    }
    // Every task that can fail the provisioning leads to the failure recording, except the recorders themselves.
    for (const [stateName, state] of lambdaTasks) {
      if (/^RecordFailure$|^RecordDeletionFailure$/.test(stateName)) continue;
      expect(
        state.Catch?.some((c) => c.ErrorEquals.includes('States.ALL')),
        `${stateName} lacks a catch-all`,
      ).toBe(true);
    }
  });

  it('bounds every retrier: attempts, a delay cap and full jitter', () => {
    for (const [, state] of states) {
      for (const retry of state.Retry ?? []) {
        expect(retry.MaxAttempts).toBeGreaterThan(0);
        expect(retry.MaxAttempts).toBeLessThanOrEqual(20);
        expect(retry.MaxDelaySeconds).toBeGreaterThan(0);
        expect(retry.JitterStrategy).toBe('FULL');
      }
    }
  });

  it('has every Next, Default and Catch target defined, and every state reachable', () => {
    const names = new Set(Object.keys(definition.States));
    expect(names).toContain(definition.StartAt);
    const reached = new Set<string>([definition.StartAt]);
    const queue = [definition.StartAt];
    while (queue.length) {
      const state = definition.States[queue.shift()!]!;
      for (const next of successors(state)) {
        expect(names, `unknown state ${next}`).toContain(next);
        if (!reached.has(next)) {
          reached.add(next);
          queue.push(next);
        }
      }
    }
    expect([...reached].sort()).toEqual([...names].sort());
  });
});

describe('provision-cluster retry policy', () => {
  const definition = provisionClusterAsl() as Definition;
  const create = definition.States.CreateCluster!;

  it('waits out capacity and quota in the workflow itself: CreateCluster answers WAIT and a parked wait backs off', () => {
    const after = definition.States.AfterCreate! as State & { Choices: Array<{ Variable: string; StringEquals: string; Next: string }> };
    expect(create.Next).toBe('AfterCreate');
    expect(after.Choices).toContainEqual(
      expect.objectContaining({ Variable: '$.create.action', StringEquals: 'WAIT', Next: 'ParkToRetry' }),
    );
    // Parked for the backoff (a probe that finds capacity may wake it sooner); the plain Wait if the park fails.
    expect(definition.States.ParkToRetry).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      TimeoutSecondsPath: '$.create.waitSeconds',
      Next: 'CreateCluster',
    });
    expect(definition.States.ParkToRetry!.Catch).toEqual([
      { ErrorEquals: ['States.Timeout'], ResultPath: null, Next: 'CreateCluster' },
      { ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'WaitToRetry' },
    ]);
    expect(definition.States.WaitToRetry).toMatchObject({ Type: 'Wait', SecondsPath: '$.create.waitSeconds', Next: 'CreateCluster' });
    const ready = definition.States.IsClusterReady! as State & { Choices: Array<{ StringEquals: string; Next: string }> };
    expect(ready.Choices).toContainEqual(expect.objectContaining({ StringEquals: 'RETRY', Next: 'WaitAfterShortage' }));
    expect(definition.States.WaitAfterShortage).toMatchObject({ Type: 'Wait', SecondsPath: '$.poll.waitSeconds', Next: 'CreateCluster' });
  });

  it('retries no provider error by name at CreateCluster (the task turns retryable ones into a recorded WAIT), and no terminal one anywhere', () => {
    // Every Lambda task retries the record store's transient unavailability (StoreUnavailableError).
    for (const [stateName, state] of Object.entries(definition.States)) {
      if (lambdaFunctionKey(state) !== undefined)
        expect(
          state.Retry!.some((r) => r.ErrorEquals.includes('StoreUnavailableError')),
          stateName,
        ).toBe(true);
    }
    const retried = new Set(create.Retry!.flatMap((r) => r.ErrorEquals));
    const names = Object.entries(ERRORS);
    for (const [name, { retryable }] of names) if (retryable) expect(retried).not.toContain(name);
    for (const [, state] of Object.entries(definition.States)) {
      const matched = new Set((state.Retry ?? []).flatMap((r) => r.ErrorEquals));
      for (const [name, meta] of names) if (!meta.retryable && !('infrastructure' in meta)) expect(matched).not.toContain(name);
    }
  });

  it('hands the create and the poll step the same capacity policy, as committed and after settings', () => {
    const check = (def: Definition, expected: Record<string, number>) => {
      expect(def.States.CreateCluster!.Parameters!.capacityRetry).toEqual(expected);
      expect(def.States.DescribeCluster!.Parameters!.capacityRetry).toEqual(expected);
    };
    check(definition, {
      IntervalSeconds: 30,
      BackoffRate: 2,
      MaxDelaySeconds: 600,
      MaxAttempts: 2000,
      ShortOfferingSeconds: 600,
      ProbeLeaseSeconds: 1800,
      QueueProbeSeconds: 30,
    });
    const tuned = applySettings(definition, 'provision', {
      capacityRetryIntervalSeconds: 45,
      capacityRetryMaxAttempts: 7,
      capacityRetryMaxDelaySeconds: 900,
      capacityRetryBackoffRate: 1.5,
      queueProbeSeconds: 60,
    }) as Definition;
    check(tuned, {
      IntervalSeconds: 45,
      BackoffRate: 1.5,
      MaxDelaySeconds: 900,
      MaxAttempts: 7,
      ShortOfferingSeconds: 600,
      ProbeLeaseSeconds: 1800,
      QueueProbeSeconds: 60,
    });
  });

  it('applies the deadline and poll cap settings, and keeps defaults for unset ones', () => {
    const tuned = applySettings(definition, 'provision', { provisionDeadlineSeconds: 600, pollMaxSeconds: '' }) as Definition;
    expect(tuned.States.DescribeCluster!.Parameters!.deadlineSeconds).toBe(600);
    expect(tuned.States.DescribeCluster!.Parameters!.maxWaitSeconds).toBe(definition.States.DescribeCluster!.Parameters!.maxWaitSeconds);
  });

  it('rejects unknown or non-positive settings', () => {
    expect(() => applySettings(definition, 'provision', { capacityRetryMaxAtempts: 3 })).toThrow(/Unknown workflow setting/);
    expect(() => applySettings(definition, 'provision', { capacityRetryMaxAttempts: 0 })).toThrow(/positive/);
    expect(Object.keys(SETTINGS).length).toBeGreaterThan(0);
  });

  it('binds Lambda tasks by function key and leaves service integrations alone', () => {
    const withIntegration = structuredClone(definition);
    withIntegration.States.Announce = { Type: 'Task', Resource: 'arn:aws:states:::events:putEvents', End: true };
    const bound = bindLambdaTasks(withIntegration, (key: string) => ({ 'Fn::GetAtt': [key, 'Arn'] })) as Definition;
    expect(bound.States.CreateCluster!.Resource).toEqual({ 'Fn::GetAtt': ['createCluster', 'Arn'] });
    expect(bound.States.Announce!.Resource).toBe('arn:aws:states:::events:putEvents');
  });
});
