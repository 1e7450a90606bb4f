import { describe, expect, it } from 'vitest';
import { alternativeErrors, instanceTypesOf, mergePatch, placementsOf, shortOfferings } from '../../functions/core/placements';
import type { ProvisionRequest } from '../../functions/core/request';
import { validateRequest } from '../../functions/core/validate';

const group = (type: string) => ({
  InstanceGroupName: 'workers',
  InstanceCount: 2,
  InstanceType: type,
  LifeCycleConfig: { SourceS3Uri: 's3://sagemaker-bucket/lc/', OnCreate: 'on_create.sh' },
  ExecutionRole: 'arn:aws:iam::123456789012:role/HyperPodExecutionRole',
});

const request = (alternatives: unknown[]): ProvisionRequest =>
  ({
    provider: 'sagemaker',
    region: 'us-east-1',
    cluster: { ClusterName: 'train', InstanceGroups: [group('ml.p5.48xlarge')] },
    alternatives,
  }) as unknown as ProvisionRequest;

const TIR_CLUSTER = {
  name: 'train',
  image_version_id: 1,
  ssh_key_ids: [1],
  security_group_id: 1,
  sku_id: 77,
  no_of_nodes: 2,
  sku_item_price_id: 9,
};

describe('mergePatch (RFC 7396)', () => {
  it('merges objects member by member, removes on null, replaces arrays and scalars', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1] }, { b: { c: null, x: 1 }, e: [2], f: 'y' })).toEqual({
      a: 1,
      b: { d: 3, x: 1 },
      e: [2],
      f: 'y',
    });
    expect(mergePatch({ a: 1 }, 'x')).toBe('x');
  });
});

describe('placements', () => {
  it('lists the primary then each alternative, a patch applied over the primary cluster', () => {
    const placements = placementsOf(
      request([
        { provider: 'sagemaker', region: 'us-west-2', patch: { InstanceGroups: [group('ml.p4d.24xlarge')] } },
        { provider: 'tir', projectId: 5, location: 'Delhi', cluster: TIR_CLUSTER },
      ]),
      'us-east-1',
    );
    expect(placements.map((p) => [p.provider, p.provider === 'sagemaker' ? p.region : p.location])).toEqual([
      ['sagemaker', 'us-east-1'],
      ['sagemaker', 'us-west-2'],
      ['tir', 'Delhi'],
    ]);
    expect(instanceTypesOf(placements[1]!)).toEqual(['ml.p4d.24xlarge']);
    expect(instanceTypesOf(placements[2]!)).toEqual(['sku-77']);
  });

  it('keys a shortage by the types its message names, else by every type of the placement', () => {
    const [p] = placementsOf(request([]), 'us-east-1');
    expect(shortOfferings(p!, 'We currently do not have sufficient ml.p5.48xlarge capacity')).toEqual([
      'sagemaker#us-east-1#ml.p5.48xlarge',
    ]);
    expect(shortOfferings(p!, 'insufficient capacity')).toEqual(['sagemaker#us-east-1#ml.p5.48xlarge']);
  });
});

describe('validating alternatives as whole requests', () => {
  it('points into the alternative: a bad patched member, a missing cluster for another provider, a bad place', () => {
    const errors = alternativeErrors(
      request([
        { provider: 'sagemaker', region: 'us-west-2', patch: { InstanceGroups: [{ ...group('ml.p4d.24xlarge'), InstanceCount: 0 }] } },
        { provider: 'tir', projectId: 5, location: 'Delhi' },
        { provider: 'tir', projectId: -1, location: 'Delhi', cluster: TIR_CLUSTER },
      ]),
      validateRequest,
      'us-east-1',
    );
    expect(errors.map((e) => e.path)).toEqual([
      '/alternatives/0/patch/InstanceGroups/0/InstanceCount',
      '/alternatives/1/cluster',
      '/alternatives/2/projectId',
    ]);
  });

  it('finds nothing wrong with valid alternatives', () => {
    expect(
      alternativeErrors(
        request([
          { provider: 'tir', projectId: 5, location: 'Delhi', cluster: TIR_CLUSTER },
          { provider: 'sagemaker', region: 'eu-west-1' },
        ]),
        validateRequest,
        'us-east-1',
      ),
    ).toEqual([]);
  });
});
