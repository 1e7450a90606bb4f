/**
 * What a request does while its offering is short: its `capacityStrategy`.
 *
 * - `recreate` (the default): create; a cluster HyperPod rolls back for capacity is deleted and created again when the
 *   request's turn in the offering's queue comes (functions/core/queue-turn.ts).
 * - `hold` (HyperPod only): create once in Continuous provisioning mode, each instance group's `MinInstanceCount` its
 *   own or else its `InstanceCount`. HyperPod makes the cluster InService once every group has its minimum and keeps
 *   adding instances as capacity frees: the request is READY at the minimum and nothing is re-created, unless a group
 *   misses its minimum for 3 hours and HyperPod rolls it back (then it goes on as `recreate` would). A held request
 *   neither consults the memory of short offerings nor stands in their queues: HyperPod does the waiting, and the
 *   instances launched while a group waits for the rest are billed.
 */
import type { Placement } from './placements';
import type { ProvisionRequest, SageMakerClusterSpec } from './request';

export type CapacityStrategy = NonNullable<ProvisionRequest['capacityStrategy']>;

export const capacityStrategyOf = (request: Pick<ProvisionRequest, 'capacityStrategy'> | undefined): CapacityStrategy =>
  request?.capacityStrategy === 'hold' ? 'hold' : 'recreate';

/** Whether the request holds its cluster (created once in Continuous mode) rather than re-creating it. */
export const holds = (request: Pick<ProvisionRequest, 'capacityStrategy'> | undefined): boolean => capacityStrategyOf(request) === 'hold';

/** The CreateCluster body of a held cluster: Continuous mode, every group's minimum set. */
export const heldCluster = (cluster: SageMakerClusterSpec): SageMakerClusterSpec => ({
  ...cluster,
  NodeProvisioningMode: 'Continuous',
  InstanceGroups: cluster.InstanceGroups.map((g) => ({ ...g, MinInstanceCount: g.MinInstanceCount ?? g.InstanceCount })),
});

/** The create body of the placement under the request's strategy. */
export const clusterToCreate = (
  request: Pick<ProvisionRequest, 'capacityStrategy'> | undefined,
  placement: Placement,
): Placement['cluster'] =>
  placement.provider === 'sagemaker' && holds(request) ? heldCluster(placement.cluster as SageMakerClusterSpec) : placement.cluster;
