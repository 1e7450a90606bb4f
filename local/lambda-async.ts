/**
 * Lambda's asynchronous invocation, as the local stack models it (EventBridge rules and Scheduler invoke functions
 * this way): the event is queued and the call returns at once; a function error is retried twice (or the function's
 * `maximumRetryAttempts`), one minute and then two minutes later (times `timeScale`); after the last attempt the
 * invocation goes to the function's on-failure destination as the record Lambda sends there:
 * `{version, timestamp, requestContext: {requestId, functionArn, condition: "RetriesExhausted", approximateInvokeCount},
 * requestPayload, responseContext: {statusCode, executedVersion, functionError: "Unhandled"}, responsePayload:
 * {errorType, errorMessage}}`. The local stack keeps each destination queue's messages in memory and in
 * $DATA_DIR/dead-letters.ndjson (GET /_local/dead-letters).
 */
import { randomUUID } from 'node:crypto';

export interface DestinationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: { requestId: string; functionArn: string; condition: 'RetriesExhausted'; approximateInvokeCount: number };
  requestPayload: unknown;
  responseContext: { statusCode: number; executedVersion: string; functionError: 'Unhandled' };
  responsePayload: { errorType: string; errorMessage: string };
}

export interface AsyncTarget {
  functionKey: string;
  functionArn: string;
  maximumRetryAttempts: number;
  /** The on-failure destination queue (a logical id), if any. */
  onFailureQueue?: string;
  call(event: unknown): Promise<unknown>;
}

export interface AsyncInvoker {
  invoke(target: AsyncTarget, event: unknown): void;
  /** Resolves when nothing is queued or running. */
  idle(): Promise<void>;
  close(): void;
}

/** Lambda's waits before the second and the third attempt. */
export const RETRY_DELAYS_MS = [60_000, 120_000];

export const createAsyncInvoker = (options: {
  timeScale: number;
  onDeadLetter: (queue: string, record: DestinationRecord) => void;
  log: (line: string) => void;
}): AsyncInvoker => {
  const timers = new Set<NodeJS.Timeout>();
  let running = 0;
  let waiters: Array<() => void> = [];
  const settle = () => {
    if (running === 0 && timers.size === 0) {
      for (const w of waiters) w();
      waiters = [];
    }
  };
  const attempt = (target: AsyncTarget, event: unknown, requestId: string, count: number) => {
    running++;
    target
      .call(event)
      .then(
        () => undefined,
        (err: unknown) => {
          const error = err instanceof Error ? err : new Error(String(err));
          if (count <= target.maximumRetryAttempts) {
            const delay = Math.max(10, (RETRY_DELAYS_MS[count - 1] ?? RETRY_DELAYS_MS.at(-1)!) * options.timeScale);
            options.log(
              `${target.functionKey} failed (attempt ${count}): ${error.name}: ${error.message}; retried in ${Math.round(delay)} ms`,
            );
            const timer = setTimeout(() => {
              timers.delete(timer);
              attempt(target, event, requestId, count + 1);
            }, delay);
            timers.add(timer);
            return;
          }
          options.log(`${target.functionKey} failed (attempt ${count}, the last): ${error.name}: ${error.message}`);
          if (!target.onFailureQueue) return;
          options.onDeadLetter(target.onFailureQueue, {
            version: '1.0',
            timestamp: new Date().toISOString(),
            requestContext: {
              requestId,
              functionArn: `${target.functionArn}:$LATEST`,
              condition: 'RetriesExhausted',
              approximateInvokeCount: count,
            },
            requestPayload: event,
            responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
            responsePayload: { errorType: error.name, errorMessage: error.message },
          });
        },
      )
      .finally(() => {
        running--;
        settle();
      });
  };
  return {
    invoke(target, event) {
      const requestId = randomUUID();
      // Accepted at once (202): the first attempt runs on the next turn.
      running++;
      setImmediate(() => {
        running--;
        attempt(target, event, requestId, 1);
      });
    },
    idle: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
        settle();
      }),
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      settle();
    },
  };
};
