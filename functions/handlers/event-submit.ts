/**
 * EventBridge rule on the project's bus for detail-type `Provision Cluster Requested`: `detail` is the request.
 * The envelope is parsed (Powertools parser, in the async stack) with the schema below: an event that is not one fails
 * the invocation (logged, then the target's retries and DLQ). The request in `detail` is checked by the request
 * contract: invalid -> `Cluster Request Rejected`; a transient failure throws, and the rule target's retry policy
 * (then its DLQ) takes over.
 */
import * as z from 'zod/mini';
import { intake, type IntakeDeps } from '../core/intake';
import { asyncHandler, countIntake } from '../platform/middleware/async';
import { logger } from '../platform/observability';
import { intakeDeps } from '../wiring/submit';

export const DETAIL_TYPE = 'Provision Cluster Requested';

/**
 * The envelope only: `detail` stays unknown here, the request contract judges it. The fields of Powertools'
 * EventBridgeSchema, with detail-type pinned, in zod/mini: Powertools' schemas load all of classic zod (about 450 KB
 * minified, its locales included) into the bundle.
 */
export const ProvisionRequestedEventSchema = z.object({
  version: z.string(),
  id: z.string(),
  source: z.string(),
  account: z.string(),
  time: z.iso.datetime(),
  region: z.string(),
  resources: z.array(z.string()),
  'detail-type': z.literal(DETAIL_TYPE),
  detail: z.unknown(),
  'replay-name': z.optional(z.string()),
});

export type ProvisionRequestedEvent = z.input<typeof ProvisionRequestedEventSchema>;

export const makeHandler = (deps: () => IntakeDeps) =>
  asyncHandler(
    'eventSubmit',
    async (event: z.output<typeof ProvisionRequestedEventSchema>) => {
      const result = await intake(deps(), event.detail, { source: 'eventbridge', messageId: event.id });
      countIntake('eventSubmit', result);
      logger.info('Event handled', {
        eventId: event.id,
        outcome: result.outcome,
        ...(result.outcome === 'accepted' ? { requestId: result.record.requestId, replay: !result.created } : {}),
      });
    },
    ProvisionRequestedEventSchema,
  );

export const handler = makeHandler(intakeDeps);
