/**
 * The deployment's allow-lists (functions/core/policy.ts): which fields of a valid request they refuse, at which
 * JSON Pointer, and how entries match.
 */
import { describe, expect, it } from 'vitest';
import { allowedBy, checkPolicy, lifecycleBucketOf, type DeploymentPolicy } from '../../functions/core/policy';
import { p5Group, sagemakerRequest, tirRequest } from '../fakes/world';

const POLICY: DeploymentPolicy = {
  allowedRegions: ['us-east-1', 'eu-west-1'],
  allowedExecutionRoles: ['arn:aws:iam::123456789012:role/HyperPodExecution*', 'arn:aws:iam::123456789012:role/team/TrainingRole'],
  allowedLifecycleBuckets: ['sagemaker-*', 'unit-lifecycle'],
};

describe('allowedBy', () => {
  it('matches an entry ending in * as a prefix and any other entry whole', () => {
    // Prepare
    const list = ['arn:aws:iam::1:role/HyperPod*', 'exact-bucket'];

    // Act / Assess
    expect(allowedBy(list, 'arn:aws:iam::1:role/HyperPodExecution')).toBe(true);
    expect(allowedBy(list, 'arn:aws:iam::1:role/HyperPod')).toBe(true);
    expect(allowedBy(list, 'arn:aws:iam::1:role/Admin')).toBe(false);
    expect(allowedBy(list, 'exact-bucket')).toBe(true);
    expect(allowedBy(list, 'exact-bucket-2')).toBe(false);
    expect(allowedBy(list, 'exact')).toBe(false);
    expect(allowedBy(['*'], 'anything at all')).toBe(true);
    expect(allowedBy([], 'anything')).toBe(false);
  });
});

describe('lifecycleBucketOf', () => {
  it.each([
    ['s3://sagemaker-demo/scripts/', 'sagemaker-demo'],
    ['s3://sagemaker-demo', 'sagemaker-demo'],
    ['S3://Sagemaker-Demo/x', 'sagemaker-demo'],
    ['https://sagemaker-demo.s3.amazonaws.com/scripts/', 'sagemaker-demo'],
    ['https://sagemaker-demo.s3.us-east-1.amazonaws.com/scripts/', 'sagemaker-demo'],
    ['https://sagemaker-demo.s3-us-west-2.amazonaws.com/scripts/', 'sagemaker-demo'],
    ['https://my.dotted.bucket.s3.eu-west-1.amazonaws.com/x', 'my.dotted.bucket'],
    ['https://s3.us-east-1.amazonaws.com/sagemaker-demo/scripts/', 'sagemaker-demo'],
    ['https://s3.amazonaws.com/sagemaker-demo', 'sagemaker-demo'],
    ['https://sagemaker-cn.s3.cn-north-1.amazonaws.com.cn/x', 'sagemaker-cn'],
  ])('finds the bucket of %s', (uri, bucket) => {
    expect(lifecycleBucketOf(uri)).toBe(bucket);
  });

  it.each([
    ['s3:///no-bucket'],
    ['https://example.com/sagemaker-demo/scripts/'],
    ['https://sagemaker-demo.s3.amazonaws.com.evil.example/x'],
    ['https://s3.us-east-1.amazonaws.com/'],
    ['ftp://sagemaker-demo/x'],
  ])('finds no bucket in %s', (uri) => {
    expect(lifecycleBucketOf(uri)).toBeUndefined();
  });
});

