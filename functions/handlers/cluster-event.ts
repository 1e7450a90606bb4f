/**
 * HyperPod's state-change events (rule on the default bus: `source = aws.sagemaker`, detail-type `SageMaker HyperPod
 * Cluster State Change`): wakes the workflow creating that cluster (functions/core/wake.ts). An event for a cluster no
 * request is creating is logged and ignored; duplicates and late events only cost the woken workflow one poll.
 */
import { onClusterStateChange, type ClusterStateChange, type WakeDeps } from '../core/wake';
import { asyncHandler } from '../platform/middleware/async';
import { logger } from '../platform/observability';
import { wakeDeps } from '../wiring/wake';

interface StateChangeEvent {
  'detail-type'?: string;
  detail?: ClusterStateChange;
}

export const makeHandler = (deps: () => WakeDeps) =>
  asyncHandler<StateChangeEvent, { requestId?: string; woken: boolean; ignored?: string }>('clusterEvent', async (event) => {
    const detail = event && typeof event.detail === 'object' && event.detail !== null ? event.detail : {};
    const outcome = await onClusterStateChange(deps(), {
      ...(typeof detail.ClusterArn === 'string' ? { ClusterArn: detail.ClusterArn } : {}),
      ...(typeof detail.ClusterName === 'string' ? { ClusterName: detail.ClusterName } : {}),
      ...(typeof detail.ClusterStatus === 'string' ? { ClusterStatus: detail.ClusterStatus } : {}),
    });
    if (outcome.requestId) logger.appendKeys({ requestId: outcome.requestId });
    logger.info('Cluster state change', { clusterStatus: detail.ClusterStatus, ...outcome });
    return outcome;
  });

export const handler = makeHandler(wakeDeps);
