/**
 * Step Functions on loopback: the ASL files of statemachines/ (through the same loader the deployment uses), run by
 * aws-local-stepfunctions with each Lambda task bound to the real handler and each events:putEvents task bound to a
 * local bus. Used by the tests and by the local stack. Execution names behave like Step Functions': a name is used
 * once, and starting it again answers "already started".
 */
import './polyfills';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { applySettings, deleteClusterAsl, isCallbackTask, lambdaFunctionKey, provisionClusterAsl } from '../statemachines/definitions.js';
import type { EventEntry } from '../functions/core/events';
import type { ExecutionInspector } from '../functions/core/reconcile';
import type { WorkflowStarter } from '../functions/core/submit';

export type MachineName = 'provision' | 'delete';

export type LambdaHandler = (event: never, context: Context) => Promise<unknown>;

export interface LocalWorkflowsOptions {
  /** Lambda task handlers by function key (createCluster, pollCluster, deleteCluster, recordOutcome). */
  handlers: Record<string, LambdaHandler>;
  /** Where events:putEvents tasks deliver their entries. */
  publish(entries: EventEntry[]): Promise<void>;
  /** Deployment settings (statemachines/definitions.js SETTINGS). */
  settings?: Record<string, number>;
  /**
   * Multiplies every retry interval and wait of the definitions (1 = real times). The runner can only override a
   * retrier's or a Wait state's duration with a fixed value, so the scaled first interval is used for every round.
   */
  timeScale?: number;
  /**
   * With `timeScale`: a Wait state whose length its input gives (`SecondsPath`: the capacity backoff, the next poll)
   * waits that length × timeScale, as deployed, where the runner's overrides can only give it the first poll interval ×
   * timeScale for every round. Such a state then runs as a local task that sleeps and passes its input on.
   */
  scaleWaitsFromInput?: boolean;
  /** Explicit runner overrides (milliseconds), applied over the scaled ones. */
  waitTimeOverrides?: Record<string, number>;
  retryIntervalOverrides?: Record<string, number | number[]>;
}

export interface ExecutionState {
  name: string;
  machine: MachineName;
  executionArn: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  input: unknown;
  output?: unknown;
  error?: { name: string; message: string };
  done: Promise<ExecutionState>;
  abort(): void;
}

const LAMBDA_CONTEXT_BASE = {
  callbackWaitsForEmptyEventLoop: true,
  functionVersion: '$LATEST',
  memoryLimitInMB: '256',
  logGroupName: '/aws/lambda/local',
  logStreamName: 'local',
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

let invocation = 0;
export const lambdaContext = (functionName: string): Context => {
  const deadline = Date.now() + 60_000;
  return {
    ...LAMBDA_CONTEXT_BASE,
    functionName,
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    awsRequestId: `local-${++invocation}`,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
};

/**
 * What Step Functions sees when a Lambda throws: the error name as `Error`, and as `Cause` the runtime's JSON
 * `{errorType, errorMessage, trace}` (the trace left empty here).
 */
const asLambdaError = (err: unknown): Error => {
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  const failure = new Error(JSON.stringify({ errorType: name, errorMessage: message, trace: [] }));
  failure.name = name;
  return failure;
};

type Definition = { States: Record<string, Record<string, unknown>> };

const scaledOverrides = (definition: Definition, scale: number) => {
  const waits: Record<string, number> = {};
  const retries: Record<string, number[]> = {};
  const firstPoll = Object.values(definition.States).find((s) => s.Type === 'Pass' && (s.Result as { waitSeconds?: number })?.waitSeconds);
  const pollSeconds = (firstPoll?.Result as { waitSeconds?: number } | undefined)?.waitSeconds ?? 1;
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Wait') waits[name] = Math.round(((state.Seconds as number | undefined) ?? pollSeconds) * 1000 * scale);
    if (Array.isArray(state.Retry)) {
      retries[name] = (state.Retry as Array<{ IntervalSeconds?: number }>).map((r) => Math.round((r.IntervalSeconds ?? 1) * 1000 * scale));
    }
  }
  return { waits, retries };
};

/**
 * The runner has no task tokens: the context's `Task.Token` is this placeholder, and each callback task's binding
 * replaces it in the payload with a token of its own, which `sendTaskSuccess` returns.
 */
const TOKEN_PLACEHOLDER = 'local-task-token';

const replaceToken = (value: unknown, token: string): unknown =>
  value === TOKEN_PLACEHOLDER
    ? token
    : Array.isArray(value)
      ? value.map((v) => replaceToken(v, token))
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceToken(v, token)]))
        : value;

