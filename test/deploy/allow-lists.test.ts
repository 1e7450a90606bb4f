/**
 * config/allow-lists.js on its own (no packaging): the parameters turned into the IAM resources of serverless.yml
 * (one ARN per allowed region, one per allowed role) and the submit functions' ALLOWED_* environment, and a malformed
 * parameter stopping `osls package`.
 */
import { describe, expect, it } from 'vitest';
import { AllowListError, allowLists, environment, iam, parseList } from '../../config/allow-lists.js';

const DEFAULTS: Record<string, string> = {
  'param:allowedRegions': '',
  'param:allowedExecutionRoles': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/HyperPodExecution*',
  'param:allowedLifecycleBuckets': 'sagemaker-*',
  'param:hyperpodExecutionRoleArns': '',
  'param:allowedEksClusters': '',
  'param:allowedSubnets': '',
  'param:allowedSecurityGroups': '',
  'param:allowedClusterRoles': '',
  'param:allowedTirProjects': '',
  'param:allowedTirLocations': '',
  'param:allowedTirSkus': '',
  'self:provider.region': 'us-east-1',
};

/** osls's resolveVariable over a set of parameter values (`param:name, ''` asks with a fallback). */
const serverless = (params: Record<string, string> = {}) => ({
  resolveVariable: async (variable: string) => {
    const name = variable.replace(/, ''$/, '');
    const values = { ...DEFAULTS, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [`param:${k}`, v])) };
    if (!(name in values)) throw new Error(`unexpected variable ${variable}`);
    return values[name];
  },
});

const problem = async (params: Record<string, string>): Promise<string> => {
  const error = await iam.sagemakerClusters(serverless(params)).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(AllowListError);
  return (error as Error).message;
};

