/**
 * The checks of the pre-flight plan (../plan.ts), each a pure judgement over what the read-only `PreflightProbes` port
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
 *
 * One module per provider (hyperpod.ts: a registry of one function per check; tir.ts), what they share in common.ts.
 */
import type { Placement } from '../placements';
import type { CheckResult, Outcome, PreflightProbes } from './common';
import { hyperPodChecks } from './hyperpod';
import { tirChecks } from './tir';

export {
  EFA_INTERFACES,
  efaInterfaces,
  ipsPerInstance,
  type CheckResult,
  type CheckStatus,
  type PreflightProbes,
  type SecurityGroupInfo,
  type SubnetInfo,
  type TirPlanInfo,
  type TrainingPlanInfo,
} from './common';
export { HYPERPOD_CHECKS, s3ObjectOf } from './hyperpod';

interface RunOptions {
  /** Pointer prefix of the placement: '' or /alternatives/<i>. */
  base: string;
  timeoutMs: number;
  /** The placement has its own cluster body (an alternative with a patch points at /patch instead). */
  hasOwnCluster: boolean;
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
