/**
 * Parking and waking (functions/core/wake.ts) with the store in memory and a hand-moved clock: a wake that finds no
 * parked workflow is kept and honoured by the next park; a wake never crosses a later look at the provider.
 */
import { describe, expect, it } from 'vitest';
import { park, wakeRequest, type TaskWaker } from '../../../functions/core/wake';
import { sagemakerRequest, world } from '../../fakes/world';

const recordingWaker = () => {
  const woken: string[] = [];
  const waker: TaskWaker = {
    wake: async (token) => {
      woken.push(token);
      return true;
    },
  };
  return { woken, waker };
};

const setup = async () => {
  const w = world();
  const record = await w.accept(sagemakerRequest());
  await w.store.transition(record.requestId, 'CREATING', { providerId: 'arn:cluster/1', checkedAt: w.clock.now().toISOString() });
  const { woken, waker } = recordingWaker();
  return { w, requestId: record.requestId, woken, deps: { store: w.store, waker, now: () => w.clock.now() } };
};

describe('park and wake', () => {
  it('records the token of a park; a wake returns it', async () => {
    const { w, requestId, woken, deps } = await setup();
    w.clock.advance(1);
    expect(await park(deps, { requestId, taskToken: 't1', purpose: 'poll', waitSeconds: 600 })).toEqual({ woken: false });
    expect((await w.store.require(requestId)).parked).toMatchObject({ token: 't1', purpose: 'poll' });
    w.clock.advance(1);
    expect(await wakeRequest(deps, requestId, 'InService')).toBe(true);
    expect(woken).toEqual(['t1']);
  });

  it('keeps a wake that comes before the park, and the park returns its own token at once', async () => {
    const { w, requestId, woken, deps } = await setup();
    w.clock.advance(1);
    expect(await wakeRequest(deps, requestId, 'InService')).toBe(false); // nothing parked yet
    w.clock.advance(1);
    expect(await park(deps, { requestId, taskToken: 't2', purpose: 'poll', waitSeconds: 600 })).toEqual({ woken: true });
    expect(woken).toEqual(['t2']);
  });

  it('forgets a wake once the workflow has looked at the provider since', async () => {
    const { w, requestId, woken, deps } = await setup();
    w.clock.advance(1);
    await wakeRequest(deps, requestId, 'InService');
    w.clock.advance(1);
    await w.store.update(requestId, { checkedAt: w.clock.now().toISOString() }, ['CREATING']); // a poll after the wake
    w.clock.advance(1);
    expect(await park(deps, { requestId, taskToken: 't3', purpose: 'poll', waitSeconds: 600 })).toEqual({ woken: false });
    expect(woken).toEqual([]);
  });

  it('returns the token at once when the request left the parking statuses (a DELETE cancelled it)', async () => {
    const { w, requestId, woken, deps } = await setup();
    await w.store.transition(requestId, 'DELETING', { cancelledAt: w.clock.now().toISOString() });
    expect(await park(deps, { requestId, taskToken: 't4', purpose: 'retry', waitSeconds: 600 })).toEqual({ woken: true });
    expect(woken).toEqual(['t4']);
    expect(await wakeRequest(deps, requestId, 'late')).toBe(false);
  });
});
