/**
 * Runs a state machine definition (the shipped ASL, as statemachines/definitions.js loads it) in virtual time: Task
 * states call the bound task functions, Wait states schedule the next state on the event queue, Choice, Pass,
 * Succeed and Fail do what the States Language says. Only what the provision definition uses is supported (an unknown
 * state type or Choice operator throws, so a changed definition cannot be run silently wrong).
 *
 * A callback task (`arn:aws:states:::lambda:invoke.waitForTaskToken`) invokes its function with the token in
 * `$$.Task.Token` and waits until the token is returned through `tokens` (SendTaskSuccess / SendTaskFailure) or its
 * timeout passes (States.Timeout, which its Catch may route).
 *
 * Each state entered is one billed state transition (Step Functions Standard), each Lambda task one invocation.
 */
import { type EventQueue, LivelockError } from './queue';

/** State transitions one execution may make at one virtual instant before the run counts as a livelock. */
const MAX_TRANSITIONS_PER_INSTANT = 100;

type Json = Record<string, unknown>;

interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  Parameters?: Json;
  ResultPath?: string | null;
  Result?: unknown;
  Seconds?: number;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  SecondsPath?: string;
  Choices?: Array<{ Variable: string; StringEquals?: string; Next: string }>;
  Default?: string;
  Catch?: Array<{ ErrorEquals: string[]; ResultPath?: string | null; Next: string }>;
}

export interface Definition {
  StartAt: string;
  States: Record<string, State>;
}

/** A Lambda task's code: the parameters in, the result out; a thrown error's `name` is what Catch matches. */
export type TaskFunction = (parameters: Json) => Promise<unknown>;

export interface AslCounters {
  transitions: number;
  /** Lambda invocations per function key. */
  invocations: Record<string, number>;
  /** Entries put on the bus by events:putEvents tasks. */
  events: number;
  /** Times each state was entered: the paths the executions took. */
  states: Record<string, number>;
}

export const newCounters = (): AslCounters => ({ transitions: 0, invocations: {}, events: 0, states: {} });

const LAMBDA = /^arn:aws:lambda:[^:]*:\d{12}:function:([A-Za-z0-9]+)$/;
const PUT_EVENTS = 'arn:aws:states:::events:putEvents';
const CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** `$.a.b` in the state's input, `$$.a.b` in the context object. */
const readPath = (doc: unknown, path: string, context: Json = {}): unknown => {
  if (path === '$') return doc;
  const [root, rest] = path.startsWith('$$.') ? [context, path.slice(3)] : path.startsWith('$.') ? [doc, path.slice(2)] : [undefined, ''];
  if (root === undefined) throw new Error(`Unsupported path ${path}`);
  let node: unknown = root;
  for (const key of rest.split('.')) node = (node as Json | undefined)?.[key];
  return node;
};

/** Task tokens handed out by callback tasks: SendTaskSuccess / SendTaskFailure resume the execution that waits. */
export class TaskTokens {
  private readonly waiting = new Map<string, (outcome: { output?: unknown; error?: string }) => void>();
  private sequence = 0;
  /** Tokens returned (SendTaskSuccess calls that found their execution waiting). */
  returned = 0;

  issue(resume: (outcome: { output?: unknown; error?: string }) => void): string {
    const token = `token-${++this.sequence}`;
    this.waiting.set(token, resume);
    return token;
  }

  /** SendTaskSuccess: false when the token is not waiting any more (TaskTimedOut / TaskDoesNotExist). */
  sendTaskSuccess(token: string, output: unknown = {}): boolean {
    return this.settle(token, { output });
  }

  sendTaskFailure(token: string, error: string): boolean {
    return this.settle(token, { error });
  }

  /** Ends the wait of `token` if it is still waiting. */
  settle(token: string, outcome: { output?: unknown; error?: string }): boolean {
    const resume = this.waiting.get(token);
    if (!resume) return false;
    this.waiting.delete(token);
    if (outcome.output !== undefined || outcome.error !== undefined) this.returned += 1;
    resume(outcome);
    return true;
  }
}

const writePath = (doc: Json, path: string | null | undefined, value: unknown): Json => {
  if (path === null) return doc;
  if (path === undefined || path === '$') return value as Json;
  const out = structuredClone(doc);
  const keys = path.slice(2).split('.');
  let node = out;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Json;
  node[keys.at(-1)!] = value;
  return out;
};

