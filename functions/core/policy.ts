/**
 * The deployment's allow-lists, applied to a valid request before anything is recorded: which execution roles a
 * HyperPod request may name, which buckets its lifecycle scripts may come from, which regions it may create in. They
 * are the serverless.yml parameters allowedExecutionRoles, allowedLifecycleBuckets and allowedRegions (docs/deploy.md),
 * handed to the submit functions as ALLOWED_* variables.
 *
 * IAM enforces the roles and the regions too (iam:PassRole only on the allowed roles, every SageMaker grant only in the
 * allowed regions), so this check changes no outcome there: it turns an AccessDenied deep in the workflow into a 400
 * that names the field. The lifecycle bucket has no IAM counterpart in this stack (SageMaker reads the scripts with
 * the execution role, and CreateCluster has no condition key for the URI), so this check is what enforces it.
 *
 * Entries: a region name, a role ARN or a bucket name, each exactly or as a prefix ending in `*` (`*` alone allows any:
 * the local stack's setting; config/allow-lists.js lets a deployment list exact regions only, as its IAM grants name
 * them). What grants access or places nodes has its own lists, each allowing nothing while unset: the EKS clusters
 * (HyperPod makes access entries on them), the VPC subnets and security groups, ClusterRole, TIR's projects (and, within
 * them, locations and SKUs). Pure: no SDK, no environment.
 */
import type { FieldError } from './errors';
import { notifyPolicyErrors, type NotifyPolicy } from './notify';
import { alternativeErrors } from './placements';
import type { ProvisionRequest } from './request';
import { parseS3Uri } from './s3-uri';

export interface DeploymentPolicy {
  allowedRegions: readonly string[];
  allowedExecutionRoles: readonly string[];
  allowedLifecycleBuckets: readonly string[];
  /** What `notify` may name (functions/core/notify/targets.ts); absent: any well-formed target. */
  notify?: NotifyPolicy;
  /**
   * What grants access or places nodes (absent or empty: nothing is allowed, a request naming one is refused):
   * Orchestrator.Eks.ClusterArn, the subnets and security groups of VpcConfig / OverrideVpcConfig, ClusterRole, and
   * TIR's projectId, location and sku_id.
   */
  allowedEksClusters?: readonly string[];
  allowedSubnets?: readonly string[];
  allowedSecurityGroups?: readonly string[];
  allowedClusterRoles?: readonly string[];
  allowedTirProjects?: readonly string[];
  allowedTirLocations?: readonly string[];
  allowedTirSkus?: readonly string[];
}

/** Whether `value` is on the list: an entry ending in `*` is a prefix, any other entry must match whole. */
export const allowedBy = (list: readonly string[], value: string): boolean =>
  list.some((entry) => (entry.endsWith('*') ? value.startsWith(entry.slice(0, -1)) : value === entry));

/**
 * The bucket a LifeCycleConfig.SourceS3Uri names (any form ./s3-uri.ts reads). Undefined when it names none this module
 * can tell (another host, no bucket).
 */
export const lifecycleBucketOf = (uri: string): string | undefined => parseS3Uri(uri)?.bucket;

const listed = (list: readonly string[]): string => (list.length === 0 ? 'none' : list.join(', '));

/**
 * Every field of a valid request the deployment does not allow, as FieldErrors at the field's JSON Pointer (empty:
 * allowed): the request's own placement, then each alternative as the whole request it stands for, its errors under
 * `/alternatives/<i>` (into its patch when the patch wrote the field: functions/core/placements.ts). `defaultRegion` is
 * the region a sagemaker placement without one gets (the deployment's).
 */
export const checkPolicy = (policy: DeploymentPolicy, request: ProvisionRequest, defaultRegion: string): FieldError[] => [
  ...checkPlacement(policy, request, defaultRegion),
  ...(policy.notify ? notifyPolicyErrors(policy.notify, request.notify) : []),
  ...alternativeErrors(
    request,
    // Already valid by the contract (parseRequest checked each alternative as a whole request).
    (whole) => ({ errors: checkPlacement(policy, whole as unknown as ProvisionRequest, defaultRegion) }),
    defaultRegion,
  ),
];

const checkTir = (policy: DeploymentPolicy, request: ProvisionRequest & { provider: 'tir' }): FieldError[] => {
  const errors: FieldError[] = [];
  const check = (path: string, value: unknown, list: readonly string[] | undefined, name: string) => {
    if (value === undefined || allowedBy(list ?? [], String(value))) return;
    errors.push({ path, message: `must be one of the deployment's ${name} (${listed(list ?? [])})` });
  };
  const { projectId, location, cluster } = request as unknown as { projectId?: number; location?: string; cluster: { sku_id?: number } };
  check('/projectId', projectId, policy.allowedTirProjects, 'allowedTirProjects');
  check('/location', location, policy.allowedTirLocations, 'allowedTirLocations');
  check('/cluster/sku_id', cluster.sku_id, policy.allowedTirSkus, 'allowedTirSkus');
  return errors;
};

