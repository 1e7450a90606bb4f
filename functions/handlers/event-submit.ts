/**
 * EventBridge rule on the project's bus for detail-type `Provision Cluster Requested`: `detail` is the request.
 * Invalid -> `Cluster Request Rejected`; a transient failure throws, and the rule target's retry policy (then its
 * DLQ) takes over.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { intake, type IntakeDeps } from '../core/intake';
import { asyncHandler, countIntake } from '../platform/middleware/async';
import { intakeDeps } from '../wiring/submit';
import { logger } from '../platform/observability';

export type ProvisionRequestedEvent = EventBridgeEvent<'Provision Cluster Requested', unknown>;

export const makeHandler = (deps: () => IntakeDeps) =>
  asyncHandler<ProvisionRequestedEvent, void>('eventSubmit', async (event) => {
    const result = await intake(deps(), event.detail, { source: 'eventbridge', messageId: event.id });
    countIntake('eventSubmit', result);
    logger.info('Event handled', {
      eventId: event.id,
      outcome: result.outcome,
      ...(result.outcome === 'accepted' ? { requestId: result.record.requestId, replay: !result.created } : {}),
    });
  });

export const handler = makeHandler(intakeDeps);
