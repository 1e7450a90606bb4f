/**
 * SNS delivery: Publish of the notification message to the target topic, through a client of the topic's region.
 * A FIFO topic gets the requestId as its message group and the event id as its deduplication id. Throttling, 5xx
 * and connection failures are NotifyTransientError (retried); anything else (no such topic, not authorized, a KMS
 * key that refuses) NotifyRejectedError.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { NotifyRejectedError, NotifyTransientError } from '../core/errors';
import type { TopicPublisher } from '../core/notify';

const TRANSIENT = new Set([
  'Throttled',
  'ThrottlingException',
  'ThrottledException',
  'KMSThrottlingException',
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'TimeoutError',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SNS subjects: at most 100 printable ASCII characters. */
const subjectOf = (type: string, requestId: string): string => `${type}: ${requestId}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);

export const createTopicPublisher = (options: { clientFor?: (region: string) => SNSClient } = {}): TopicPublisher => {
  const clients = new Map<string, SNSClient>();
  const clientFor = options.clientFor ?? ((region: string) => new SNSClient({ region }));
  const client = (region: string): SNSClient => {
    const kept = clients.get(region);
    if (kept) return kept;
    const made = clientFor(region);
    clients.set(region, made);
    return made;
  };
  return {
    async publish(topicArn, body, attributes) {
      const region = topicArn.split(':')[3] ?? '';
      const fifo = topicArn.endsWith('.fifo');
      try {
        const out = await client(region).send(
          new PublishCommand({
            TopicArn: topicArn,
            Message: body,
            ...(fifo ? {} : { Subject: subjectOf(attributes.type, attributes.requestId) }),
            MessageAttributes: {
              type: { DataType: 'String', StringValue: attributes.type },
              requestId: { DataType: 'String', StringValue: attributes.requestId },
            },
            ...(fifo ? { MessageGroupId: attributes.requestId, MessageDeduplicationId: (JSON.parse(body) as { id: string }).id } : {}),
          }),
        );
        return out.MessageId ? { messageId: out.MessageId } : {};
      } catch (err) {
        const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
        const code = e.name ?? e.code ?? 'Error';
        const status = e.$metadata?.httpStatusCode;
        if (TRANSIENT.has(code) || TRANSIENT.has(e.code ?? '') || (status !== undefined && status >= 500))
          throw new NotifyTransientError(`SNS did not take the message for ${topicArn} (${code})`, { cause: err });
        throw new NotifyRejectedError(`SNS refused the message for ${topicArn} (${code})`, { cause: err });
      }
    },
  };
};