/** VpcConfig's subnets and security groups, each at its pointer under `base`. */
const checkVpc = (policy: DeploymentPolicy, vpc: unknown, base: string, errors: FieldError[]): void => {
  if (typeof vpc !== 'object' || vpc === null) return;
  const { Subnets, SecurityGroupIds } = vpc as { Subnets?: unknown; SecurityGroupIds?: unknown };
  const each = (values: unknown, path: string, list: readonly string[] | undefined, name: string) => {
    if (!Array.isArray(values)) return;
    values.forEach((value, i) => {
      if (typeof value === 'string' && !allowedBy(list ?? [], value))
        errors.push({ path: `${base}/${path}/${i}`, message: `must be one of the deployment's ${name} (${listed(list ?? [])})` });
    });
  };
  each(Subnets, 'Subnets', policy.allowedSubnets, 'allowedSubnets');
  each(SecurityGroupIds, 'SecurityGroupIds', policy.allowedSecurityGroups, 'allowedSecurityGroups');
};

const checkPlacement = (policy: DeploymentPolicy, request: ProvisionRequest, defaultRegion: string): FieldError[] => {
  if (request.provider === 'tir') return checkTir(policy, request);
  if (request.provider !== 'sagemaker') return [];
  const errors: FieldError[] = [];
  const cluster = request.cluster as unknown as {
    Orchestrator?: { Eks?: { ClusterArn?: unknown } };
    VpcConfig?: unknown;
    ClusterRole?: unknown;
  };
  const eksArn = cluster.Orchestrator?.Eks?.ClusterArn;
  if (typeof eksArn === 'string' && !allowedBy(policy.allowedEksClusters ?? [], eksArn)) {
    errors.push({
      path: '/cluster/Orchestrator/Eks/ClusterArn',
      message: `must be one of the deployment's allowedEksClusters (${listed(policy.allowedEksClusters ?? [])})`,
    });
  }
  if (typeof cluster.ClusterRole === 'string' && !allowedBy(policy.allowedClusterRoles ?? [], cluster.ClusterRole)) {
    errors.push({
      path: '/cluster/ClusterRole',
      message: `must be one of the deployment's allowedClusterRoles (${listed(policy.allowedClusterRoles ?? [])})`,
    });
  }
  checkVpc(policy, cluster.VpcConfig, '/cluster/VpcConfig', errors);
  const region = request.region ?? defaultRegion;
  if (!allowedBy(policy.allowedRegions, region)) {
    errors.push({
      path: '/region',
      message:
        request.region === undefined
          ? `is required here: the deployment's region ${region} is not among its allowedRegions (${listed(policy.allowedRegions)})`
          : `must be one of the deployment's allowedRegions (${listed(policy.allowedRegions)})`,
    });
  }
  const role = (path: string, arn: string) => {
    if (!allowedBy(policy.allowedExecutionRoles, arn)) {
      errors.push({ path, message: `must be a role of the deployment's allowedExecutionRoles (${listed(policy.allowedExecutionRoles)})` });
    }
  };
  request.cluster.InstanceGroups.forEach((group, i) => {
    role(`/cluster/InstanceGroups/${i}/ExecutionRole`, group.ExecutionRole);
    checkVpc(
      policy,
      (group as { OverrideVpcConfig?: unknown }).OverrideVpcConfig,
      `/cluster/InstanceGroups/${i}/OverrideVpcConfig`,
      errors,
    );
    const bucket = lifecycleBucketOf(group.LifeCycleConfig.SourceS3Uri);
    if (bucket === undefined || !allowedBy(policy.allowedLifecycleBuckets, bucket)) {
      errors.push({
        path: `/cluster/InstanceGroups/${i}/LifeCycleConfig/SourceS3Uri`,
        message: `must be in a bucket of the deployment's allowedLifecycleBuckets (${listed(policy.allowedLifecycleBuckets)})${
          bucket === undefined ? ': no S3 bucket found in it' : `, not ${bucket}`
        }`,
      });
    }
  });
  (request.cluster.RestrictedInstanceGroups ?? []).forEach((group, i) => {
    if (typeof group.ExecutionRole === 'string') role(`/cluster/RestrictedInstanceGroups/${i}/ExecutionRole`, group.ExecutionRole);
  });
  return errors;
};