/** The error a task's timeout raises in Step Functions, for the states' Catch. */
const statesTimeout = () => Object.assign(new Error('The task timed out'), { name: 'States.Timeout' });

/**
 * The definition as the runner must see it. One runner quirk: it reads a task's TimeoutSecondsPath from the input
 * after Parameters, where Step Functions reads the state's input; a callback task's timeout path is pointed at the
 * same value in its Payload (`waitSeconds`, which the shipped ASL passes from that very path).
 */
const runnable = (definition: Definition, waitsFromInput: boolean): Definition => {
  const out = structuredClone(definition);
  for (const [name, state] of Object.entries(out.States)) {
    if (isCallbackTask(state) && typeof state.TimeoutSecondsPath === 'string') state.TimeoutSecondsPath = '$.Payload.waitSeconds';
    if (waitsFromInput && isInputWait(state)) {
      const { Seconds: _s, SecondsPath: _p, Type: _t, ...rest } = state;
      out.States[name] = { ...rest, Type: 'Task', Resource: SCALED_WAIT_RESOURCE };
    }
  }
  return out;
};

/** A Wait state whose length its input gives. */
const isInputWait = (state: Record<string, unknown>): state is Record<string, unknown> & { SecondsPath: string } =>
  state.Type === 'Wait' && typeof state.SecondsPath === 'string';

/** The placeholder resource of a Wait state run as a local task (`scaleWaitsFromInput`); never called. */
const SCALED_WAIT_RESOURCE = 'arn:aws:lambda:us-east-1:000000000000:function:localScaledWait';

/** The value at a plain `$.a.b` path (the only kind the shipped Wait states use), as a Wait's SecondsPath must be. */
const secondsAt = (input: unknown, path: string): number => {
  if (!/^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(path)) throw new Error(`Unsupported SecondsPath ${path}`);
  const value = path
    .slice(2)
    .split('.')
    .reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), input);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw Object.assign(new Error(`SecondsPath ${path} is not a non-negative integer: ${JSON.stringify(value)}`), {
      name: 'States.Runtime',
    });
  }
  return value;
};

/** Sleeps `ms`, or less when `signal` aborts. */
const sleepUnless = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * The runner validates a definition (asl-validator, which compiles its schemas anew) each time it builds a machine from
 * it, and that was most of what starting the local workflows cost. Each distinct definition is validated the first
 * time this process builds it, and built without validating after that.
 */
const validated = new Set<string>();
const machineOf = (definition: Definition): StateMachine => {
  const text = JSON.stringify(definition);
  const machine = new StateMachine(definition as never, validated.has(text) ? { validationOptions: { noValidate: true } } : {});
  validated.add(text);
  return machine;
};

export class LocalWorkflows {
  private readonly machines: Record<MachineName, { machine: StateMachine; definition: Definition }>;
  private readonly executions = new Map<string, ExecutionState>();
  /** Callback tasks waiting for their token, by token. */
  private readonly callbacks = new Map<string, (output: unknown) => void>();

