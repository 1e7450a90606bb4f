/**
 * The HyperPod model behind the SageMaker simulator, on its own and in virtual time (an injected clock): the launch
 * answers the capacity question before InService, a shortage rolls back at the launch, and a group waiting for its
 * MinInstanceCount launches (and holds) what is free meanwhile.
 */
import { describe, expect, it } from 'vitest';
import { HyperPodModel, type HyperPodModelOptions } from '../../local/simulators/hyperpod-model';

const P5 = 'ml.p5.48xlarge';
const REGION = 'us-east-1';
const TIMING = { launchAfterMs: 240_000, readyAfterMs: 900_000, rollbackMs: 120_000, deleteAfterMs: 120_000 };

const modelAt = (options: HyperPodModelOptions = {}) => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const model = new HyperPodModel({ ...TIMING, ...options, clock: () => now });
  return { model, advance: (ms: number) => void (now += ms) };
};

const body = (name: string, group: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  ClusterName: name,
  InstanceGroups: [
    {
      InstanceGroupName: 'workers',
      InstanceCount: 4,
      InstanceType: P5,
      LifeCycleConfig: { SourceS3Uri: 's3://bucket/scripts/', OnCreate: 'on_create.sh' },
      ExecutionRole: 'arn:aws:iam::123456789012:role/Role',
      ...group,
    },
  ],
  ...extra,
});

const described = (model: HyperPodModel, name: string) => {
  const d = model.describe(model.find(name, REGION)!) as { ClusterStatus: string; InstanceGroups: Array<{ CurrentCount: number }> };
  return { status: d.ClusterStatus, current: d.InstanceGroups[0]!.CurrentCount };
};

describe('the HyperPod model in virtual time', () => {
  it('launches at launchAfterMs (CurrentCount at the target, still Creating) and is InService at readyAfterMs', () => {
    const { model, advance } = modelAt({ regionCapacity: { [REGION]: { [P5]: 4 } } });
    model.create(body('a'), REGION);
    advance(239_999);
    expect(described(model, 'a')).toEqual({ status: 'Creating', current: 0 });
    expect(model.free(P5, REGION)).toBe(4);
    advance(1);
    expect(described(model, 'a')).toEqual({ status: 'Creating', current: 4 });
    expect(model.free(P5, REGION)).toBe(0);
    advance(660_000);
    expect(described(model, 'a')).toEqual({ status: 'InService', current: 4 });
  });

  it('rolls back at the launch when short, Failed rollbackMs later, holding nothing', () => {
    const { model, advance } = modelAt({ regionCapacity: { [REGION]: { [P5]: 3 } } });
    model.create(body('short'), REGION);
    advance(240_000);
    expect(described(model, 'short')).toEqual({ status: 'RollingBack', current: 0 });
    advance(120_000);
    expect(described(model, 'short')).toEqual({ status: 'Failed', current: 0 });
    expect(model.free(P5, REGION)).toBe(3);
  });

  it('a group waiting for its minimum holds what is free meanwhile, launches at the minimum, InService a creation remainder later', () => {
    const { model, advance } = modelAt({ minimumWaitMs: 3 * 3600_000, regionCapacity: { [REGION]: { [P5]: 0 } } });
    model.create(body('held', { MinInstanceCount: 4 }, { NodeProvisioningMode: 'Continuous' }), REGION);
    advance(600_000);
    model.setCapacity(P5, 1, REGION);
    expect(described(model, 'held')).toEqual({ status: 'Creating', current: 1 });
    expect(model.free(P5, REGION)).toBe(0);
    advance(1_200_000);
    model.setCapacity(P5, 4, REGION);
    expect(described(model, 'held')).toEqual({ status: 'Creating', current: 4 });
    advance(660_000 - 1);
    expect(described(model, 'held').status).toBe('Creating');
    advance(1);
    expect(described(model, 'held')).toEqual({ status: 'InService', current: 4 });
  });

  it('a minimum never met rolls back at the end of the wait and releases what the group held', () => {
    const { model, advance } = modelAt({ minimumWaitMs: 3 * 3600_000, regionCapacity: { [REGION]: { [P5]: 2 } } });
    model.create(body('never', { MinInstanceCount: 4 }, { NodeProvisioningMode: 'Continuous' }), REGION);
    advance(240_000);
    expect(described(model, 'never')).toEqual({ status: 'Creating', current: 2 });
    advance(3 * 3600_000);
    expect(described(model, 'never')).toEqual({ status: 'RollingBack', current: 0 });
    expect(model.free(P5, REGION)).toBe(2);
  });
});
