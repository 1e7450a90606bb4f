/**
 * The requests queue: each message body is one request. Batches of up to 10 with partial batch failure reporting
 * (Powertools batch): an invalid message is answered with a `Cluster Request Rejected` event and acknowledged; a
 * transient failure is thrown from the record handler, so it is reported as that item's failure and SQS redelivers it
 * and, after maxReceiveCount, moves it to the DLQ. Even a batch that failed whole is answered (not thrown): every item
 * is reported, and the same items come back.
 * A redelivered message is harmless: the requestId (explicit, or derived from the request) makes it one cluster.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { intake, parseJsonBody, type IntakeDeps } from '../core/intake';
import { asyncHandler, countIntake } from '../platform/middleware/async';
import { logger } from '../platform/observability';
import { intakeDeps } from '../wiring/submit';

/** One message: accepted or rejected (both acknowledged); anything thrown is the item's failure (redelivered). */
const handleMessage =
  (deps: () => IntakeDeps) =>
  async (message: SQSRecord): Promise<void> => {
    try {
      const parsed = parseJsonBody(message.body);
      const result = await intake(deps(), parsed.value, {
        source: 'sqs',
        messageId: message.messageId,
        ...(parsed.errors ? { parseErrors: parsed.errors } : {}),
      });
      logger.info('Message handled', {
        messageId: message.messageId,
        outcome: result.outcome,
        ...(result.outcome === 'accepted'
          ? { requestId: result.record.requestId, replay: !result.created }
          : { errors: result.detail.errors.length }),
      });
      countIntake('sqsSubmit', result);
    } catch (err) {
      const e = err as Error;
      logger.warn('Message failed; SQS will redeliver it', { messageId: message.messageId, error: { name: e?.name, message: e?.message } });
      throw err;
    }
  };

export const makeHandler = (deps: () => IntakeDeps) => {
  const recordHandler = handleMessage(deps);
  return asyncHandler<SQSEvent, SQSBatchResponse>('sqsSubmit', async (event, context) =>
    // A processor per batch: it holds that batch's outcomes.
    processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false }),
  );
};

export const handler = makeHandler(intakeDeps);