const resolve = (parameters: Json, doc: Json, context: Json = {}): Json => {
  const out: Json = {};
  for (const [key, value] of Object.entries(parameters)) {
    if (key.endsWith('.$')) {
      const expr = value as string;
      const array = /^States\.Array\((\$[^)]*)\)$/.exec(expr);
      out[key.slice(0, -2)] = array ? [readPath(doc, array[1]!, context)] : readPath(doc, expr, context);
    } else out[key] = value !== null && typeof value === 'object' && !Array.isArray(value) ? resolve(value as Json, doc, context) : value;
  }
  return out;
};

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export class AslExecution {
  status: ExecutionStatus = 'RUNNING';
  /** The last state entered. */
  at = '';
  private instant = Number.NaN;
  private atInstant = 0;

  constructor(
    private readonly definition: Definition,
    private readonly tasks: Record<string, TaskFunction>,
    private readonly queue: EventQueue,
    private readonly counters: AslCounters,
    private readonly tokens: TaskTokens = new TaskTokens(),
  ) {}

  start(input: Json): void {
    this.queue.after(0, () => this.run(this.definition.StartAt, input));
  }

  /** Runs states from `name` until a Wait (scheduled on the queue) or the end. */
  private async run(name: string, input: Json): Promise<void> {
    let current: string | undefined = name;
    let doc = input;
    while (current !== undefined) {
      const state: State | undefined = this.definition.States[current];
      if (!state) throw new Error(`No state ${current}`);
      this.at = current;
      this.atInstant = this.queue.ms === this.instant ? this.atInstant + 1 : 0;
      this.instant = this.queue.ms;
      if (this.atInstant > MAX_TRANSITIONS_PER_INSTANT)
        throw new LivelockError(
          `one execution made ${MAX_TRANSITIONS_PER_INSTANT} state transitions at ${new Date(this.instant).toISOString()} ` +
            `without the clock moving (last: ${current})`,
        );
      this.counters.transitions += 1;
      this.counters.states[current] = (this.counters.states[current] ?? 0) + 1;
      switch (state.Type) {
        case 'Task': {
          if (state.Resource === CALLBACK) return this.callback(state, doc);
          const [next, out] = await this.task(state, doc);
          current = next;
          doc = out;
          break;
        }
        case 'Choice': {
          const match = (state.Choices ?? []).find((choice) => {
            if (choice.StringEquals === undefined) throw new Error(`Unsupported Choice operator in ${current}`);
            return readPath(doc, choice.Variable) === choice.StringEquals;
          });
          current = match?.Next ?? state.Default;
          break;
        }
        case 'Wait': {
          const seconds = state.SecondsPath !== undefined ? Number(readPath(doc, state.SecondsPath)) : Number(state.Seconds);
          if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`Wait ${current}: no seconds`);
          const next = state.Next!;
          const waited = doc;
          this.queue.after(seconds, () => this.run(next, waited));
          return;
        }
        case 'Pass':
          doc = writePath(doc, state.ResultPath, state.Result !== undefined ? state.Result : doc);
          current = state.Next;
          break;
        case 'Succeed':
          return this.end('SUCCEEDED');
        case 'Fail':
          return this.end('FAILED');
        default:
          throw new Error(`Unsupported state type ${state.Type}`);
      }
    }
    this.end('SUCCEEDED');
  }

  private end(status: ExecutionStatus): void {
    this.status = status;
  }

  /** A callback task: invoke with a fresh token, then wait for the token or the timeout. */
  private async callback(state: State, doc: Json): Promise<void> {
    let settled = false;
    const token = this.tokens.issue(({ output, error }) => {
      if (settled) return;
      settled = true;
      this.queue.after(0, () =>
        error === undefined ? this.run(state.Next!, writePath(doc, state.ResultPath, output)) : this.caught(state, doc, error, 'returned'),
      );
    });
    const parameters = resolve(state.Parameters ?? {}, doc, { Task: { Token: token } });
    const key = LAMBDA.exec(String(parameters.FunctionName ?? ''))?.[1];
    const fn = key ? this.tasks[key] : undefined;
    if (!key || !fn) throw new Error(`No task function for ${String(parameters.FunctionName)}`);
    this.counters.invocations[key] = (this.counters.invocations[key] ?? 0) + 1;
    try {
      await fn((parameters.Payload ?? {}) as Json);
    } catch (err) {
      settled = true;
      this.tokens.settle(token, {});
      return this.caught(state, doc, (err as Error).name ?? 'Error', (err as Error).message);
    }
    const timeout = state.TimeoutSecondsPath !== undefined ? Number(readPath(doc, state.TimeoutSecondsPath)) : state.TimeoutSeconds;
    if (timeout !== undefined)
      this.queue.after(timeout, () => {
        if (settled) return;
        settled = true;
        this.tokens.settle(token, {});
        return this.caught(state, doc, 'States.Timeout', 'The callback task timed out');
      });
  }

  /** Routes an error of `state` through its Catch (or fails the execution). */
  private async caught(state: State, doc: Json, name: string, message: string): Promise<void> {
    const c = (state.Catch ?? []).find((k) => k.ErrorEquals.includes(name) || k.ErrorEquals.includes('States.ALL'));
    if (!c) return this.end('FAILED');
    const error = { Error: name, Cause: JSON.stringify({ errorType: name, errorMessage: message, trace: [] }) };
    return this.run(c.Next, writePath(doc, c.ResultPath, error));
  }

  private async task(state: State, doc: Json): Promise<[string | undefined, Json]> {
    const parameters = resolve(state.Parameters ?? {}, doc);
    if (state.Resource === PUT_EVENTS) {
      this.counters.events += (parameters.Entries as unknown[]).length;
      return [state.Next, writePath(doc, state.ResultPath, {})];
    }
    const key = LAMBDA.exec(state.Resource ?? '')?.[1];
    const fn = key ? this.tasks[key] : undefined;
    if (!key || !fn) throw new Error(`No task function for ${state.Resource}`);
    this.counters.invocations[key] = (this.counters.invocations[key] ?? 0) + 1;
    try {
      return [state.Next, writePath(doc, state.ResultPath, await fn(parameters))];
    } catch (err) {
      const name = (err as Error).name ?? 'Error';
      const caught = (state.Catch ?? []).find((c) => c.ErrorEquals.includes(name) || c.ErrorEquals.includes('States.ALL'));
      if (!caught) throw err;
      const error = { Error: name, Cause: JSON.stringify({ errorType: name, errorMessage: (err as Error).message, trace: [] }) };
      return [caught.Next, writePath(doc, caught.ResultPath, error)];
    }
  }
}
