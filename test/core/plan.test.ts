import { describe, expect, it } from 'vitest';
import { costOf, failuresOf, planAccepted, type PlanReport, type PreflightProbes } from '../../functions/core/plan';
import { efaInterfaces, ipsPerInstance, s3ObjectOf } from '../../functions/core/plan-checks';
import { PRICE_TABLE_DATE, hourlyPrice } from '../../functions/core/prices';
import type { ProvisionRequest } from '../../functions/core/request';

const group = {
  InstanceGroupName: 'g',
  InstanceType: 'ml.g5.2xlarge',
  InstanceCount: 2,
  LifeCycleConfig: { SourceS3Uri: 's3://b/p/', OnCreate: 'x.sh' },
  ExecutionRole: 'arn:aws:iam::123456789012:role/R',
};

/** Probes that answer "everything exists and fits", with one override. */
const probes = (override: Partial<PreflightProbes> = {}): PreflightProbes => ({
  clusterQuota: async (_r, t) => ({ limit: 8, name: `${t} for cluster usage` }),
  clusterUsage: async () => new Map(),
  subnets: async (_r, ids) => ids.map((id) => ({ id, availableIps: 100 })),
  securityGroups: async (_r, ids) => ids.map((id) => ({ id, selfIngress: true, selfEgress: true })),
  objectExists: async () => true,
  role: async () => ({ trustsSageMaker: true }),
  trainingPlan: async () => ({ status: 'Active', availableInstances: 8 }),
  eksCluster: async () => ({ status: 'ACTIVE' }),
  tirProject: async () => undefined,
  tirPlan: async () => undefined,
  tirSecurityGroup: async () => true,
  tirSshKeys: async () => [],
  ...override,
});

describe('prices', () => {
  it('prices a listed HyperPod type in a listed region, with its source and date', () => {
    const price = hourlyPrice({ provider: 'hyperpod', region: 'us-west-2', instanceType: 'ml.p5.48xlarge' });
    expect(price?.usdPerHour).toBeGreaterThan(0);
    expect(price?.source).toContain(PRICE_TABLE_DATE);
  });

  it('has no price for an unlisted type or region, a missing region, TIR, or a key of Object.prototype', () => {
    expect(hourlyPrice({ provider: 'hyperpod', region: 'us-east-1', instanceType: 'ml.x99.huge' })).toBeUndefined();
    expect(hourlyPrice({ provider: 'hyperpod', region: 'ap-south-2', instanceType: 'ml.p5.48xlarge' })).toBeUndefined();
    expect(hourlyPrice({ provider: 'hyperpod', instanceType: 'ml.p5.48xlarge' })).toBeUndefined();
    expect(hourlyPrice({ provider: 'tir', region: 'us-east-1', instanceType: 'ml.p5.48xlarge' })).toBeUndefined();
    expect(hourlyPrice({ provider: 'hyperpod', region: 'us-east-1', instanceType: 'constructor' })).toBeUndefined();
    expect(hourlyPrice({ provider: 'hyperpod', region: '__proto__', instanceType: 'ml.p5.48xlarge' })).toBeUndefined();
  });

  it('says which type has no price instead of a partial sum', () => {
    const cost = costOf(
      {
        provider: 'sagemaker',
        region: 'us-east-1',
        cluster: { ClusterName: 'c', InstanceGroups: [group, { ...group, InstanceType: 'ml.r5.large' }] },
      },
      8,
    );
    expect(cost.perHour).toBeUndefined();
    expect(cost.note).toBe(
      `no price for ml.r5.large in us-east-1 from the Price List API or in the offline price table of ${PRICE_TABLE_DATE}`,
    );
  });
});

describe('the addresses an instance takes', () => {
  it('is one for the primary interface plus one per EFA interface', () => {
    expect(ipsPerInstance('ml.g5.2xlarge')).toBe(1);
    expect(ipsPerInstance('ml.p5.48xlarge')).toBe(1 + efaInterfaces('ml.p5.48xlarge'));
    expect(efaInterfaces('constructor')).toBe(0);
  });
});

describe('the lifecycle script object', () => {
  it('joins the prefix and OnCreate, for s3://, virtual-hosted and path-style https URIs', () => {
    expect(s3ObjectOf('s3://bucket/a/b/', 'on_create.sh')).toEqual({ bucket: 'bucket', key: 'a/b/on_create.sh' });
    expect(s3ObjectOf('s3://bucket', 'on_create.sh')).toEqual({ bucket: 'bucket', key: 'on_create.sh' });
    expect(s3ObjectOf('https://bucket.s3.us-east-1.amazonaws.com/x', 'y.sh')).toEqual({ bucket: 'bucket', key: 'x/y.sh' });
    expect(s3ObjectOf('https://s3.us-east-1.amazonaws.com/bucket/x', 'y.sh')).toEqual({ bucket: 'bucket', key: 'x/y.sh' });
    expect(s3ObjectOf('https://example.com/x', 'y.sh')).toEqual({});
  });
});

describe('planAccepted', () => {
  const request = {
    requestId: 'r',
    provider: 'sagemaker',
    region: 'us-east-1',
    cluster: { ClusterName: 'c', InstanceGroups: [group] },
    alternatives: [
      { provider: 'sagemaker', region: 'us-west-2', cluster: { ClusterName: 'c', InstanceGroups: [{ ...group, InstanceCount: 9 }] } },
      { provider: 'sagemaker', region: 'eu-west-1', patch: { InstanceGroups: [{ ...group, InstanceCount: 9 }] } },
    ],
  } as unknown as ProvisionRequest;

  it('points a failure into an alternative: its own cluster, or its patch', async () => {
    const report = await planAccepted({ probes: probes(), defaultRegion: 'us-east-1' }, request);
    const quota = (p: number) => report.placements[p]!.checks.find((c) => c.check === 'quota')!;
    expect(quota(0)).toMatchObject({ status: 'pass', path: '/cluster/InstanceGroups/0/InstanceCount' });
    expect(quota(1)).toMatchObject({ status: 'fail', path: '/alternatives/0/cluster/InstanceGroups/0/InstanceCount' });
    expect(quota(2)).toMatchObject({ status: 'fail', path: '/alternatives/1/patch' });
    expect(report.ok).toBe(false);
    expect(failuresOf(report)).toHaveLength(2);
  });

  it('skips, never fails, a check whose probe throws', async () => {
    const report: PlanReport = await planAccepted(
      {
        probes: probes({
          role: async () => {
            throw new Error('IAM: access denied');
          },
        }),
        defaultRegion: 'us-east-1',
      },
      { ...request, alternatives: [] } as ProvisionRequest,
    );
    expect(report.placements[0]!.checks.find((c) => c.check === 'execution-role')).toMatchObject({
      status: 'skipped',
      message: 'could not check: IAM: access denied',
    });
    expect(report.ok).toBe(true);
  });
});
