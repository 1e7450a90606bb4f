/**
 * HyperPod's EventBridge events on the default bus (`source = aws.sagemaker`), wake the workflow creating that cluster
 * (functions/core/wake.ts):
 *   - `SageMaker HyperPod Cluster State Change`: the statuses that change what a workflow does;
 *   - `SageMaker HyperPod Cluster Event` (Continuous mode): provisioning progress; an `Error`-level event in
 *     insufficient-capacity wording is recorded as a shortage first.
 * An event for a cluster no request is creating is logged and ignored; duplicates and late events only cost the woken
 * workflow one poll.
 */
import { onClusterEvent, onClusterStateChange, type ClusterEventDetail, type ClusterStateChange, type WakeDeps } from '../core/wake';
import { asyncHandler } from '../platform/middleware/async';
import { logger } from '../platform/observability';
import { wakeDeps } from '../wiring/wake';

const CLUSTER_EVENT_DETAIL_TYPE = 'SageMaker HyperPod Cluster Event';

interface HyperPodEvent {
  'detail-type'?: string;
  detail?: ClusterStateChange & ClusterEventDetail;
}

type Outcome = { requestId?: string; woken: boolean; shortage?: boolean; ignored?: string };

const str = (value: unknown): value is string => typeof value === 'string';

export const makeHandler = (deps: () => WakeDeps) =>
  asyncHandler<HyperPodEvent, Outcome>('clusterEvent', async (event) => {
    const detail = event && typeof event.detail === 'object' && event.detail !== null ? event.detail : {};
    if (event?.['detail-type'] === CLUSTER_EVENT_DETAIL_TYPE) {
      const record = typeof detail.EventDetails === 'object' && detail.EventDetails !== null ? detail.EventDetails : {};
      const outcome = await onClusterEvent(deps(), { EventDetails: record });
      if (outcome.requestId) logger.appendKeys({ requestId: outcome.requestId });
      logger.info('Cluster event', {
        eventLevel: str(record.EventLevel) ? record.EventLevel : undefined,
        resourceType: str(record.ResourceType) ? record.ResourceType : undefined,
        ...outcome,
      });
      return outcome;
    }
    const outcome = await onClusterStateChange(deps(), {
      ...(str(detail.ClusterArn) ? { ClusterArn: detail.ClusterArn } : {}),
      ...(str(detail.ClusterName) ? { ClusterName: detail.ClusterName } : {}),
      ...(str(detail.ClusterStatus) ? { ClusterStatus: detail.ClusterStatus } : {}),
    });
    if (outcome.requestId) logger.appendKeys({ requestId: outcome.requestId });
    logger.info('Cluster state change', { clusterStatus: detail.ClusterStatus, ...outcome });
    return outcome;
  });

export const handler = makeHandler(wakeDeps);