  constructor(private readonly options: LocalWorkflowsOptions) {
    const waitsFromInput = options.scaleWaitsFromInput === true && options.timeScale !== undefined;
    const build = (definition: Definition) => ({ definition, machine: machineOf(runnable(definition, waitsFromInput)) });
    this.machines = {
      provision: build(applySettings(provisionClusterAsl(), 'provision', options.settings ?? {}) as Definition),
      delete: build(applySettings(deleteClusterAsl(), 'delete', options.settings ?? {}) as Definition),
    };
  }

  /** Starts an execution named `name`; a name already used answers `alreadyStarted` and starts nothing. */
  start(machine: MachineName, name: string, input: unknown): { executionArn: string; alreadyStarted: boolean } {
    const existing = this.executions.get(name);
    if (existing) return { executionArn: existing.executionArn, alreadyStarted: true };
    const { machine: sm, definition } = this.machines[machine];
    const executionArn = `arn:aws:states:local:000000000000:execution:${machine}-cluster:${name}`;
    const scaled = this.options.timeScale !== undefined ? scaledOverrides(definition, this.options.timeScale) : { waits: {}, retries: {} };
    const taskResourceLocalHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    const stopped = new AbortController();
    for (const [stateName, state] of Object.entries(definition.States)) {
      const key = lambdaFunctionKey(state);
      if (this.options.scaleWaitsFromInput && this.options.timeScale !== undefined && isInputWait(state)) {
        const scale = this.options.timeScale;
        taskResourceLocalHandlers[stateName] = async (waitInput) => {
          const override = this.options.waitTimeOverrides?.[stateName];
          await sleepUnless(override ?? Math.round(secondsAt(waitInput, state.SecondsPath) * 1000 * scale), stopped.signal);
          return waitInput;
        };
      } else if (key && isCallbackTask(state)) {
        const handler = this.options.handlers[key];
        if (!handler) throw new Error(`No local handler bound for function ${key} (state ${stateName})`);
        // lambda:invoke.waitForTaskToken: invoke with a fresh token, then wait for sendTaskSuccess or the timeout
        // (the payload's waitSeconds, scaled like the Wait states; the runner's own timeout is in real seconds).
        taskResourceLocalHandlers[stateName] = async (taskInput) => {
          const token = `${name}:${stateName}:${randomUUID()}`;
          const payload = replaceToken((taskInput as { Payload?: unknown }).Payload, token) as { waitSeconds?: number };
          let resolve!: (output: unknown) => void;
          let reject!: (err: Error) => void;
          const promise = new Promise<unknown>((res, rej) => {
            resolve = res;
            reject = rej;
          });
          promise.catch(() => undefined); // awaited below; the timeout may fire while the handler still runs
          this.callbacks.set(token, resolve);
          const override = this.options.waitTimeOverrides?.[stateName];
          const ms = override ?? Math.round((payload.waitSeconds ?? 60) * 1000 * (this.options.timeScale ?? 1));
          const timer = setTimeout(() => reject(statesTimeout()), ms);
          try {
            await handler(payload as never, lambdaContext(key));
            return await promise;
          } catch (err) {
            throw (err as Error).name === 'States.Timeout' ? err : asLambdaError(err);
          } finally {
            clearTimeout(timer);
            this.callbacks.delete(token);
          }
        };
      } else if (key) {
        const handler = this.options.handlers[key];
        if (!handler) throw new Error(`No local handler bound for function ${key} (state ${stateName})`);
        taskResourceLocalHandlers[stateName] = async (taskInput) => {
          try {
            return await handler(taskInput as never, lambdaContext(key));
          } catch (err) {
            throw asLambdaError(err);
          }
        };
      } else if (state.Type === 'Task' && state.Resource === 'arn:aws:states:::events:putEvents') {
        taskResourceLocalHandlers[stateName] = async (taskInput) => {
          const entries = (taskInput as { Entries: EventEntry[] }).Entries;
          await this.options.publish(entries);
          return { Entries: entries.map((_, i) => ({ EventId: `${name}-${stateName}-${i}` })), FailedEntryCount: 0 };
        };
      }
    }
    const run = sm.run(
      input as never,
      {
        overrides: {
          taskResourceLocalHandlers,
          waitTimeOverrides: { ...scaled.waits, ...this.options.waitTimeOverrides },
          retryIntervalOverrides: { ...scaled.retries, ...this.options.retryIntervalOverrides },
        },
        context: {
          Execution: { Id: executionArn, Name: name, Input: input, StartTime: new Date().toISOString() },
          Task: { Token: TOKEN_PLACEHOLDER },
        },
        noThrowOnAbort: true,
      } as never,
    );
    // The runner queues every event of the execution (each state's input and output) until someone reads them; nobody
    // here does, so they are read and dropped as they come: an execution holds no log, however long it runs.
    void (async () => {
      for await (const _event of run.eventLogs) {
        // dropped
      }
    })().catch(() => undefined);
    let aborted = false;
    const state: ExecutionState = {
      name,
      machine,
      executionArn,
      status: 'RUNNING',
      input,
      done: undefined as never,
      abort: () => {
        aborted = true;
        stopped.abort();
        run.abort();
      },
    };
    // Ended, an execution keeps only what DescribeExecution answers (name, status, input, output or error): its
    // runner, handlers and timers are released with the abort that referred to them.
    const release = () => {
      state.abort = () => undefined;
    };
    state.done = run.result.then(
      (output: unknown) => {
        release();
        return Object.assign(state, aborted ? { status: 'ABORTED' as const } : { status: 'SUCCEEDED' as const, output });
      },
      (err: unknown) => {
        release();
        return Object.assign(state, { status: 'FAILED' as const, error: executionError(err) });
      },
    );
    this.executions.set(name, state);
    return { executionArn, alreadyStarted: false };
  }

