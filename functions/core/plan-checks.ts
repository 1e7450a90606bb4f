/**
 * The checks of the pre-flight plan (./plan.ts), each a pure judgement over what the read-only `PreflightProbes` port
 * answers. A probe answers `undefined` for "does not exist", and throws CheckSkippedError (or anything else, or takes
 * longer than the timeout) when it cannot tell: the check is then `skipped`, never `fail`.
 *
 * HyperPod, per placement:
 * - quota: per instance type, the Service Quotas value of "<type> for cluster usage" (SageMaker) against what the
 *   account's clusters in the region hold now (ListClusters + DescribeCluster) plus what the request adds. The request
 *   alone over the limit can never fit (fail); with the others' instances it waits for them (warn).
 * - subnet-ips: the free addresses of the subnets of each VpcConfig (OverrideVpcConfig wins) against what its
 *   instances need. Assumption (no HyperPod document states a figure): an instance takes one address for its primary
 *   network interface plus one for each EFA interface HyperPod attaches (EFA_INTERFACES below); EKS pods, which take
 *   addresses of their own with the VPC CNI, are not counted (a warning says so for an EKS cluster).
 * - efa-security-group: for an instance type with EFA, one of the group's security groups must allow all traffic from
 *   and to itself (EFA's OS-bypass traffic is refused otherwise).
 * - lifecycle-script: `SourceS3Uri` + `OnCreate` exists (S3 HeadObject).
 * - execution-role: the role exists and its trust policy lets sagemaker.amazonaws.com assume it (IAM GetRole).
 * - training-plan: the TrainingPlanArn is Active and has room for the instances that name it (DescribeTrainingPlan).
 * - eks-cluster: the Orchestrator.Eks cluster exists and is ACTIVE (EKS DescribeCluster).
 * TIR: credentials and project (one list call), the SKU and the image in the plan list (where the API answers it).
 */
import type { Placement } from './placements';
import type { SageMakerClusterSpec, SageMakerInstanceGroup, TirClusterSpec } from './request';
import { parseS3Uri } from './s3-uri';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skipped';

/** One check of one placement. */
export interface CheckResult {
  /** What is checked: `quota`, `subnet-ips`, `efa-security-group`, `lifecycle-script`, `execution-role`, ... */
  check: string;
  /** What it was checked on: an instance type, a subnet, a role, a bucket key, ... */
  subject: string;
  status: CheckStatus;
  /** What was found (for `skipped`: why the check could not run). */
  message: string;
  /** What to do about a `fail` or `warn`. */
  fix?: string;
  /** RFC 6901 pointer into the request (the placement's own member under /alternatives/<i> for an alternative). */
  path: string;
}

/**
 * A check could not run: access denied, the service unreachable or throttled. Adapters throw it; the check is
 * `skipped` with this message.
 */
export class CheckSkippedError extends Error {
  override readonly name = 'CheckSkippedError';
}

export interface SubnetInfo {
  id: string;
  availableIps: number;
  availabilityZone?: string;
}

export interface SecurityGroupInfo {
  id: string;
  /** An inbound rule allows all protocols from the group itself. */
  selfIngress: boolean;
  /** An outbound rule allows all protocols to the group itself. */
  selfEgress: boolean;
}

export interface TrainingPlanInfo {
  status: string;
  totalInstances?: number;
  availableInstances?: number;
  instanceTypes?: string[];
  endTime?: string;
}

export interface TirPlanInfo {
  skuFound: boolean;
  imageFound?: boolean;
  price?: { unitPerHour: number; currency: string };
}

