/**
 * The HyperPod half of the plan's read-only probes (functions/core/plan-checks/common.ts `PreflightProbes`), over the AWS SDK:
 * Service Quotas ListServiceQuotas, SageMaker ListClusters / DescribeCluster / DescribeTrainingPlan, EC2
 * DescribeSubnets / DescribeSecurityGroups, S3 HeadObject, IAM GetRole, EKS DescribeCluster. Every client honours the
 * standard AWS_ENDPOINT_URL_<SERVICE> variables (the local stack points them at local/simulators/account.ts).
 *
 * "Does not exist" is `undefined` / `false`; anything that says nothing about the resource (access denied, throttling,
 * a 5xx, a timeout, a refused connection) is CheckSkippedError, so the check is skipped, never failed. Each client makes
 * at most 2 attempts of 4 s: the plan skips a check after 5 s anyway.
 *
 * Each service's SDK client is imported when a check first calls it (./sdk/preflight-*.ts; a chunk of its own in the
 * split bundle): a plan for TIR reads no AWS client, one without subnets no EC2 client.
 */
import type { IpPermission } from '@aws-sdk/client-ec2';
import { CheckSkippedError } from '../core/errors';
import type { PreflightProbes, SecurityGroupInfo, SubnetInfo } from '../core/plan-checks';

type AwsProbes = Omit<PreflightProbes, 'tirProject' | 'tirPlan' | 'tirSecurityGroup' | 'tirSshKeys'>;

const CLIENT = { maxAttempts: 2, requestHandler: { requestTimeout: 4000, connectionTimeout: 2000, throwOnRequestTimeout: true } } as const;

/** Error names that mean "there is no such thing". */
const NOT_FOUND = new Set([
  'NotFound',
  'NoSuchKey',
  'NoSuchEntity',
  'NoSuchEntityException',
  'ResourceNotFound',
  'ResourceNotFoundException',
  'InvalidSubnetID.NotFound',
  'InvalidGroup.NotFound',
  'InvalidGroupId.Malformed',
  'InvalidSubnetID.Malformed',
]);