  /** The submit path's WorkflowStarter over these local machines (input `{requestId}`, as deployed). */
  starter(): WorkflowStarter & ExecutionInspector {
    return {
      startProvisioning: async (requestId, executionName = requestId) => this.start('provision', executionName, { requestId }),
      startDeletion: async (requestId, executionName) => this.start('delete', executionName, { requestId }),
      stopProvisioning: async (executionArn) => {
        const execution = this.executions.get(executionArn.split(':').pop() ?? '');
        if (execution?.status === 'RUNNING') execution.abort();
      },
      isRunning: async (executionArn) => this.executions.get(executionArn.split(':').pop() ?? '')?.status === 'RUNNING',
    };
  }

  /** SendTaskSuccess: false when no task waits on the token (it timed out, was woken already, or never was). */
  sendTaskSuccess(token: string, output: unknown = {}): boolean {
    const resolve = this.callbacks.get(token);
    if (!resolve) return false;
    this.callbacks.delete(token);
    resolve(output);
    return true;
  }

  get(name: string): ExecutionState | undefined {
    return this.executions.get(name);
  }

  list(): ExecutionState[] {
    return [...this.executions.values()];
  }

  /** Aborts every running execution (like StopExecution) and waits for them to end. */
  async stopAll(): Promise<void> {
    const running = this.list().filter((e) => e.status === 'RUNNING');
    for (const execution of running) execution.abort();
    await Promise.all(running.map((e) => e.done));
  }

  /** Resolves when every execution started so far (and any they start) has ended. */
  async settle(): Promise<void> {
    let pending = this.list().filter((e) => e.status === 'RUNNING');
    while (pending.length > 0) {
      await Promise.all(pending.map((e) => e.done));
      pending = this.list().filter((e) => e.status === 'RUNNING');
    }
  }
}

/** The runner rejects with an ExecutionError whose `cause` is the Fail state's error (name = Error, message = Cause). */
const executionError = (err: unknown): { name: string; message: string } => {
  const outer = err as { name?: string; message?: string; cause?: { name?: string; message?: string } };
  const e = outer?.name === 'ExecutionError' && outer.cause ? outer.cause : outer;
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err) };
};
