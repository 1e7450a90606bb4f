/**
 * The checks of a HyperPod placement: a registry of one function per check (the two per-VpcConfig checks, subnet-ips
 * and efa-security-group, are one entry: their results come per VpcConfig, in that order). Each answers the probes'
 * calls it starts; the plan runs them all at once.
 */
import type { Placement } from '../placements';
import type { SageMakerClusterSpec, SageMakerInstanceGroup } from '../request';
import { parseS3Uri } from '../s3-uri';
import { efaInterfaces, guarded, ipsPerInstance, result, type Outcome, type PreflightProbes } from './common';

type SageMakerPlacement = Extract<Placement, { provider: 'sagemaker' }>;

const typesOf = (g: SageMakerInstanceGroup): string[] =>
  g.InstanceType ? [g.InstanceType] : (g.InstanceRequirements?.InstanceTypes ?? []);

/** The type a group is charged to: its own, or a flexible group's first (preferred). */
const chargedType = (g: SageMakerInstanceGroup): string => typesOf(g)[0] ?? 'unknown';

const vpcOf = (cluster: SageMakerClusterSpec, g: SageMakerInstanceGroup) => g.OverrideVpcConfig ?? cluster.VpcConfig;

interface HyperPodContext {
  probes: PreflightProbes;
  region: string;
  cluster: SageMakerClusterSpec;
  groups: SageMakerInstanceGroup[];
  timeoutMs: number;
}

/** One check: the probes it starts, each answering its outcomes. */
type HyperPodCheck = (context: HyperPodContext) => Array<Promise<Outcome[]>>;

/** quota: per instance type, the Service Quotas value against what the clusters hold plus what the request adds. */
const quota: HyperPodCheck = ({ probes, region, groups, timeoutMs }) => {
  const jobs: Array<Promise<Outcome[]>> = [];
  // quota: per type, what the request adds.
  const delta = new Map<string, { count: number; at: string }>();
  groups.forEach((g, i) => {
    const type = chargedType(g);
    const entry = delta.get(type) ?? { count: 0, at: `/cluster/InstanceGroups/${i}/InstanceCount` };
    entry.count += g.InstanceCount;
    delta.set(type, entry);
  });
  const usage = probes.clusterUsage(region).then(
    (u) => ({ ok: true as const, u }),
    (err: unknown) => ({ ok: false as const, why: err instanceof Error ? err.message : String(err) }),
  );
  for (const [type, { count, at }] of delta) {
    jobs.push(
      guarded('quota', type, at, timeoutMs, async () => {
        const quota = await probes.clusterQuota(region, type);
        const name = `${type} for cluster usage`;
        if (!quota) return result('quota', type, at, 'skipped', `could not check: no quota "${name}" is listed in ${region}`);
        const used = await usage;
        const increase = `request an increase of "${quota.name}" in Service Quotas (${region})`;
        if (count > quota.limit)
          return result('quota', type, at, 'fail', `the request needs ${count}, the limit is ${quota.limit}: it can never fit`, increase);
        if (!used.ok)
          return result('quota', type, at, 'warn', `needs ${count} of ${quota.limit}; the account's current use is unknown (${used.why})`);
        const now = used.u.get(type) ?? 0;
        if (now + count > quota.limit)
          return result(
            'quota',
            type,
            at,
            'warn',
            `needs ${count}, the account's clusters hold ${now} of ${quota.limit}: it waits until ${now + count - quota.limit} are released`,
            `delete clusters that hold ${type}, or ${increase}`,
          );
        return result('quota', type, at, 'pass', `needs ${count}; ${now} of ${quota.limit} in use`);
      }),
    );
  }
  return jobs;
};