describe('checkPolicy', () => {
  it('allows a request whose regions, roles and buckets are all listed', () => {
    const request = sagemakerRequest({
      region: 'eu-west-1',
      cluster: {
        ClusterName: 'ok',
        InstanceGroups: [
          p5Group(),
          p5Group({
            InstanceGroupName: 'b',
            ExecutionRole: 'arn:aws:iam::123456789012:role/team/TrainingRole',
            LifeCycleConfig: { SourceS3Uri: 's3://sagemaker-team/x/', OnCreate: 'on_create.sh' },
          }),
        ],
      },
    });

    expect(checkPolicy(POLICY, request, 'us-east-1')).toEqual([]);
  });

  it('refuses a role, a bucket and a region outside the lists, each at its JSON Pointer, in the order of the request', () => {
    // Prepare
    const request = sagemakerRequest({
      region: 'ap-south-1',
      cluster: {
        ClusterName: 'bad',
        InstanceGroups: [
          p5Group(),
          p5Group({
            InstanceGroupName: 'b',
            ExecutionRole: 'arn:aws:iam::123456789012:role/Administrator',
            LifeCycleConfig: { SourceS3Uri: 's3://someone-elses-bucket/x/', OnCreate: 'on_create.sh' },
          }),
        ],
      },
    });

    // Act
    const errors = checkPolicy(POLICY, request, 'us-east-1');

    // Assess
    expect(errors.map((e) => e.path)).toEqual([
      '/region',
      '/cluster/InstanceGroups/1/ExecutionRole',
      '/cluster/InstanceGroups/1/LifeCycleConfig/SourceS3Uri',
    ]);
    expect(errors[0]!.message).toBe("must be one of the deployment's allowedRegions (us-east-1, eu-west-1)");
    expect(errors[1]!.message).toMatch(
      /^must be a role of the deployment's allowedExecutionRoles \(arn:aws:iam::123456789012:role\/HyperPodExecution\*/,
    );
    expect(errors[2]!.message).toMatch(/allowedLifecycleBuckets \(sagemaker-\*, unit-lifecycle\), not someone-elses-bucket$/);
  });

  it("judges a request without a region by the deployment's region, and says so", () => {
    const { region: _none, ...request } = sagemakerRequest();

    expect(checkPolicy(POLICY, request, 'eu-west-1')).toEqual([]);
    expect(checkPolicy(POLICY, request, 'us-west-2')).toEqual([
      {
        path: '/region',
        message: "is required here: the deployment's region us-west-2 is not among its allowedRegions (us-east-1, eu-west-1)",
      },
    ]);
  });

  it('refuses a lifecycle URI it cannot find a bucket in', () => {
    const request = sagemakerRequest({
      cluster: {
        ClusterName: 'x',
        InstanceGroups: [p5Group({ LifeCycleConfig: { SourceS3Uri: 'https://example.com/sagemaker-x/', OnCreate: 'a.sh' } })],
      },
    });

    expect(checkPolicy(POLICY, request, 'us-east-1')).toEqual([
      {
        path: '/cluster/InstanceGroups/0/LifeCycleConfig/SourceS3Uri',
        message: "must be in a bucket of the deployment's allowedLifecycleBuckets (sagemaker-*, unit-lifecycle): no S3 bucket found in it",
      },
    ]);
  });

  it('checks the roles of restricted instance groups too', () => {
    const request = sagemakerRequest({
      cluster: {
        ClusterName: 'rig',
        InstanceGroups: [p5Group()],
        RestrictedInstanceGroups: [
          {
            InstanceGroupName: 'r',
            InstanceCount: 1,
            InstanceType: 'ml.p5.48xlarge',
            ExecutionRole: 'arn:aws:iam::123456789012:role/Nova',
          },
        ],
      },
    });

    expect(checkPolicy(POLICY, request, 'us-east-1').map((e) => e.path)).toEqual(['/cluster/RestrictedInstanceGroups/0/ExecutionRole']);
  });

  it('checks every alternative as the request it stands for, at its pointer under /alternatives', () => {
    // Prepare: a region outside the lists; a patch naming a role outside them; a whole cluster with a bad bucket; TIR.
    const request = sagemakerRequest({
      alternatives: [
        { provider: 'sagemaker', region: 'ap-south-1' },
        {
          provider: 'sagemaker',
          region: 'eu-west-1',
          patch: { InstanceGroups: [p5Group({ ExecutionRole: 'arn:aws:iam::123456789012:role/Admin' })] },
        },
        {
          provider: 'sagemaker',
          cluster: {
            ClusterName: 'c',
            InstanceGroups: [p5Group({ LifeCycleConfig: { SourceS3Uri: 's3://elsewhere/x', OnCreate: 'a.sh' } })],
          },
        },
        { provider: 'tir', projectId: 1, location: 'Delhi', cluster: tirRequest().cluster as unknown as Record<string, unknown> },
        { provider: 'sagemaker', region: 'eu-west-1' },
      ],
    });

    // Act
    const errors = checkPolicy(POLICY, request, 'us-east-1');

    // Assess
    expect(errors.map((e) => e.path)).toEqual([
      '/alternatives/0/region',
      '/alternatives/1/patch/InstanceGroups/0/ExecutionRole',
      '/alternatives/2/cluster/InstanceGroups/0/LifeCycleConfig/SourceS3Uri',
    ]);
  });

  it('leaves TIR requests alone: they name no AWS role, bucket or region', () => {
    expect(checkPolicy({ allowedRegions: [], allowedExecutionRoles: [], allowedLifecycleBuckets: [] }, tirRequest(), 'us-east-1')).toEqual(
      [],
    );
  });

  it('allows nothing on an empty list', () => {
    const errors = checkPolicy(
      { allowedRegions: ['us-east-1'], allowedExecutionRoles: [], allowedLifecycleBuckets: [] },
      sagemakerRequest(),
      'us-east-1',
    );
    expect(errors.map((e) => e.message)).toEqual([
      "must be a role of the deployment's allowedExecutionRoles (none)",
      "must be in a bucket of the deployment's allowedLifecycleBuckets (none), not unit-lifecycle",
    ]);
  });
});
