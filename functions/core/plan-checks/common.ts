/** What every check of the pre-flight plan shares: the results, the probes port, the deadline, the EFA table. */
import { CheckSkippedError } from '../errors';
import type { TirClusterSpec } from '../request';
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

/** A check's outcome before its pointer is settled. */
export type Outcome = Omit<CheckResult, 'path'> & { at: string };

export const result = (check: string, subject: string, at: string, status: CheckStatus, message: string, fix?: string): Outcome => ({
  check,
  subject,
  at,
  status,
  message,
  ...(fix ? { fix } : {}),
});

/** Runs `fn` with a deadline: a probe that throws or is too slow makes the check `skipped`, never `fail`. */
export const guarded = async (
  check: string,
  subject: string,
  at: string,
  timeoutMs: number,
  fn: () => Promise<Outcome | Outcome[]>,
): Promise<Outcome[]> => {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckSkippedError(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
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