/** The read calls the plan makes. `undefined`: it does not exist. Throws when it cannot tell. */
export interface PreflightProbes {
  /** The "<type> for cluster usage" quota (SageMaker, Service Quotas) of a region; undefined when not listed. */
  clusterQuota(region: string, instanceType: string): Promise<{ limit: number; name: string } | undefined>;
  /** Instances per type the account's live clusters of the region hold or are being given. */
  clusterUsage(region: string): Promise<Map<string, number>>;
  /** The subnets that exist among `ids`. */
  subnets(region: string, ids: string[]): Promise<SubnetInfo[]>;
  /** The security groups that exist among `ids`. */
  securityGroups(region: string, ids: string[]): Promise<SecurityGroupInfo[]>;
  /** Whether `key` exists in `bucket`. */
  objectExists(region: string, bucket: string, key: string): Promise<boolean>;
  /** The role and whether its trust policy allows sagemaker.amazonaws.com to assume it; undefined when there is none. */
  role(roleArn: string): Promise<{ trustsSageMaker: boolean } | undefined>;
  trainingPlan(region: string, arn: string): Promise<TrainingPlanInfo | undefined>;
  /** The EKS cluster's status; undefined when there is none. */
  eksCluster(region: string, name: string): Promise<{ status: string } | undefined>;
  /** TIR: lists the project's clusters (throws TirAuthRejected / TirProjectRejected for those answers). */
  tirProject(where: { projectId: number; location: string; activeIam?: number }): Promise<void>;
  /** TIR: the SKU, image and price in the plan list; undefined when the API answers no plan list. */
  tirPlan(where: { projectId: number; location: string }, cluster: TirClusterSpec): Promise<TirPlanInfo | undefined>;
  /** TIR: whether the security group is in the project's list. */
  tirSecurityGroup(where: { projectId: number; location: string; activeIam?: number }, id: number): Promise<boolean>;
  /** TIR: the SSH key ids the account's list does not hold. */
  tirSshKeys(where: { projectId: number; location: string; activeIam?: number }, ids: number[]): Promise<number[]>;
}

/** TIR refused the credentials (401/403). */
export class TirAuthRejectedError extends Error {
  override readonly name = 'TirAuthRejectedError';
}
/** TIR refused the project or location (another 4xx). */
export class TirProjectRejectedError extends Error {
  override readonly name = 'TirProjectRejectedError';
}

/**
 * Instance types with EFA, and how many EFA interfaces HyperPod attaches to one (the instance's network cards). Source:
 * Amazon EC2 User Guide, "Elastic Fabric Adapter — supported instance types" and the accelerated computing instance
 * specifications (network cards), read 2026-11. A type not listed has no EFA here.
 */
export const EFA_INTERFACES: Readonly<Record<string, number>> = {
  'ml.p4d.24xlarge': 4,
  'ml.p4de.24xlarge': 4,
  'ml.p5.48xlarge': 32,
  'ml.p5e.48xlarge': 32,
  'ml.p5en.48xlarge': 16,
  'ml.p6-b200.48xlarge': 8,
  'ml.p6e-gb200.36xlarge': 17,
  'ml.trn1.32xlarge': 8,
  'ml.trn1n.32xlarge': 16,
  'ml.trn2.48xlarge': 16,
  'ml.g5.8xlarge': 1,
  'ml.g5.12xlarge': 1,
  'ml.g5.16xlarge': 1,
  'ml.g5.24xlarge': 1,
  'ml.g5.48xlarge': 1,
  'ml.g6.8xlarge': 1,
  'ml.g6.12xlarge': 1,
  'ml.g6.16xlarge': 1,
  'ml.g6.24xlarge': 1,
  'ml.g6.48xlarge': 1,
  'ml.g6e.8xlarge': 1,
  'ml.g6e.12xlarge': 1,
  'ml.g6e.16xlarge': 1,
  'ml.g6e.24xlarge': 2,
  'ml.g6e.48xlarge': 4,
  'ml.gr6.8xlarge': 1,
  'ml.c5n.18xlarge': 1,
};

export const efaInterfaces = (instanceType: string): number =>
  Object.hasOwn(EFA_INTERFACES, instanceType) ? EFA_INTERFACES[instanceType]! : 0;

/** Addresses one instance takes in its subnet (the assumption above). */
export const ipsPerInstance = (instanceType: string): number => 1 + efaInterfaces(instanceType);

interface RunOptions {
  /** Pointer prefix of the placement: '' or /alternatives/<i>. */
  base: string;
  timeoutMs: number;
  /** The placement has its own cluster body (an alternative with a patch points at /patch instead). */
  hasOwnCluster: boolean;
}

/** A check's outcome before its pointer is settled. */
type Outcome = Omit<CheckResult, 'path'> & { at: string };

const result = (check: string, subject: string, at: string, status: CheckStatus, message: string, fix?: string): Outcome => ({
  check,
  subject,
  at,
  status,
  message,
  ...(fix ? { fix } : {}),
});

/** Runs `fn` with a deadline: a probe that throws or is too slow makes the check `skipped`, never `fail`. */
const guarded = async (
  check: string,
  subject: string,
  at: string,
  timeoutMs: number,
  fn: () => Promise<Outcome | Outcome[]>,
): Promise<Outcome[]> => {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const out = await Promise.race([fn(), deadline]);
    return Array.isArray(out) ? out : [out];
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return [result(check, subject, at, 'skipped', `could not check: ${message}`)];
  } finally {
    clearTimeout(timer);
  }
};

