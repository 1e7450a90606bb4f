/**
 * HyperPod's EventBridge events from the model (./hyperpod-model.ts): a watcher looks at the model on a short interval
 * and reports what changed, as the service puts it on the default bus (source `aws.sagemaker`):
 *  - `SageMaker HyperPod Cluster State Change`: each time a cluster's status changes.
 *  - `SageMaker HyperPod Cluster Event` (clusters in `NodeProvisioningMode: Continuous` only): an `Error`-level Instance
 *    event with EC2's wording each time a group below its target finds no free capacity (once until it grows again),
 *    as in the "cluster events reference" example. Other events (instances added, ...) have no published example and
 *    are not simulated.
 */
import { randomUUID } from 'node:crypto';
import { clusterEventCapacityMessage, type HyperPodModel, type SimCluster } from './hyperpod-model';

/**
 * The `detail` of HyperPod's `SageMaker HyperPod Cluster State Change` event: members of the published example
 * (test/fixtures/providers/hyperpod/state-change.event.json), a subset of them.
 */
export interface ClusterStateChangeDetail {
  ClusterArn: string;
  ClusterName: string;
  ClusterStatus: string;
  /** Epoch milliseconds, as in the published example. */
  CreationTime: number;
  /** "" when there is none, as in the published example. */
  FailureMessage: string;
  InstanceGroups: Array<{ InstanceGroupName: string; CurrentCount: number; TargetCount: number; Status: string; InstanceType?: string }>;
}

/** The `detail` of a `SageMaker HyperPod Cluster Event` (test/fixtures/providers/hyperpod/cluster-event.event.json). */
export interface ClusterEventRecordDetail {
  EventDetails: {
    EventId: string;
    ClusterArn: string;
    ClusterName: string;
    InstanceGroupName: string;
    ResourceType: 'Instance';
    EventTime: number;
    EventLevel: 'Error';
    Description: string;
    EventDetails: { EventMetadata: { Instance: { FailureMessage: string } } };
  };
}

export interface HyperPodEventListeners {
  onStateChange?: (detail: ClusterStateChangeDetail, where: { region: string }) => void;
  onClusterEvent?: (detail: ClusterEventRecordDetail, where: { region: string }) => void;
}

/** What the model shows that was not reported yet, told to the listeners: one look. */
export class HyperPodEventWatcher {
  /** The status last announced, per cluster ARN. */
  private readonly announced = new Map<string, string>();
  /** The level a short group was last reported at, per `${arn}#${group}`. */
  private readonly shortNoticed = new Map<string, number>();

  constructor(
    private readonly model: HyperPodModel,
    private readonly listeners: HyperPodEventListeners,
  ) {}

  /** Settles the model and reports every status that changed since the last look, and newly short groups. */
  look(): void {
    const now = this.model.now();
    this.model.settle(now);
    if (this.listeners.onStateChange) this.stateChanges(this.listeners.onStateChange, now);
    if (this.listeners.onClusterEvent) this.clusterEvents(this.listeners.onClusterEvent, now);
  }

  private stateChanges(onStateChange: NonNullable<HyperPodEventListeners['onStateChange']>, now: number): void {
    for (const c of this.model.list()) {
      const status = this.model.statusOf(c, now);
      if (this.announced.get(c.arn) === status) continue;
      this.announced.set(c.arn, status);
      onStateChange(this.stateChangeDetail(c, status, now), { region: c.region });
    }
  }

  private stateChangeDetail(c: SimCluster, status: string, now: number): ClusterStateChangeDetail {
    const json = this.model.describe(c, now) as { FailureMessage?: string; InstanceGroups: Array<Record<string, unknown>> };
    return {
      ClusterArn: c.arn,
      ClusterName: c.name,
      ClusterStatus: status,
      CreationTime: c.createdAt,
      FailureMessage: json.FailureMessage ?? '',
      InstanceGroups: json.InstanceGroups.map((g) => ({
        InstanceGroupName: String(g.InstanceGroupName),
        CurrentCount: Number(g.CurrentCount),
        TargetCount: Number(g.TargetCount),
        Status: String(g.Status),
        ...(g.InstanceType !== undefined ? { InstanceType: String(g.InstanceType) } : {}),
      })),
    };
  }

  private clusterEvents(onClusterEvent: NonNullable<HyperPodEventListeners['onClusterEvent']>, now: number): void {
    for (const { cluster: c, group: g, held } of this.model.shortGroups()) {
      const key = `${c.arn}#${g.spec.InstanceGroupName}`;
      if (this.shortNoticed.get(key) === held) continue;
      this.shortNoticed.set(key, held);
      onClusterEvent(
        {
          EventDetails: {
            EventId: randomUUID(),
            ClusterArn: c.arn,
            ClusterName: c.name,
            InstanceGroupName: g.spec.InstanceGroupName,
            ResourceType: 'Instance',
            EventTime: now,
            EventLevel: 'Error',
            Description: `Instance creation in Cluster ${c.name} and InstanceGroup ${g.spec.InstanceGroupName} failed`,
            EventDetails: { EventMetadata: { Instance: { FailureMessage: clusterEventCapacityMessage(g.types[0]!) } } },
          },
        },
        { region: c.region },
      );
    }
  }
}

/** Looks every `everyMs` (default 20) while there is a listener; `stop` ends it. */
export const watchHyperPodEvents = (model: HyperPodModel, listeners: HyperPodEventListeners, everyMs = 20): { stop(): void } => {
  if (!listeners.onStateChange && !listeners.onClusterEvent) return { stop: () => undefined };
  const watcher = new HyperPodEventWatcher(model, listeners);
  const timer = setInterval(() => watcher.look(), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
};
