/**
 * The helpers that keep adapters out of a function's init (functions/platform/config.ts `lazily`, `onceAsync`) and the
 * tracing middleware that loads the tracer on the first invocation (functions/platform/middleware/tracing.ts).
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { lazily, onceAsync } from '../../../functions/platform/config';
import { tracing } from '../../../functions/platform/middleware/tracing';

interface Port {
  greet(name: string): Promise<string>;
  count(): Promise<number>;
}

describe('lazily', () => {
  it('loads the adapter on the first call of any method, once, and forwards arguments and answers', async () => {
    // Prepare
    let loads = 0;
    let calls = 0;
    const port = lazily<Port>(async () => {
      loads += 1;
      return { greet: async (name) => `hello ${name}`, count: async () => ++calls };
    }, ['greet', 'count']);
    // Act / Assess
    expect(loads).toBe(0);
    expect(await Promise.all([port.greet('a'), port.count(), port.count()])).toEqual(['hello a', 1, 2]);
    expect(loads).toBe(1);
  });

  it('passes on what the adapter throws, with its name, and keeps `this` for methods that use it', async () => {
    class Failing extends Error {
      override readonly name = 'FailingError';
    }
    const port = lazily<Port>(
      async () => ({
        prefix: 'hi ',
        async greet(this: { prefix: string }, name: string) {
          return this.prefix + name;
        },
        count: async () => {
          throw new Failing('no count');
        },
      }),
      ['greet', 'count'],
    );
    expect(await port.greet('b')).toBe('hi b');
    await expect(port.count()).rejects.toMatchObject({ name: 'FailingError', message: 'no count' });
  });
});

describe('onceAsync', () => {
  it('builds once for concurrent callers, and tries again after a failure', async () => {
    let attempts = 0;
    const value = onceAsync(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('import failed');
      return attempts;
    });
    await expect(value()).rejects.toThrow('import failed');
    expect(await Promise.all([value(), value()])).toEqual([2, 2]);
    expect(attempts).toBe(2);
  });
});

describe('the tracing middleware', () => {
  it('lets the handler run and answer, and the error of a failing handler through unchanged', async () => {
    const context = { awsRequestId: 'r-1', functionName: 'f', getRemainingTimeInMillis: () => 1000 } as unknown as Context;
    const ok = middy<{ n: number }, number, Error, Context>()
      .use(tracing())
      .handler(async (event) => event.n * 2);
    expect(await ok({ n: 21 }, context)).toBe(42);
    class TaskError extends Error {
      override readonly name = 'TaskError';
    }
    const failing = middy<{ n: number }, number, Error, Context>()
      .use(tracing())
      .handler(async () => {
        throw new TaskError('failed');
      });
    await expect(failing({ n: 1 }, context)).rejects.toBeInstanceOf(TaskError);
  });
});
