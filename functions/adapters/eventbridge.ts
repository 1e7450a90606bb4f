/** EventPublisher over EventBridge PutEvents (the rejection events of the entry points). */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventEntry, EventPublisher } from '../core/events';

export class EventPublishError extends Error {
  override readonly name = 'EventPublishError';
}

export const createEventBridgePublisher = (client: EventBridgeClient = new EventBridgeClient({})): EventPublisher => ({
  async publish(entries: EventEntry[]) {
    for (let i = 0; i < entries.length; i += 10) {
      const batch = entries.slice(i, i + 10);
      const out = await client.send(new PutEventsCommand({ Entries: batch.map((e) => ({ ...e, Detail: JSON.stringify(e.Detail) })) }));
      if (out.FailedEntryCount) {
        const failed = (out.Entries ?? []).filter((e) => e.ErrorCode).map((e) => e.ErrorCode);
        throw new EventPublishError(`EventBridge refused ${out.FailedEntryCount} event(s): ${failed.join(', ')}`);
      }
    }
  },
});
