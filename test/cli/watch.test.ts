/**
 * What `--watch` shows of a parked workflow: where it waits (its cluster's event, or its turn / its backoff) and when
 * something woke it; the record's task token never reaches the view.
 */
import { describe, expect, it } from 'vitest';
import { recordViewAt } from '../../functions/core/view';
import { progressLine } from '../../cli/watch';
import { sampleRecord } from '../helpers/dynamo';

const at = new Date('2025-01-01T00:10:00.000Z');

describe('the watch line of a parked workflow', () => {
  it('says a creating cluster waits for its event, with the time of the fallback poll, and when it was woken', () => {
    const record = sampleRecord({
      status: 'CREATING',
      parked: { token: 'secret-task-token', purpose: 'poll', at: '2025-01-01T00:01:00.000Z', until: '2025-01-01T03:00:00.000Z' },
      wakeAt: '2025-01-01T00:09:30.000Z',
    });
    const view = recordViewAt(record, at);
    expect(view.waiting).toEqual({ on: 'cluster-event', until: '2025-01-01T03:00:00.000Z', wokenAt: '2025-01-01T00:09:30.000Z' });
    expect(JSON.stringify(view)).not.toContain('secret-task-token');
    const line = progressLine(view, 90_000);
    expect(line).toContain("parked until the cluster's event (poll at 03:00:00Z)");
    expect(line).toContain('woken at 00:09:30Z');
  });

  it('says a waiting request waits for its turn or its backoff; a wake older than the park is not shown', () => {
    const record = sampleRecord({
      status: 'WAITING_FOR_CAPACITY',
      parked: { token: 't', purpose: 'retry', at: '2025-01-01T00:05:00.000Z', until: '2025-01-01T00:05:30.000Z' },
      wakeAt: '2025-01-01T00:04:00.000Z',
    });
    const view = recordViewAt(record, at);
    expect(view.waiting).toEqual({ on: 'turn-or-backoff', until: '2025-01-01T00:05:30.000Z' });
    expect(progressLine(view, 1000)).toContain('parked until its turn (or 00:05:30Z)');
  });

  it('shows no wait once the request is final', () => {
    const record = sampleRecord({
      status: 'READY',
      parked: { token: 't', purpose: 'poll', at: '2025-01-01T00:05:00.000Z', until: '2025-01-01T00:05:30.000Z' },
    });
    expect(recordViewAt(record, at).waiting).toBeUndefined();
  });
});
