/** Lambda's asynchronous invocation as the local stack models it: two retries, then the on-failure destination. */
import { describe, expect, it } from 'vitest';
import { createAsyncInvoker, type DestinationRecord } from '../../local/lambda-async';

describe('local asynchronous invocation', () => {
  it('retries a failing function twice, then sends the destination record Lambda sends', async () => {
    const dead: Array<{ queue: string; record: DestinationRecord }> = [];
    const invoker = createAsyncInvoker({
      timeScale: 0.0001,
      log: () => undefined,
      onDeadLetter: (queue, record) => dead.push({ queue, record }),
    });
    let calls = 0;
    invoker.invoke(
      {
        functionKey: 'notify',
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:x-notify',
        maximumRetryAttempts: 2,
        onFailureQueue: 'NotificationsDeadLetterQueue',
        call: async () => {
          calls++;
          throw Object.assign(new Error('2 of 2 targets failed'), { name: 'NotificationFailedError' });
        },
      },
      { id: 'evt-1' },
    );
    await invoker.idle();
    expect(calls).toBe(3);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.queue).toBe('NotificationsDeadLetterQueue');
    expect(dead[0]!.record).toMatchObject({
      version: '1.0',
      requestContext: {
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:x-notify:$LATEST',
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: { id: 'evt-1' },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'NotificationFailedError', errorMessage: '2 of 2 targets failed' },
    });
  });

  it('stops retrying once an attempt succeeds, and sends nothing', async () => {
    const dead: unknown[] = [];
    const invoker = createAsyncInvoker({ timeScale: 0.0001, log: () => undefined, onDeadLetter: (q) => dead.push(q) });
    let calls = 0;
    invoker.invoke(
      {
        functionKey: 'f',
        functionArn: 'arn',
        maximumRetryAttempts: 2,
        onFailureQueue: 'Q',
        call: async () => {
          calls++;
          if (calls === 1) throw new Error('once');
        },
      },
      {},
    );
    await invoker.idle();
    expect(calls).toBe(2);
    expect(dead).toEqual([]);
  });
});
