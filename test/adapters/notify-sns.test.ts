/** The SNS adapter against the SNS simulator (AWS query protocol), through the real SDK client. */
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopicPublisher } from '../../functions/adapters/notify-sns';
import { NotifyRejectedError } from '../../functions/core/errors';
import { startSnsSimulator, type SnsSimulator } from '../../local/simulators/sns';

let sim: SnsSimulator;
beforeAll(async () => {
  sim = await startSnsSimulator({ region: 'eu-west-1', account: '123456789012' });
});
afterAll(() => sim.close());

const publisher = () =>
  createTopicPublisher({
    clientFor: (region) =>
      new SNSClient({ region, endpoint: sim.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 }),
  });

describe('SNS publisher', () => {
  it('publishes the message with its type and requestId as attributes and a subject', async () => {
    const arn = sim.createTopic('provisioner-notify-ops');
    const body = JSON.stringify({ version: '1', id: 'evt-1', type: 'Cluster Ready', requestId: 'req-1' });
    const out = await publisher().publish(arn, body, { type: 'Cluster Ready', requestId: 'req-1' });
    expect(out.messageId).toBeDefined();
    expect(sim.messages.at(-1)).toMatchObject({
      topicArn: arn,
      message: body,
      subject: 'Cluster Ready: req-1',
      attributes: { type: 'Cluster Ready', requestId: 'req-1' },
      messageId: out.messageId,
    });
  });

  it('gives a FIFO topic the requestId as group and the event id as deduplication id', async () => {
    const arn = sim.createTopic('provisioner-notify-ops.fifo');
    await publisher().publish(arn, JSON.stringify({ id: 'evt-2' }), { type: 'Cluster Deleted', requestId: 'req-2' });
    expect(sim.messages.at(-1)).toMatchObject({ topicArn: arn, messageGroupId: 'req-2', deduplicationId: 'evt-2' });
  });

  it('calls a topic that does not exist a rejection (not retried)', async () => {
    await expect(
      publisher().publish('arn:aws:sns:eu-west-1:123456789012:nope', '{"id":"e"}', { type: 'Cluster Ready', requestId: 'r' }),
    ).rejects.toBeInstanceOf(NotifyRejectedError);
  });
});