class CheckTimeout extends Error {
  override readonly name = 'CheckTimeout';
}

/** Every check of one placement, and the TIR plan price when the API gave one. */
export const runChecks = async (
  probes: PreflightProbes,
  placement: Placement,
  options: RunOptions,
): Promise<{ checks: CheckResult[]; tirPrice?: { unitPerHour: number; currency: string } }> => {
  const settle = (outcomes: Outcome[]): CheckResult[] => outcomes.map(({ at, ...rest }) => ({ ...rest, path: pointer(options, at) }));
  if (placement.provider === 'tir') {
    const { outcomes, price } = await tirChecks(probes, placement, options.timeoutMs);
    return { checks: settle(outcomes), ...(price ? { tirPrice: price } : {}) };
  }
  return { checks: settle(await hyperPodChecks(probes, placement, options.timeoutMs)) };
};

/** `at` is a pointer from the placement's request root (`/cluster/...`, `/region`). */
const pointer = (options: RunOptions, at: string): string => {
  if (options.base === '') return at;
  if (at.startsWith('/cluster') && !options.hasOwnCluster) return `${options.base}/patch`;
  return `${options.base}${at}`;
};

// ------------------------------------------------------------------------------------------------------------ HyperPod

type SageMakerPlacement = Extract<Placement, { provider: 'sagemaker' }>;

const typesOf = (g: SageMakerInstanceGroup): string[] =>
  g.InstanceType ? [g.InstanceType] : (g.InstanceRequirements?.InstanceTypes ?? []);

/** The type a group is charged to: its own, or a flexible group's first (preferred). */
const chargedType = (g: SageMakerInstanceGroup): string => typesOf(g)[0] ?? 'unknown';

const vpcOf = (cluster: SageMakerClusterSpec, g: SageMakerInstanceGroup) => g.OverrideVpcConfig ?? cluster.VpcConfig;