/** subnet-ips and efa-security-group: per distinct VpcConfig (OverrideVpcConfig wins). */
const network: HyperPodCheck = ({ probes, region, cluster, groups, timeoutMs }) => {
  const jobs: Array<Promise<Outcome[]>> = [];
  // subnet-ips and efa-security-group: per distinct VpcConfig.
  const vpcs = new Map<string, { vpc: { Subnets: string[]; SecurityGroupIds: string[] }; at: string; groups: SageMakerInstanceGroup[] }>();
  groups.forEach((g, i) => {
    const vpc = vpcOf(cluster, g);
    if (!vpc) return;
    const key = JSON.stringify(vpc);
    const at = g.OverrideVpcConfig ? `/cluster/InstanceGroups/${i}/OverrideVpcConfig` : '/cluster/VpcConfig';
    const entry = vpcs.get(key) ?? { vpc, at, groups: [] };
    entry.groups.push(g);
    vpcs.set(key, entry);
  });
  if (vpcs.size === 0) {
    jobs.push(
      Promise.resolve([
        result(
          'subnet-ips',
          'VpcConfig',
          '/cluster',
          'skipped',
          'not applicable: no VpcConfig, HyperPod places the instances in its own VPC',
        ),
      ]),
    );
  }
  const eks = cluster.Orchestrator !== undefined && 'Eks' in cluster.Orchestrator;
  for (const { vpc, at, groups: members } of vpcs.values()) {
    const subject = vpc.Subnets.join(',');
    const needed = members.reduce((sum, g) => sum + g.InstanceCount * ipsPerInstance(chargedType(g)), 0);
    jobs.push(
      guarded('subnet-ips', subject, `${at}/Subnets`, timeoutMs, async () => {
        const found = await probes.subnets(region, vpc.Subnets);
        const missing = vpc.Subnets.filter((id) => !found.some((s) => s.id === id));
        if (missing.length > 0)
          return result(
            'subnet-ips',
            subject,
            `${at}/Subnets`,
            'fail',
            `no subnet ${missing.join(', ')} in ${region}`,
            'name subnets of the VPC in this region',
          );
        const free = found.reduce((sum, s) => sum + s.availableIps, 0);
        const basis = `${needed} addresses needed (1 per instance + 1 per EFA interface)`;
        if (free < needed)
          return result(
            'subnet-ips',
            subject,
            `${at}/Subnets`,
            'fail',
            `${basis}, ${free} free`,
            'add subnets with free addresses, or release addresses in these',
          );
        const largest = Math.max(...found.map((s) => s.availableIps));
        if (largest < needed)
          return result(
            'subnet-ips',
            subject,
            `${at}/Subnets`,
            'warn',
            `${basis}, ${free} free in all, at most ${largest} in one subnet: the cluster fits only if HyperPod spreads it`,
            'add a subnet with room for the whole cluster',
          );
        if (eks)
          return result(
            'subnet-ips',
            subject,
            `${at}/Subnets`,
            'warn',
            `${basis}, ${free} free; EKS pods take addresses of their own (not counted)`,
          );
        return result('subnet-ips', subject, `${at}/Subnets`, 'pass', `${basis}, ${free} free`);
      }),
    );
    const efaTypes = [...new Set(members.flatMap(typesOf).filter((t) => efaInterfaces(t) > 0))];
    const sgSubject = vpc.SecurityGroupIds.join(',');
    if (efaTypes.length === 0) continue;
    jobs.push(
      guarded('efa-security-group', sgSubject, `${at}/SecurityGroupIds`, timeoutMs, async () => {
        const found = await probes.securityGroups(region, vpc.SecurityGroupIds);
        const at_ = `${at}/SecurityGroupIds`;
        const missing = vpc.SecurityGroupIds.filter((id) => !found.some((s) => s.id === id));
        if (missing.length > 0)
          return result('efa-security-group', sgSubject, at_, 'fail', `no security group ${missing.join(', ')} in ${region}`);
        const self = found.find((s) => s.selfIngress && s.selfEgress);
        if (self)
          return result(
            'efa-security-group',
            sgSubject,
            at_,
            'pass',
            `${self.id} allows all traffic from and to itself (EFA: ${efaTypes.join(', ')})`,
          );
        return result(
          'efa-security-group',
          sgSubject,
          at_,
          'fail',
          `${efaTypes.join(', ')} use EFA, and no security group allows all traffic from and to itself`,
          `add to ${vpc.SecurityGroupIds[0]} an inbound and an outbound rule: all traffic, source/destination the group itself`,
        );
      }),
    );
  }
  return jobs;
};