const nameOf = (err: unknown): string => (err as { name?: string })?.name ?? 'Error';
const statusOf = (err: unknown): number | undefined => (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

const isNotFound = (err: unknown): boolean => NOT_FOUND.has(nameOf(err)) || (statusOf(err) === 404 && nameOf(err) !== 'UnknownError');

/** Why a call says nothing about the resource, in words for the plan (never a credential: SDK messages carry none). */
const skipped = (service: string, err: unknown): CheckSkippedError => {
  const name = nameOf(err);
  const status = statusOf(err);
  const why =
    status === 403 || /AccessDenied|UnauthorizedOperation|NotAuthorized|Forbidden/i.test(name)
      ? 'access denied'
      : /Throttl|TooManyRequests|RequestLimitExceeded/i.test(name)
        ? 'throttled'
        : /Timeout|ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|socket|network/i.test(`${name} ${(err as Error)?.message ?? ''}`)
          ? 'unreachable'
          : status !== undefined && status >= 500
            ? `unavailable (HTTP ${status})`
            : name;
  return new CheckSkippedError(`${service}: ${why}`, { cause: err });
};

/** Calls `fn`; not-found answers `missing`, anything else that fails is CheckSkippedError. */
const lookup = async <T, M>(service: string, fn: () => Promise<T>, missing: M): Promise<T | M> => {
  try {
    return await fn();
  } catch (err) {
    if (isNotFound(err)) return missing;
    throw skipped(service, err);
  }
};

/** The SDK modules, each imported on first use (a failed import is tried again). */
const sdk = {
  ec2: () => import('./sdk/preflight-ec2'),
  eks: () => import('./sdk/preflight-eks'),
  iam: () => import('./sdk/preflight-iam'),
  s3: () => import('./sdk/preflight-s3'),
  sagemaker: () => import('./sdk/preflight-sagemaker'),
  quotas: () => import('./sdk/preflight-service-quotas'),
};

const perRegion = <C>(make: (region: string) => Promise<C>) => {
  const clients = new Map<string, Promise<C>>();
  return (region: string): Promise<C> => {
    let client = clients.get(region);
    if (!client) {
      client = make(region);
      clients.set(region, client);
      client.catch(() => clients.delete(region));
    }
    return client;
  };
};

/** Statuses of a cluster that holds (or is being given) instances, for the quota's current use. */
const HOLDING = new Set(['Creating', 'InService', 'Updating', 'SystemUpdating', 'Deleting']);

/** Whether a trust policy (IAM answers it URL-encoded) lets sagemaker.amazonaws.com call sts:AssumeRole. */
export const trustsSageMaker = (document: string | undefined): boolean => {
  if (!document) return false;
  let policy: { Statement?: unknown };
  try {
    policy = JSON.parse(decodeURIComponent(document)) as { Statement?: unknown };
  } catch {
    return false;
  }
  const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return list(policy.Statement as Record<string, unknown> | Array<Record<string, unknown>>).some((s) => {
    if (s.Effect !== 'Allow') return false;
    const actions = list(s.Action as string | string[]);
    if (!actions.some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*')) return false;
    const principal = s.Principal as { Service?: string | string[] } | string | undefined;
    if (principal === '*') return true;
    return list(typeof principal === 'object' ? principal.Service : undefined).includes('sagemaker.amazonaws.com');
  });
};

const selfRule = (groupId: string, rules: IpPermission[] | undefined): boolean =>
  (rules ?? []).some((r) => r.IpProtocol === '-1' && (r.UserIdGroupPairs ?? []).some((p) => p.GroupId === groupId));

export interface AwsProbeOptions {
  /** S3 path-style addressing (the local stack's simulator). Default: when AWS_ENDPOINT_URL_S3 is set. */
  forcePathStyle?: boolean;
}

export const createAwsProbes = (options: AwsProbeOptions = {}): AwsProbes => {
  const quotas = perRegion(async (region) => new (await sdk.quotas()).ServiceQuotasClient({ region, ...CLIENT }));
  const sagemaker = perRegion(async (region) => new (await sdk.sagemaker()).SageMakerClient({ region, ...CLIENT }));
  const ec2 = perRegion(async (region) => new (await sdk.ec2()).EC2Client({ region, ...CLIENT }));
  const forcePathStyle = options.forcePathStyle ?? Boolean(process.env.AWS_ENDPOINT_URL_S3);
  const s3 = perRegion(async (region) => new (await sdk.s3()).S3Client({ region, forcePathStyle, ...CLIENT }));
  const eks = perRegion(async (region) => new (await sdk.eks()).EKSClient({ region, ...CLIENT }));
  // IAM is global; its endpoint lives in us-east-1 (the SDK signs for it there).
  const iam = perRegion(async (region) => new (await sdk.iam()).IAMClient({ region, ...CLIENT }));

  /** One listing of a region's SageMaker quotas serves every check of a plan that asks at the same time. */
  const inFlight = new Map<string, Promise<Map<string, number>>>();
  const quotaList = (region: string): Promise<Map<string, number>> => {
    const running = inFlight.get(region);
    if (running) return running;
    const list = (async () => {
      const out = new Map<string, number>();
      let NextToken: string | undefined;
      do {
        const { ListServiceQuotasCommand } = await sdk.quotas();
        const page = await (await quotas(region)).send(
          new ListServiceQuotasCommand({ ServiceCode: 'sagemaker', MaxResults: 100, NextToken }),
        );
        for (const q of page.Quotas ?? []) if (q.QuotaName && q.Value !== undefined) out.set(q.QuotaName, q.Value);
        NextToken = page.NextToken;
      } while (NextToken);
      return out;
    })();
    inFlight.set(region, list);
    const forget = () => inFlight.delete(region);
    list.then(forget, forget);
    return list;
  };

  const probeIds = async <T>(service: string, ids: string[], all: (ids: string[]) => Promise<T[]>): Promise<T[]> => {
    // EC2 refuses the whole call when one id is unknown: ask again one by one to tell which.
    try {
      return await all(ids);
    } catch (err) {
      if (!isNotFound(err)) throw skipped(service, err);
    }
    const found = await Promise.all(ids.map((id) => lookup(service, () => all([id]), [] as T[])));
    return found.flat();
  };

  return {
    async clusterQuota(region, instanceType) {
      const name = `${instanceType} for cluster usage`;
      const list = await quotaList(region).catch((err: unknown) => {
        throw skipped('Service Quotas', err);
      });
      const limit = list.get(name);
      return limit === undefined ? undefined : { limit, name };
    },

    async clusterUsage(region) {
      const usage = new Map<string, number>();
      try {
        const { DescribeClusterCommand, ListClustersCommand } = await sdk.sagemaker();
        const client = await sagemaker(region);
        let NextToken: string | undefined;
        const names: string[] = [];
        do {
          const page = await client.send(new ListClustersCommand({ MaxResults: 100, NextToken }));
          for (const c of page.ClusterSummaries ?? []) if (c.ClusterName && HOLDING.has(c.ClusterStatus ?? '')) names.push(c.ClusterName);
          NextToken = page.NextToken;
        } while (NextToken);
        const described = await Promise.all(
          names.map((ClusterName) =>
            client.send(new DescribeClusterCommand({ ClusterName })).catch((err: unknown) => {
              if (isNotFound(err)) return undefined; // gone between the list and the describe
              throw err;
            }),
          ),
        );
        for (const d of described) {
          if (!d || !HOLDING.has(d.ClusterStatus ?? '')) continue;
          for (const g of d.InstanceGroups ?? []) {
            const type =
              g.InstanceType ?? (g as { InstanceRequirements?: { InstanceTypes?: string[] } }).InstanceRequirements?.InstanceTypes?.[0];
            if (!type) continue;
            const held = d.ClusterStatus === 'Deleting' ? (g.CurrentCount ?? 0) : Math.max(g.CurrentCount ?? 0, g.TargetCount ?? 0);
            usage.set(type, (usage.get(type) ?? 0) + held);
          }
        }
      } catch (err) {
        throw skipped('SageMaker', err);
      }
      return usage;
    },

    async subnets(region, ids) {
      return probeIds('EC2', ids, async (some): Promise<SubnetInfo[]> => {
        const { DescribeSubnetsCommand } = await sdk.ec2();
        const out = await (await ec2(region)).send(new DescribeSubnetsCommand({ SubnetIds: some }));
        return (out.Subnets ?? []).map((s) => ({
          id: s.SubnetId ?? '',
          availableIps: s.AvailableIpAddressCount ?? 0,
          ...(s.AvailabilityZone ? { availabilityZone: s.AvailabilityZone } : {}),
        }));
      });
    },

    async securityGroups(region, ids) {
      return probeIds('EC2', ids, async (some): Promise<SecurityGroupInfo[]> => {
        const { DescribeSecurityGroupsCommand } = await sdk.ec2();
        const out = await (await ec2(region)).send(new DescribeSecurityGroupsCommand({ GroupIds: some }));
        return (out.SecurityGroups ?? []).map((g) => ({
          id: g.GroupId ?? '',
          selfIngress: selfRule(g.GroupId ?? '', g.IpPermissions),
          selfEgress: selfRule(g.GroupId ?? '', g.IpPermissionsEgress),
        }));
      });
    },

    async objectExists(region, bucket, key) {
      const head = async () => {
        const { HeadObjectCommand } = await sdk.s3();
        await (await s3(region)).send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      };
      return lookup('S3', head, false);
    },

    async role(roleArn) {
      const RoleName = roleArn.split('/').at(-1) ?? roleArn;
      const out = await lookup(
        'IAM',
        async () => {
          const { GetRoleCommand } = await sdk.iam();
          return (await iam('us-east-1')).send(new GetRoleCommand({ RoleName }));
        },
        undefined,
      );
      return out?.Role ? { trustsSageMaker: trustsSageMaker(out.Role.AssumeRolePolicyDocument) } : undefined;
    },

    async trainingPlan(region, arn) {
      const TrainingPlanName = arn.split('training-plan/').at(-1) ?? arn;
      const out = await lookup(
        'SageMaker',
        async () => {
          const { DescribeTrainingPlanCommand } = await sdk.sagemaker();
          return (await sagemaker(region)).send(new DescribeTrainingPlanCommand({ TrainingPlanName }));
        },
        undefined,
      );
      if (!out) return undefined;
      const types = [
        ...new Set((out.ReservedCapacitySummaries ?? []).map((r) => r.InstanceType).filter((t): t is NonNullable<typeof t> => !!t)),
      ];
      return {
        status: out.Status ?? 'Unknown',
        ...(out.TotalInstanceCount !== undefined ? { totalInstances: out.TotalInstanceCount } : {}),
        ...(out.AvailableInstanceCount !== undefined ? { availableInstances: out.AvailableInstanceCount } : {}),
        ...(types.length ? { instanceTypes: types } : {}),
        ...(out.EndTime ? { endTime: out.EndTime.toISOString() } : {}),
      };
    },

    async eksCluster(region, name) {
      const out = await lookup(
        'EKS',
        async () => {
          const { DescribeClusterCommand } = await sdk.eks();
          return (await eks(region)).send(new DescribeClusterCommand({ name }));
        },
        undefined,
      );
      return out?.cluster ? { status: out.cluster.status ?? 'UNKNOWN' } : undefined;
    },
  };
};