describe('config/allow-lists.js', () => {
  it('grants EKS access only on the allowedEksClusters, and lists what grants access or places nodes for the submit check', async () => {
    const ctx = serverless({
      allowedEksClusters:
        'arn:aws:eks:us-east-1:123456789012:cluster/ml-platform, arn:${AWS::Partition}:eks:us-west-2:${AWS::AccountId}:cluster/team-*',
      allowedSubnets: 'subnet-0a1b, subnet-0f*',
      allowedClusterRoles: 'arn:aws:iam::123456789012:role/HyperPodCluster*',
      allowedTirProjects: '12345',
    });
    expect(await iam.eksClusters(ctx)).toEqual([
      { 'Fn::Sub': 'arn:aws:eks:us-east-1:123456789012:cluster/ml-platform' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:eks:us-west-2:${AWS::AccountId}:cluster/team-*' },
    ]);
    expect(await iam.eksAccessEntries(ctx)).toEqual([
      { 'Fn::Sub': 'arn:aws:eks:us-east-1:123456789012:access-entry/ml-platform/*' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:eks:us-west-2:${AWS::AccountId}:access-entry/team-*' },
    ]);
    expect(await iam.passableRoles(ctx)).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/HyperPodExecution*' },
      { 'Fn::Sub': 'arn:aws:iam::123456789012:role/HyperPodCluster*' },
    ]);
    expect(await environment.allowedSubnets(ctx)).toBe('subnet-0a1b,subnet-0f*');
    expect(await environment.allowedSecurityGroups(ctx)).toBe('');
    expect(await environment.allowedTirProjects(ctx)).toBe('12345');
    expect(await environment.allowedTirLocations(ctx)).toBe('*');
    expect(await environment.allowedTirSkus(ctx)).toBe('*');
    const bad = await iam
      .eksClusters(serverless({ allowedEksClusters: 'arn:aws:eks:us-east-1:123456789012:cluster/*x' }))
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(AllowListError);
    expect((bad as Error).message).toContain('allowedEksClusters');
  });

  it("grants in the deployment's region alone by default", async () => {
    expect(await iam.sagemakerClusters(serverless())).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:sagemaker:us-east-1:${AWS::AccountId}:cluster/*' },
    ]);
    expect(await environment.allowedRegions(serverless())).toBe('us-east-1');
    expect(await iam.regions(serverless())).toEqual(['us-east-1']);
  });

  it('names one ARN per allowed region, for every regional grant', async () => {
    const ctx = serverless({ allowedRegions: 'us-east-1, eu-west-1,,ap-south-1' });
    const sub = (service: string, resource: string) =>
      ['us-east-1', 'eu-west-1', 'ap-south-1'].map((region) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:${service}:${region}:\${AWS::AccountId}:${resource}`,
      }));
    expect(await iam.sagemakerClusters(ctx)).toEqual(sub('sagemaker', 'cluster/*'));
    expect(await iam.trainingPlans(ctx)).toEqual(sub('sagemaker', 'training-plan/*'));
    expect(await iam.sagemakerClustersAndTrainingPlans(ctx)).toEqual([
      ...sub('sagemaker', 'cluster/*'),
      ...sub('sagemaker', 'training-plan/*'),
    ]);
    // No allowedEksClusters: a name no EKS cluster can have, in every region.
    expect(await iam.eksClusters(ctx)).toEqual(sub('eks', 'cluster/-none-'));
    expect(await iam.eksAccessEntries(ctx)).toEqual(sub('eks', 'access-entry/-none-/*'));
    expect(await environment.allowedRegions(ctx)).toBe('us-east-1,eu-west-1,ap-south-1');
  });

  it('passes exactly the allowed roles, resolved at deploy time, and hands the same lists to the submit functions', async () => {
    const ctx = serverless({
      allowedExecutionRoles:
        'arn:aws:iam::123456789012:role/HyperPodExecution-*, arn:${AWS::Partition}:iam::${AWS::AccountId}:role/team/Trainer',
      allowedLifecycleBuckets: 'sagemaker-*, team-lifecycle',
    });
    expect(await iam.executionRoles(ctx)).toEqual([
      { 'Fn::Sub': 'arn:aws:iam::123456789012:role/HyperPodExecution-*' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/team/Trainer' },
    ]);
    expect(await environment.allowedExecutionRoles(ctx)).toEqual({
      'Fn::Sub': 'arn:aws:iam::123456789012:role/HyperPodExecution-*,arn:${AWS::Partition}:iam::${AWS::AccountId}:role/team/Trainer',
    });
    expect(await environment.allowedLifecycleBuckets(ctx)).toBe('sagemaker-*,team-lifecycle');
  });

  it.each([
    [{ allowedRegions: 'us-east-1,mars-north-1x' }, /allowedRegions: "mars-north-1x" is not an AWS region name/],
    [{ allowedExecutionRoles: 'arn:aws:iam::123456789012:role/*Admin' }, /allowedExecutionRoles: ".*" is not an IAM role ARN/],
    [{ allowedExecutionRoles: 'arn:aws:iam::*:role/HyperPod*' }, /allowedExecutionRoles/],
    [{ allowedExecutionRoles: '*' }, /allowedExecutionRoles: "\*" is not an IAM role ARN/],
    [{ allowedExecutionRoles: '' }, /allowedExecutionRoles must list at least one value/],
    [{ allowedLifecycleBuckets: 'Bad_Bucket' }, /allowedLifecycleBuckets: "Bad_Bucket" is not an S3 bucket name/],
    [{ allowedLifecycleBuckets: ' , ' }, /allowedLifecycleBuckets must list at least one value/],
    [{ hyperpodExecutionRoleArns: 'arn:aws:iam::123456789012:role/x' }, /hyperpodExecutionRoleArns is now called allowedExecutionRoles/],
  ])('stops the packaging on %j', async (params, message) => {
    expect(await problem(params)).toMatch(message);
  });

  it('accepts * for any bucket, and prefixes', () => {
    expect(
      allowLists({ allowedExecutionRoles: 'arn:aws:iam::123456789012:role/x', allowedLifecycleBuckets: '*,abc*' }, 'us-east-1').buckets,
    ).toEqual(['*', 'abc*']);
    expect(parseList(undefined)).toEqual([]);
  });
});