/** lifecycle-script: SourceS3Uri + OnCreate exists, per distinct script. */
const lifecycleScript: HyperPodCheck = ({ probes, region, groups, timeoutMs }) => {
  const jobs: Array<Promise<Outcome[]>> = [];
  const scripts = new Map<string, { bucket?: string; key?: string; at: string }>();
  groups.forEach((g, i) => {
    const { SourceS3Uri: uri, OnCreate: onCreate } = g.LifeCycleConfig;
    const subject = `${uri.replace(/\/+$/, '')}/${onCreate}`;
    if (!scripts.has(subject)) scripts.set(subject, { ...s3ObjectOf(uri, onCreate), at: `/cluster/InstanceGroups/${i}/LifeCycleConfig` });
  });
  for (const [subject, { bucket, key, at }] of scripts) {
    jobs.push(
      guarded('lifecycle-script', subject, at, timeoutMs, async () => {
        if (!bucket || key === undefined)
          return result('lifecycle-script', subject, at, 'skipped', 'could not check: the URI names no S3 bucket this plan can read');
        if (await probes.objectExists(region, bucket, key)) return result('lifecycle-script', subject, at, 'pass', 'exists');
        return result(
          'lifecycle-script',
          subject,
          at,
          'fail',
          `no object ${key} in bucket ${bucket}`,
          'upload the script, or fix SourceS3Uri / OnCreate',
        );
      }),
    );
  }
  return jobs;
};

/** execution-role: the role exists and trusts sagemaker.amazonaws.com, per distinct role. */
const executionRole: HyperPodCheck = ({ probes, groups, timeoutMs }) => {
  const jobs: Array<Promise<Outcome[]>> = [];
  const roles = new Map<string, string>();
  groups.forEach((g, i) => {
    if (!roles.has(g.ExecutionRole)) roles.set(g.ExecutionRole, `/cluster/InstanceGroups/${i}/ExecutionRole`);
  });
  for (const [roleArn, at] of roles) {
    jobs.push(
      guarded('execution-role', roleArn, at, timeoutMs, async () => {
        const role = await probes.role(roleArn);
        if (!role) return result('execution-role', roleArn, at, 'fail', 'no such role', 'create the role, or name an existing one');
        if (!role.trustsSageMaker)
          return result(
            'execution-role',
            roleArn,
            at,
            'fail',
            'its trust policy does not let sagemaker.amazonaws.com assume it',
            'add sagemaker.amazonaws.com as a trusted service principal (sts:AssumeRole)',
          );
        return result('execution-role', roleArn, at, 'pass', 'exists and trusts sagemaker.amazonaws.com');
      }),
    );
  }
  return jobs;
};

