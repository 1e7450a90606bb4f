/**
 * The pre-flight plan's checks through the real AWS SDK clients and fetch, against the account simulator
 * (local/simulators/account.ts: Service Quotas, EC2, S3, IAM, EKS on their wire protocols), the SageMaker simulator
 * (ListClusters, DescribeCluster, DescribeTrainingPlan) and the TIR simulator: every check's pass, fail and skipped path.
 */
import { readFileSync } from 'node:fs';
import { CreateClusterCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GetServiceQuotaCommand, ListServiceQuotasCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { createAwsProbes, trustsSageMaker } from '../../functions/adapters/preflight-aws';
import { createTirProbes } from '../../functions/adapters/preflight-tir';
import { planAccepted, type CheckResult, type PlanReport, type PreflightProbes } from '../../functions/core/plan';
import type { ProvisionRequest, SageMakerInstanceGroup } from '../../functions/core/request';
import { startAccountSimulator, type AccountFixture, type AccountSimulator } from '../../local/simulators/account';
import { startSageMakerSimulator, type SageMakerSimulator } from '../../local/simulators/sagemaker';
import { startTirSimulator, type TirSimulator } from '../../local/simulators/tir';

const FIXTURE = JSON.parse(readFileSync(new URL('../../local/account.json', import.meta.url), 'utf8')) as AccountFixture;
const ROLE = 'arn:aws:iam::123456789012:role/HyperPodExecutionRole';
const PLAN = 'arn:aws:sagemaker:us-east-1:123456789012:training-plan/p5-week-1';

const group = (overrides: Partial<SageMakerInstanceGroup> = {}): SageMakerInstanceGroup => ({
  InstanceGroupName: 'workers',
  InstanceType: 'ml.p5.48xlarge',
  InstanceCount: 2,
  LifeCycleConfig: { SourceS3Uri: 's3://sagemaker-demo-lifecycle/hyperpod/', OnCreate: 'on_create.sh' },
  ExecutionRole: ROLE,
  ...overrides,
});

const hyperpod = (groups: SageMakerInstanceGroup[], extra: Record<string, unknown> = {}): ProvisionRequest =>
  ({
    requestId: 'plan-test',
    provider: 'sagemaker',
    region: 'us-east-1',
    cluster: {
      ClusterName: 'plan-test',
      InstanceGroups: groups,
      VpcConfig: { SecurityGroupIds: ['sg-0123456789abcdef0'], Subnets: ['subnet-0123456789abcdef0'] },
      ...extra,
    },
  }) as ProvisionRequest;

const find = (report: PlanReport, check: string, placement = 0): CheckResult[] =>
  report.placements[placement]!.checks.filter((c) => c.check === check);
const one = (report: PlanReport, check: string, placement = 0): CheckResult => {
  const found = find(report, check, placement);
  expect(found, check).toHaveLength(1);
  return found[0]!;
};

describe('the pre-flight plan against the simulators, through the real SDK', () => {
  let account: AccountSimulator;
  let sagemaker: SageMakerSimulator;
  let tir: TirSimulator;
  let probes: PreflightProbes;
  const saved: Record<string, string | undefined> = {};
  const plan = (request: ProvisionRequest, checkTimeoutMs = 5000) =>
    planAccepted({ probes, defaultRegion: 'us-east-1', checkTimeoutMs }, request);

  beforeAll(async () => {
    account = await startAccountSimulator({ fixture: FIXTURE });
    sagemaker = await startSageMakerSimulator({ readyAfterMs: 50, trainingPlans: FIXTURE.trainingPlans ?? [] });
    tir = await startTirSimulator({ securityGroupIds: [3] });
    const env = {
      ...account.environment,
      AWS_ENDPOINT_URL_SAGEMAKER: sagemaker.endpoint,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    };
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    probes = {
      ...createAwsProbes(),
      ...createTirProbes({ baseUrl: tir.baseUrl, credentials: async () => ({ apiKey: tir.apiKey, authToken: tir.authToken }) }),
    };
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await Promise.all([account.close(), sagemaker.close(), tir.close()]);
  });
  afterEach(() => {
    for (const op of [
      'ListServiceQuotas',
      'DescribeSubnets',
      'DescribeSecurityGroups',
      'HeadObject',
      'GetRole',
      'DescribeCluster',
    ] as const)
      account.setFault(op, undefined);
    sagemaker.clearFaults();
  });

  it('passes every check of a request the account can hold, and prices it from the table', async () => {
    const report = await plan({ ...hyperpod([group({ TrainingPlanArn: PLAN })]), deleteAfter: 'PT10H' });
    const statuses = report.placements[0]!.checks.map((c) => `${c.check}:${c.status}`);
    expect(statuses.sort()).toEqual(
      [
        'efa-security-group:pass',
        'execution-role:pass',
        'lifecycle-script:pass',
        'quota:pass',
        'subnet-ips:pass',
        'training-plan:pass',
      ].sort(),
    );
    expect(report.ok).toBe(true);
    expect(one(report, 'subnet-ips').message).toBe('66 addresses needed (1 per instance + 1 per EFA interface), 4000 free');
    expect(report.placements[0]!.cost).toMatchObject({ currency: 'USD', perHour: 226.14, hours: 10, total: 2261.36 });
    // the calls went over each service's own protocol
    expect(account.requests.map((r) => r.operation)).toEqual(
      expect.arrayContaining(['ListServiceQuotas', 'DescribeSubnets', 'DescribeSecurityGroups', 'HeadObject', 'GetRole']),
    );
    expect(sagemaker.requests.map((r) => r.operation)).toEqual(expect.arrayContaining(['ListClusters', 'DescribeTrainingPlan']));
  });

  it('fails what can never work, each at its pointer with a fix', async () => {
    const report = await plan(
      hyperpod(
        [
          group({
            InstanceCount: 6,
            TrainingPlanArn: PLAN,
            LifeCycleConfig: { SourceS3Uri: 's3://sagemaker-demo-lifecycle/missing/', OnCreate: 'on_create.sh' },
            ExecutionRole: 'arn:aws:iam::123456789012:role/LambdaOnlyRole',
          }),
          group({
            InstanceGroupName: 'other',
            InstanceType: 'ml.g5.2xlarge',
            InstanceCount: 1,
            ExecutionRole: 'arn:aws:iam::123456789012:role/NoSuchRole',
          }),
        ],
        { VpcConfig: { SecurityGroupIds: ['sg-0fedcba9876543210'], Subnets: ['subnet-0fedcba9876543210'] } },
      ),
    );
    expect(report.ok).toBe(false);
    const quota = find(report, 'quota').find((c) => c.subject === 'ml.p5.48xlarge')!;
    expect(quota).toMatchObject({ status: 'fail', path: '/cluster/InstanceGroups/0/InstanceCount' });
    expect(quota.message).toBe('the request needs 6, the limit is 4: it can never fit');
    expect(quota.fix).toContain('ml.p5.48xlarge for cluster usage');
    expect(one(report, 'subnet-ips')).toMatchObject({ status: 'fail', path: '/cluster/VpcConfig/Subnets' });
    expect(one(report, 'efa-security-group')).toMatchObject({ status: 'fail', path: '/cluster/VpcConfig/SecurityGroupIds' });
    expect(find(report, 'lifecycle-script')[0]).toMatchObject({
      status: 'fail',
      message: 'no object missing/on_create.sh in bucket sagemaker-demo-lifecycle',
    });
    const roles = find(report, 'execution-role');
    expect(roles.map((r) => [r.path, r.status, r.message])).toEqual([
      ['/cluster/InstanceGroups/0/ExecutionRole', 'fail', 'its trust policy does not let sagemaker.amazonaws.com assume it'],
      ['/cluster/InstanceGroups/1/ExecutionRole', 'fail', 'no such role'],
    ]);
    expect(one(report, 'training-plan')).toMatchObject({
      status: 'fail',
      message: 'has 4 instances available, the groups that name it need 6',
    });
    expect(report.summary.fail).toBe(7);
  });

  it('fails a missing subnet, a missing or inactive training plan, and a missing or inactive EKS cluster', async () => {
    const base = hyperpod([group({ TrainingPlanArn: 'arn:aws:sagemaker:us-east-1:123456789012:training-plan/p5-expired' })], {
      VpcConfig: { SecurityGroupIds: ['sg-0123456789abcdef0'], Subnets: ['subnet-0123456789abcdef0', 'subnet-00000000000000000'] },
      Orchestrator: { Eks: { ClusterArn: 'arn:aws:eks:us-west-2:123456789012:cluster/ml-staging' } },
    });
    const report = await plan(base);
    expect(one(report, 'subnet-ips')).toMatchObject({ status: 'fail', message: 'no subnet subnet-00000000000000000 in us-east-1' });
    expect(one(report, 'training-plan')).toMatchObject({ status: 'fail', message: 'is Expired, not Active' });
    expect(one(report, 'eks-cluster')).toMatchObject({ status: 'fail', message: 'is CREATING, not ACTIVE' });
    const missing = await plan(
      hyperpod([group({ TrainingPlanArn: 'arn:aws:sagemaker:us-east-1:123456789012:training-plan/none-such' })], {
        Orchestrator: { Eks: { ClusterArn: 'arn:aws:eks:us-west-2:123456789012:cluster/none-such' } },
      }),
    );
    expect(one(missing, 'training-plan').status).toBe('fail');
    expect(one(missing, 'eks-cluster')).toMatchObject({ status: 'fail', message: 'no EKS cluster none-such in us-west-2' });
    const active = await plan(
      hyperpod([group()], { Orchestrator: { Eks: { ClusterArn: 'arn:aws:eks:us-west-2:123456789012:cluster/ml-platform' } } }),
    );
    expect(one(active, 'eks-cluster').status).toBe('pass');
  });

  it('warns when the subnets have room only together, or pods of an EKS cluster will take addresses too; fails a missing security group', async () => {
    const west = (groups: SageMakerInstanceGroup[], extra: Record<string, unknown>) =>
      ({ ...hyperpod(groups, extra), region: 'us-west-2' }) as ProvisionRequest;
    const vpc = { SecurityGroupIds: ['sg-0a1b2c3d4e5f60718'], Subnets: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'] };
    // 105 x ml.g6e.12xlarge (1 EFA interface: 2 addresses each) = 210: more than the 200 of one subnet, less than 230
    const spread = await plan(west([group({ InstanceType: 'ml.g6e.12xlarge', InstanceCount: 105 })], { VpcConfig: vpc }));
    expect(one(spread, 'subnet-ips')).toMatchObject({
      status: 'warn',
      message:
        '210 addresses needed (1 per instance + 1 per EFA interface), 230 free in all, at most 200 in one subnet: the cluster fits only if HyperPod spreads it',
    });
    const eks = await plan(
      west([group({ InstanceType: 'ml.g6e.12xlarge', InstanceCount: 4 })], {
        VpcConfig: vpc,
        Orchestrator: { Eks: { ClusterArn: 'arn:aws:eks:us-west-2:123456789012:cluster/ml-platform' } },
      }),
    );
    expect(one(eks, 'subnet-ips')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('EKS pods take addresses of their own'),
    });
    const noGroup = await plan(
      hyperpod([group()], { VpcConfig: { SecurityGroupIds: ['sg-00000000000000000'], Subnets: ['subnet-0123456789abcdef0'] } }),
    );
    expect(one(noGroup, 'efa-security-group')).toMatchObject({
      status: 'fail',
      message: 'no security group sg-00000000000000000 in us-east-1',
    });
  });

  it('skips the network checks while EC2 throttles', async () => {
    account.setFault('DescribeSubnets', 'throttled');
    account.setFault('DescribeSecurityGroups', 'throttled');
    const report = await plan(hyperpod([group()]));
    expect(one(report, 'subnet-ips')).toMatchObject({ status: 'skipped', message: 'could not check: EC2: throttled' });
    expect(one(report, 'efa-security-group')).toMatchObject({ status: 'skipped', message: 'could not check: EC2: throttled' });
  });

  it("warns when the quota fits only once the account's other clusters release instances, counting them by DescribeCluster", async () => {
    await new SageMakerClient({ region: 'us-east-1' }).send(
      new CreateClusterCommand({ ClusterName: 'someone-elses', InstanceGroups: [{ ...group({ InstanceCount: 3 }) }] as never }),
    );
    const report = await plan(hyperpod([group({ InstanceCount: 2 })]));
    const quota = one(report, 'quota');
    expect(quota).toMatchObject({ status: 'warn', message: "needs 2, the account's clusters hold 3 of 4: it waits until 1 are released" });
    expect(report.ok).toBe(true); // a warning never fails the plan
    expect(sagemaker.requests.some((r) => r.operation === 'DescribeCluster')).toBe(true);
  });

  it('skips a check whose call is denied, and one with no quota listed, without failing the plan', async () => {
    for (const op of [
      'ListServiceQuotas',
      'DescribeSubnets',
      'DescribeSecurityGroups',
      'HeadObject',
      'GetRole',
      'DescribeCluster',
    ] as const)
      account.setFault(op, 'denied');
    sagemaker.injectErrors('DescribeTrainingPlan', [{ name: 'AccessDeniedException', status: 400 }]);
    const report = await plan(
      hyperpod([group({ TrainingPlanArn: PLAN })], {
        Orchestrator: { Eks: { ClusterArn: 'arn:aws:eks:us-west-2:123456789012:cluster/ml-platform' } },
      }),
    );
    for (const check of [
      'quota',
      'subnet-ips',
      'efa-security-group',
      'lifecycle-script',
      'execution-role',
      'training-plan',
      'eks-cluster',
    ]) {
      const c = one(report, check);
      expect(c.status, check).toBe('skipped');
      expect(c.message, check).toMatch(/^could not check: .*(access denied|AccessDenied)/);
    }
    expect(report.ok).toBe(true);
    account.setFault('ListServiceQuotas', undefined);
    const unlisted = await plan(hyperpod([group({ InstanceType: 'ml.m5.xlarge' })], { VpcConfig: undefined }));
    expect(one(unlisted, 'quota')).toMatchObject({
      status: 'skipped',
      message: 'could not check: no quota "ml.m5.xlarge for cluster usage" is listed in us-east-1',
    });
    expect(one(unlisted, 'subnet-ips').status).toBe('skipped');
  });

  it('skips a check whose service does not answer in time', async () => {
    account.setFault('GetRole', 'hang');
    const started = Date.now();
    const report = await plan(hyperpod([group({ InstanceType: 'ml.trn1.32xlarge' })]), 300);
    expect(one(report, 'execution-role')).toMatchObject({ status: 'skipped', message: 'could not check: timed out after 0.3 s' });
    expect(one(report, 'quota').status).toBe('pass');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reads a trust policy as IAM answers it (URL-encoded): only an Allow of sts:AssumeRole to sagemaker.amazonaws.com counts', () => {
    const doc = (statement: unknown) => encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: statement }));
    const allow = { Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' }, Action: 'sts:AssumeRole' };
    expect(trustsSageMaker(doc([allow]))).toBe(true);
    expect(trustsSageMaker(doc(allow))).toBe(true); // a single statement, not a list
    expect(trustsSageMaker(doc([{ ...allow, Principal: { Service: ['ec2.amazonaws.com', 'sagemaker.amazonaws.com'] } }]))).toBe(true);
    expect(trustsSageMaker(doc([{ ...allow, Effect: 'Deny' }]))).toBe(false);
    expect(trustsSageMaker(doc([{ ...allow, Action: 'sts:TagSession' }]))).toBe(false);
    expect(trustsSageMaker(doc([{ ...allow, Principal: { Service: 'lambda.amazonaws.com' } }]))).toBe(false);
    expect(trustsSageMaker('%7Bnot json')).toBe(false);
    expect(trustsSageMaker(undefined)).toBe(false);
  });

  it('serves Service Quotas GetServiceQuota by the code ListServiceQuotas gives, over AWS JSON 1.1', async () => {
    const client = new ServiceQuotasClient({ region: 'us-west-2' });
    const listed = await client.send(new ListServiceQuotasCommand({ ServiceCode: 'sagemaker' }));
    const p5 = listed.Quotas!.find((q) => q.QuotaName === 'ml.p5.48xlarge for cluster usage')!;
    const one = await client.send(new GetServiceQuotaCommand({ ServiceCode: 'sagemaker', QuotaCode: p5.QuotaCode! }));
    expect(one.Quota).toMatchObject({ QuotaName: 'ml.p5.48xlarge for cluster usage', Value: 2 });
    await expect(client.send(new GetServiceQuotaCommand({ ServiceCode: 'sagemaker', QuotaCode: 'L-00000000' }))).rejects.toMatchObject({
      name: 'NoSuchResourceException',
    });
  });

  describe('TIR', () => {
    const tirRequest = (cluster: Record<string, unknown> = {}): ProvisionRequest =>
      ({
        requestId: 'plan-tir',
        provider: 'tir',
        projectId: 12345,
        location: 'Delhi',
        deleteAfter: 'PT2H',
        cluster: {
          name: 'plan-tir',
          image_version_id: 101,
          ssh_key_ids: [1],
          security_group_id: 3,
          sku_id: 401,
          no_of_nodes: 2,
          sku_item_price_id: 501,
          ...cluster,
        },
      }) as ProvisionRequest;

    it('passes valid credentials, a reachable project and a security group of the project; skips what it cannot ask, saying why', async () => {
      const report = await plan(tirRequest());
      expect(report.placements[0]!.checks.map((c) => [c.check, c.status])).toEqual([
        ['tir-credentials', 'pass'],
        ['tir-project', 'pass'],
        ['tir-sku', 'skipped'],
        ['tir-image', 'skipped'],
        ['tir-security-group', 'pass'],
        ['tir-ssh-keys', 'skipped'],
      ]);
      expect(one(report, 'tir-sku').message).toMatch(/requires a `variant`, which the request does not name/);
      expect(one(report, 'tir-ssh-keys').message).toMatch(/SSH key list is not published/);
      expect(report.placements[0]!.cost).toMatchObject({ currency: 'INR', note: 'no price: the TIR API gave no price for this plan' });
      const elsewhere = await plan(tirRequest({ security_group_id: 9 }));
      expect(one(elsewhere, 'tir-security-group')).toMatchObject({ status: 'fail', path: '/cluster/security_group_id' });
    });

    it('fails a project or location TIR refuses, with the credentials accepted', async () => {
      const report = await plan({ ...tirRequest(), location: 'Mumbai' } as ProvisionRequest);
      expect(report.placements[0]!.checks.slice(0, 2).map((c) => [c.check, c.status, c.path])).toEqual([
        ['tir-credentials', 'pass', ''],
        ['tir-project', 'fail', '/projectId'],
      ]);
      expect(one(report, 'tir-project').message).toMatch(/^refused \(HTTP 400/);
    });

    it('fails refused credentials, and skips everything when TIR is unreachable', async () => {
      const bad = {
        ...probes,
        ...createTirProbes({ baseUrl: tir.baseUrl, credentials: async () => ({ apiKey: 'wrong', authToken: 'wrong' }) }),
      };
      const refused = await planAccepted({ probes: bad, defaultRegion: 'us-east-1' }, tirRequest());
      expect(refused.placements[0]!.checks.slice(0, 2).map((c) => [c.check, c.status])).toEqual([
        ['tir-credentials', 'fail'],
        ['tir-project', 'skipped'],
      ]);
      expect(JSON.stringify(refused)).not.toContain('wrong'); // no credential in the plan
      const gone = {
        ...probes,
        ...createTirProbes({ baseUrl: 'http://127.0.0.1:9/api', credentials: async () => ({ apiKey: 'k', authToken: 't' }) }),
      };
      const unreachable = await planAccepted({ probes: gone, defaultRegion: 'us-east-1' }, tirRequest());
      expect(unreachable.placements[0]!.checks.map((c) => c.status)).toEqual(Array(6).fill('skipped'));
      expect(unreachable.ok).toBe(true);
    });

    it('asks the plan list with its variant, the image list by framework and job_type, the security groups of the project', async () => {
      const asked: URL[] = [];
      const documented = (pages = 1, groups = [{ id: 3, name: 'sg' }]) =>
        createTirProbes({
          baseUrl: 'http://tir.test/api',
          credentials: async () => ({ apiKey: 'k', authToken: 't' }),
          planVariant: 'slurm',
          imageFramework: 'slurm',
          fetch: async (input) => {
            const url = new URL(String(input));
            asked.push(url);
            if (url.pathname.endsWith('/cluster/plans/')) {
              return Response.json({
                code: 200,
                data: [{ sku_id: 401, sku_item_price_id: 501, unit_price: 250.5, currency: 'INR' }],
                errors: {},
                message: 'Success',
              });
            }
            if (url.pathname.endsWith('/deployment_images/slurm/')) {
              return Response.json({
                code: 200,
                data: [{ name: 'Ubuntu Slurm', versions: [{ id: 101 }] }],
                errors: {},
                message: 'Success',
              });
            }
            if (url.pathname.endsWith('/security_groups/')) {
              return Response.json({
                code: 200,
                data: groups,
                errors: {},
                message: 'Success',
                total_page_number: pages,
                total_count: groups.length,
              });
            }
            return Response.json({ code: 200, data: [], errors: {}, message: 'Success' });
          },
        });
      const report = await planAccepted({ probes: { ...probes, ...documented() }, defaultRegion: 'us-east-1' }, tirRequest());
      expect(report.placements[0]!.checks.map((c) => [c.check, c.status])).toEqual([
        ['tir-credentials', 'pass'],
        ['tir-project', 'pass'],
        ['tir-sku', 'pass'],
        ['tir-image', 'pass'],
        ['tir-security-group', 'pass'],
        ['tir-ssh-keys', 'skipped'],
      ]);
      expect(report.placements[0]!.cost).toMatchObject({ currency: 'INR', perHour: 501, hours: 2, total: 1002 });
      const query = (suffix: string) => Object.fromEntries(asked.find((u) => u.pathname.endsWith(suffix))!.searchParams);
      expect(query('/cluster/plans/')).toMatchObject({ project_id: '12345', location: 'Delhi', variant: 'slurm' });
      expect(query('/deployment_images/slurm/')).toMatchObject({ project_id: '12345', location: 'Delhi', job_type: 'slurm' });
      expect(query('/security_groups/')).toMatchObject({ project_id: '12345', location: 'Delhi' });

      const other = await planAccepted(
        { probes: { ...probes, ...documented() }, defaultRegion: 'us-east-1' },
        tirRequest({ sku_id: 999, image_version_id: 5, security_group_id: 4 }),
      );
      expect([one(other, 'tir-sku').status, one(other, 'tir-image').status, one(other, 'tir-security-group').status]).toEqual([
        'fail',
        'fail',
        'fail',
      ]);
      // Not on the one page, more pages and no documented page parameter: it cannot tell
      const paged = await planAccepted(
        { probes: { ...probes, ...documented(2) }, defaultRegion: 'us-east-1' },
        tirRequest({ security_group_id: 4 }),
      );
      expect(one(paged, 'tir-security-group')).toMatchObject({ status: 'skipped', message: expect.stringMatching(/2 pages/) });
    });
  });
});