const hyperPodChecks = async (probes: PreflightProbes, placement: SageMakerPlacement, timeoutMs: number): Promise<Outcome[]> => {
  const { region, cluster } = placement;
  const groups = cluster.InstanceGroups;
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

  // lifecycle-script, execution-role, training-plan: per distinct value.
  const scripts = new Map<string, { bucket?: string; key?: string; at: string }>();
  const roles = new Map<string, string>();
  const plans = new Map<string, { count: number; at: string; types: string[] }>();
  groups.forEach((g, i) => {
    const { SourceS3Uri: uri, OnCreate: onCreate } = g.LifeCycleConfig;
    const object = s3ObjectOf(uri, onCreate);
    const subject = `${uri.replace(/\/+$/, '')}/${onCreate}`;
    if (!scripts.has(subject)) scripts.set(subject, { ...object, at: `/cluster/InstanceGroups/${i}/LifeCycleConfig` });
    if (!roles.has(g.ExecutionRole)) roles.set(g.ExecutionRole, `/cluster/InstanceGroups/${i}/ExecutionRole`);
    if (g.TrainingPlanArn) {
      const entry = plans.get(g.TrainingPlanArn) ?? { count: 0, at: `/cluster/InstanceGroups/${i}/TrainingPlanArn`, types: [] };
      entry.count += g.InstanceCount;
      entry.types.push(chargedType(g));
      plans.set(g.TrainingPlanArn, entry);
    }
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

  // eks-cluster
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
  return (await Promise.all(jobs)).flat();
};

/** The bucket and key of a lifecycle script: the SourceS3Uri's bucket and prefix (any form ./s3-uri.ts reads) + OnCreate. */
export const s3ObjectOf = (uri: string, onCreate: string): { bucket?: string; key?: string } => {
  const location = parseS3Uri(uri);
  if (!location) return {};
  const prefix = location.key.replace(/\/+$/, '');
  return { bucket: location.bucket, key: prefix ? `${prefix}/${onCreate}` : onCreate };
};

// ----------------------------------------------------------------------------------------------------------------- TIR

type TirPlacement = Extract<Placement, { provider: 'tir' }>;

const tirChecks = async (
  probes: PreflightProbes,
  placement: TirPlacement,
  timeoutMs: number,
): Promise<{ outcomes: Outcome[]; price?: { unitPerHour: number; currency: string } }> => {
  const where = {
    projectId: placement.projectId,
    location: placement.location,
    ...(placement.activeIam !== undefined ? { activeIam: placement.activeIam } : {}),
  };
  const subject = `project ${placement.projectId} (${placement.location})`;
  const access = await guarded('tir-project', subject, '/projectId', timeoutMs, async () => {
    try {
      await probes.tirProject(where);
    } catch (err) {
      if (err instanceof TirAuthRejectedError)
        return [
          result('tir-credentials', 'API key and token', '', 'fail', err.message, 'set valid TIR credentials (the deployment secret)'),
          result('tir-project', subject, '/projectId', 'skipped', 'could not check: the credentials were refused'),
        ];
      if (err instanceof TirProjectRejectedError)
        return [
          result('tir-credentials', 'API key and token', '', 'pass', 'accepted'),
          result('tir-project', subject, '/projectId', 'fail', err.message, 'name a project and location the credentials can reach'),
        ];
      throw err;
    }
    return [
      result('tir-credentials', 'API key and token', '', 'pass', 'accepted'),
      result('tir-project', subject, '/projectId', 'pass', 'reachable'),
    ];
  });
  const outcomes: Outcome[] =
    access.length === 1 && access[0]!.status === 'skipped'
      ? [{ ...access[0]!, check: 'tir-credentials', subject: 'API key and token', at: '' }, access[0]!]
      : access;
  let price: { unitPerHour: number; currency: string } | undefined;
  const sku = `sku ${placement.cluster.sku_id}`;
  const image = `image version ${placement.cluster.image_version_id}`;
  const planned = await guarded('tir-sku', sku, '/cluster/sku_id', timeoutMs, async () => {
    const plan = await probes.tirPlan(where, placement.cluster);
    if (!plan)
      return [
        result('tir-sku', sku, '/cluster/sku_id', 'skipped', 'could not check: the TIR API answers no plan list here'),
        result('tir-image', image, '/cluster/image_version_id', 'skipped', 'could not check: the TIR API answers no plan list here'),
      ];
    price = plan.price;
    return [
      plan.skuFound
        ? result('tir-sku', sku, '/cluster/sku_id', 'pass', 'offered')
        : result(
            'tir-sku',
            sku,
            '/cluster/sku_id',
            'fail',
            `not offered in ${placement.location}`,
            'pick a sku_id and sku_item_price_id from the plan list',
          ),
      plan.imageFound === undefined
        ? result('tir-image', image, '/cluster/image_version_id', 'skipped', 'could not check: the plan list names no images')
        : plan.imageFound
          ? result('tir-image', image, '/cluster/image_version_id', 'pass', 'offered')
          : result(
              'tir-image',
              image,
              '/cluster/image_version_id',
              'fail',
              'not offered for this plan',
              'pick an image_version_id of the plan',
            ),
    ];
  });
  const skuOutcomes =
    planned.length === 1 && planned[0]!.status === 'skipped'
      ? [planned[0]!, { ...planned[0]!, check: 'tir-image', subject: image, at: '/cluster/image_version_id' }]
      : planned;
  const groupId = placement.cluster.security_group_id;
  const group = `security group ${groupId}`;
  const grouped = await guarded('tir-security-group', group, '/cluster/security_group_id', timeoutMs, async () =>
    (await probes.tirSecurityGroup(where, groupId))
      ? result('tir-security-group', group, '/cluster/security_group_id', 'pass', 'in the project')
      : result(
          'tir-security-group',
          group,
          '/cluster/security_group_id',
          'fail',
          `not in ${subject}`,
          'name a security group of the project and location',
        ),
  );
  const keyIds = placement.cluster.ssh_key_ids;
  const keys = `SSH keys ${keyIds.join(', ')}`;
  const keyed = await guarded('tir-ssh-keys', keys, '/cluster/ssh_key_ids', timeoutMs, async () => {
    const missing = await probes.tirSshKeys(where, keyIds);
    return missing.length === 0
      ? result('tir-ssh-keys', keys, '/cluster/ssh_key_ids', 'pass', 'in the account')
      : result('tir-ssh-keys', keys, '/cluster/ssh_key_ids', 'fail', `not found: ${missing.join(', ')}`, 'name SSH keys added to TIR');
  });
  return { outcomes: [...outcomes, ...skuOutcomes, ...grouped, ...keyed], ...(price ? { price } : {}) };
};
