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
  allowedTirProjects: ['1', '12345'],
  allowedTirLocations: ['*'],
  allowedTirSkus: ['*'],
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

  it("checks a TIR request's project, location and SKU, and no AWS role, bucket or region", () => {
    const aws = { allowedRegions: [], allowedExecutionRoles: [], allowedLifecycleBuckets: [] };
    expect(
      checkPolicy(
        { ...aws, allowedTirProjects: ['12345'], allowedTirLocations: ['Delhi'], allowedTirSkus: ['401'] },
        tirRequest(),
        'us-east-1',
      ),
    ).toEqual([]);
    // Unset: no project is allowed (nor, in the core, any location or SKU: the wiring makes those two "any").
    expect(checkPolicy(aws, tirRequest(), 'us-east-1').map((e) => e.path)).toEqual(['/projectId', '/location', '/cluster/sku_id']);
    expect(
      checkPolicy({ ...aws, allowedTirProjects: ['999'], allowedTirLocations: ['*'], allowedTirSkus: ['400'] }, tirRequest(), 'us-east-1'),
    ).toEqual([
      { path: '/projectId', message: "must be one of the deployment's allowedTirProjects (999)" },
      { path: '/cluster/sku_id', message: "must be one of the deployment's allowedTirSkus (400)" },
    ]);
  });

  it('refuses an EKS cluster, a subnet, a security group or a ClusterRole the deployment does not list, each at its pointer', () => {
    const eks = sagemakerRequest();
    const cluster = eks.cluster as unknown as Record<string, unknown>;
    cluster.Orchestrator = { Eks: { ClusterArn: 'arn:aws:eks:us-east-1:123456789012:cluster/someone-elses' } };
    cluster.VpcConfig = { Subnets: ['subnet-0aaa', 'subnet-0bbb'], SecurityGroupIds: ['sg-0ccc'] };
    cluster.ClusterRole = 'arn:aws:iam::123456789012:role/Admin';
    (cluster.InstanceGroups as Array<Record<string, unknown>>)[0]!.OverrideVpcConfig = {
      Subnets: ['subnet-0ddd'],
      SecurityGroupIds: ['sg-0eee'],
    };

    // Unset lists: none of it is allowed.
    expect(checkPolicy(POLICY, eks, 'us-east-1').map((e) => e.path)).toEqual([
      '/cluster/Orchestrator/Eks/ClusterArn',
      '/cluster/ClusterRole',
      '/cluster/VpcConfig/Subnets/0',
      '/cluster/VpcConfig/Subnets/1',
      '/cluster/VpcConfig/SecurityGroupIds/0',
      '/cluster/InstanceGroups/0/OverrideVpcConfig/Subnets/0',
      '/cluster/InstanceGroups/0/OverrideVpcConfig/SecurityGroupIds/0',
    ]);
    // Listed (exactly or by prefix): allowed; the one subnet still outside is named alone.
    const listed: DeploymentPolicy = {
      ...POLICY,
      allowedEksClusters: ['arn:aws:eks:us-east-1:123456789012:cluster/ml-*'],
      allowedSubnets: ['subnet-0aaa', 'subnet-0d*'],
      allowedSecurityGroups: ['sg-0ccc', 'sg-0eee'],
      allowedClusterRoles: ['arn:aws:iam::123456789012:role/HyperPodCluster*'],
    };
    expect(checkPolicy(listed, eks, 'us-east-1').map((e) => e.path)).toEqual([
      '/cluster/Orchestrator/Eks/ClusterArn',
      '/cluster/ClusterRole',
      '/cluster/VpcConfig/Subnets/1',
    ]);
    cluster.Orchestrator = { Eks: { ClusterArn: 'arn:aws:eks:us-east-1:123456789012:cluster/ml-platform' } };
    cluster.ClusterRole = 'arn:aws:iam::123456789012:role/HyperPodClusterRole';
    cluster.VpcConfig = { Subnets: ['subnet-0aaa'], SecurityGroupIds: ['sg-0ccc'] };
    expect(checkPolicy(listed, eks, 'us-east-1')).toEqual([]);
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