/** training-plan: Active, of the right types, with room for the instances that name it, per distinct plan. */
const trainingPlan: HyperPodCheck = ({ probes, region, groups, timeoutMs }) => {
  const jobs: Array<Promise<Outcome[]>> = [];
  const plans = new Map<string, { count: number; at: string; types: string[] }>();
  groups.forEach((g, i) => {
    if (!g.TrainingPlanArn) return;
    const entry = plans.get(g.TrainingPlanArn) ?? { count: 0, at: `/cluster/InstanceGroups/${i}/TrainingPlanArn`, types: [] };
    entry.count += g.InstanceCount;
    entry.types.push(chargedType(g));
    plans.set(g.TrainingPlanArn, entry);
  });
  for (const [arn, { count, at, types }] of plans) {
    jobs.push(
      guarded('training-plan', arn, at, timeoutMs, async () => {
        const plan = await probes.trainingPlan(region, arn);
        if (!plan) return result('training-plan', arn, at, 'fail', `no training plan ${arn} in ${region}`);
        if (plan.status !== 'Active')
          return result(
            'training-plan',
            arn,
            at,
            plan.status === 'Scheduled' ? 'warn' : 'fail',
            `is ${plan.status}${plan.status === 'Scheduled' ? ': the cluster waits for its start' : ', not Active'}`,
            plan.status === 'Scheduled' ? undefined : 'name an Active training plan, or remove TrainingPlanArn',
          );
        const wrongType = plan.instanceTypes?.length ? types.filter((t) => !plan.instanceTypes!.includes(t)) : [];
        if (wrongType.length > 0)
          return result('training-plan', arn, at, 'fail', `reserves ${plan.instanceTypes!.join(', ')}, not ${wrongType.join(', ')}`);
        if (plan.availableInstances !== undefined && plan.availableInstances < count)
          return result(
            'training-plan',
            arn,
            at,
            'fail',
            `has ${plan.availableInstances} instances available, the groups that name it need ${count}`,
            'lower InstanceCount, or use a plan with more instances',
          );
        return result('training-plan', arn, at, 'pass', `Active, ${plan.availableInstances ?? '?'} available for ${count}`);
      }),
    );
  }
  return jobs;
};

/** eks-cluster: the Orchestrator.Eks cluster exists and is ACTIVE. */
const eksCluster: HyperPodCheck = ({ probes, cluster, timeoutMs }) => {
  const jobs: Array<Promise<Outcome[]>> = [];
  if (cluster.Orchestrator && 'Eks' in cluster.Orchestrator) {
    const arn = cluster.Orchestrator.Eks.ClusterArn;
    const at = '/cluster/Orchestrator/Eks/ClusterArn';
    const match = /^arn:aws[a-z-]*:eks:([a-z0-9-]*):\d{12}:cluster\/(.+)$/.exec(arn);
    jobs.push(
      guarded('eks-cluster', arn, at, timeoutMs, async () => {
        if (!match) return result('eks-cluster', arn, at, 'skipped', 'could not check: the ARN names no region and cluster');
        const eksCluster = await probes.eksCluster(match[1]!, match[2]!);
        if (!eksCluster)
          return result('eks-cluster', arn, at, 'fail', `no EKS cluster ${match[2]} in ${match[1]}`, 'create it, or fix the ARN');
        if (eksCluster.status !== 'ACTIVE')
          return result('eks-cluster', arn, at, 'fail', `is ${eksCluster.status}, not ACTIVE`, 'wait until the EKS cluster is ACTIVE');
        return result('eks-cluster', arn, at, 'pass', 'ACTIVE');
      }),
    );
  }
  return jobs;
};

/** Every HyperPod check, in the order their results are listed. */
export const HYPERPOD_CHECKS: readonly HyperPodCheck[] = [quota, network, lifecycleScript, executionRole, trainingPlan, eksCluster];

/** Every check of a HyperPod placement, at once. */
export const hyperPodChecks = async (probes: PreflightProbes, placement: SageMakerPlacement, timeoutMs: number): Promise<Outcome[]> => {
  const context: HyperPodContext = {
    probes,
    region: placement.region,
    cluster: placement.cluster,
    groups: placement.cluster.InstanceGroups,
    timeoutMs,
  };
  return (await Promise.all(HYPERPOD_CHECKS.flatMap((check) => check(context)))).flat();
};

/** The bucket and key of a lifecycle script: the SourceS3Uri's bucket and prefix (any form ./s3-uri.ts reads) + OnCreate. */
export const s3ObjectOf = (uri: string, onCreate: string): { bucket?: string; key?: string } => {
  const location = parseS3Uri(uri);
  if (!location) return {};
  const prefix = location.key.replace(/\/+$/, '');
  return { bucket: location.bucket, key: prefix ? `${prefix}/${onCreate}` : onCreate };
};
