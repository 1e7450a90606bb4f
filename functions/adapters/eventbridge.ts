/** EventPublisher over EventBridge PutEvents (completion events, rejection events, orphan reports). */
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { EventPublishError } from '../core/errors';
import type { EventEntry, EventPublisher } from '../core/events';

export { EventPublishError };

export const createEventBridgePublisher = (client: EventBridgeClient = new EventBridgeClient({})): EventPublisher => ({
  async publish(entries: EventEntry[]) {
    for (let i = 0; i < entries.length; i += 10) {
      const batch = entries.slice(i, i + 10);
      let out: PutEventsCommandOutput;
      try {
        out = await client.send(new PutEventsCommand({ Entries: batch.map((e) => ({ ...e, Detail: JSON.stringify(e.Detail) })) }));
      } catch (err) {
        const { name, message } = err as Error;
        throw new EventPublishError(`EventBridge did not take the event(s): ${name}: ${message}`, { cause: err });
      }
      if (out.FailedEntryCount) {
        const failed = (out.Entries ?? []).filter((e) => e.ErrorCode).map((e) => e.ErrorCode);
        throw new EventPublishError(`EventBridge refused ${out.FailedEntryCount} event(s): ${failed.join(', ')}`);
      }
    }
  },
});
