/**
 * The requests queue: each message body is one request. Batches of up to 10 with partial batch failure reporting:
 * an invalid message is answered with a `Cluster Request Rejected` event and acknowledged; a transient failure is
 * reported as that item's failure, so SQS redelivers it and, after maxReceiveCount, moves it to the DLQ.
 * A redelivered message is harmless: the requestId (explicit, or derived from the request) makes it one cluster.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { intake, parseJsonBody, type IntakeDeps } from '../core/intake';
import { asyncHandler, countIntake } from '../platform/middleware/async';
import { intakeDeps } from '../wiring/submit';
import { logger } from '../platform/observability';

export const makeHandler = (deps: () => IntakeDeps) =>
  asyncHandler<SQSEvent, SQSBatchResponse>('sqsSubmit', async (event) => {
    const results = await Promise.allSettled(
      event.Records.map(async (message) => {
        const parsed = parseJsonBody(message.body);
        const result = await intake(deps(), parsed.value, {
          source: 'sqs',
          messageId: message.messageId,
          ...(parsed.errors ? { parseErrors: parsed.errors } : {}),
        });
        logger.info('Message handled', {
          messageId: message.messageId,
          outcome: result.outcome,
          ...(result.outcome === 'accepted' ? { requestId: result.record.requestId, replay: !result.created } : { errors: result.detail.errors.length }),
        });
        countIntake('sqsSubmit', result);
      }),
    );
    const batchItemFailures = results.flatMap((result, i) => {
      if (result.status === 'fulfilled') return [];
      const messageId = event.Records[i]!.messageId;
      const err = result.reason as Error;
      logger.warn('Message failed; SQS will redeliver it', { messageId, error: { name: err?.name, message: err?.message } });
      return [{ itemIdentifier: messageId }];
    });
    return { batchItemFailures };
  });

export const handler = makeHandler(intakeDeps);
