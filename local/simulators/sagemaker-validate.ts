/**
 * The SageMaker simulator's validation of CreateCluster, as the service answers it: AWS's "N validation errors
 * detected: Value X at 'path' failed to satisfy constraint: ..." (an independent subset of the API model's
 * constraints; every other CreateClusterRequest member is accepted as is).
 */
import { HYPERPOD_INSTANCE_TYPES as INSTANCE_TYPE_LIST } from '../../functions/core/hyperpod-instance-types';
import { AwsError } from './hyperpod-model';

const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
/** The members of the ClusterInstanceStorageConfig union. */
const STORAGE_MEMBERS = ['EbsVolumeConfig', 'FsxLustreConfig', 'FsxOpenZfsConfig'];
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const S3_URI = /^(https|s3):\/\/([^/]+)\/?(.*)$/;
const EKS_ARN = /^arn:aws[a-z-]*:eks:[a-z0-9-]*:[0-9]{12}:cluster\/[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const TRAINING_PLAN_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:training-plan\/.*$/;
const TAG_TEXT = /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u;
const VPC_ID = /^[-0-9a-zA-Z]+$/;

/** The service's ClusterInstanceType enum (the same data the provisioner's validator uses). */
export const HYPERPOD_INSTANCE_TYPES: ReadonlySet<string> = new Set(INSTANCE_TYPE_LIST);
const ENUM_HINT = '[ml.p4d.24xlarge, ml.p5.48xlarge, ml.g5.xlarge, ...]';

export class Violations {
  readonly list: string[] = [];
  add(value: unknown, path: string, constraint: string): void {
    const shown = value === undefined || value === null ? 'null' : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`;
    this.list.push(`Value ${shown} at '${path}' failed to satisfy constraint: Member must ${constraint}`);
  }
  text(value: unknown, path: string, min: number, max: number, pattern?: RegExp, required = true): void {
    if (value === undefined || value === null) {
      if (required) this.add(value, path, 'not be null');
      return;
    }
    if (typeof value !== 'string') return this.add(value, path, 'be a string');
    if (value.length < min) this.add(value, path, `have length greater than or equal to ${min}`);
    if (value.length > max) this.add(value, path, `have length less than or equal to ${max}`);
    if (pattern && !pattern.test(value)) this.add(value, path, `satisfy regular expression pattern: ${pattern.source}`);
  }
  int(value: unknown, path: string, min: number, max: number, required = true): void {
    if (value === undefined || value === null) {
      if (required) this.add(value, path, 'not be null');
      return;
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) return this.add(value, path, 'be an integer');
    if (value < min) this.add(value, path, `have value greater than or equal to ${min}`);
    if (value > max) this.add(value, path, `have value less than or equal to ${max}`);
  }
  array(value: unknown, path: string, min: number, max: number, required = true): unknown[] {
    if (value === undefined || value === null) {
      if (required) this.add(value, path, 'not be null');
      return [];
    }
    if (!Array.isArray(value)) {
      this.add(value, path, 'be a list');
      return [];
    }
    if (value.length < min) this.add(value, path, `have length greater than or equal to ${min}`);
    if (value.length > max) this.add(value, path, `have length less than or equal to ${max}`);
    return value;
  }
  toError(): AwsError | undefined {
    if (this.list.length === 0) return undefined;
    const count = this.list.length === 1 ? '1 validation error detected' : `${this.list.length} validation errors detected`;
    return new AwsError('ValidationException', `${count}: ${this.list.join('; ')}`);
  }
}

export const asObject = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

const validateVpc = (v: Violations, value: unknown, path: string): void => {
  if (value === undefined) return;
  const vpc = asObject(value) ?? {};
  for (const [field, max] of [
    ['SecurityGroupIds', 5],
    ['Subnets', 16],
  ] as const) {
    const ids = v.array(vpc[field], `${path}.${field.charAt(0).toLowerCase()}${field.slice(1)}`, 1, max);
    ids.forEach((id, i) => v.text(id, `${path}.${field}.${i + 1}.member`, 1, 32, VPC_ID));
  }
};

export const validateCreate = (body: Record<string, unknown>): AwsError | undefined => {
  const v = new Violations();
  v.text(body.ClusterName, 'clusterName', 1, 63, NAME);
  // InstanceGroups is optional in the model when RestrictedInstanceGroups is given (those are accepted as they are).
  const restrictedOnly =
    body.InstanceGroups === undefined && Array.isArray(body.RestrictedInstanceGroups) && body.RestrictedInstanceGroups.length > 0;
  const groups = v.array(body.InstanceGroups, 'instanceGroups', 1, 20, !restrictedOnly);
  const seen = new Set<string>();
  groups.forEach((raw, index) => {
    const path = `instanceGroups.${index + 1}.member`;
    const g = asObject(raw) ?? {};
    v.text(g.InstanceGroupName, `${path}.instanceGroupName`, 1, 63, NAME);
    if (typeof g.InstanceGroupName === 'string') {
      if (seen.has(g.InstanceGroupName)) v.add(g.InstanceGroupName, `${path}.instanceGroupName`, 'be unique within the cluster');
      seen.add(g.InstanceGroupName);
    }
    v.int(g.InstanceCount, `${path}.instanceCount`, 1, 6758);
    if (g.MinInstanceCount !== undefined) {
      const max = typeof g.InstanceCount === 'number' && Number.isInteger(g.InstanceCount) ? g.InstanceCount : 6758;
      v.int(g.MinInstanceCount, `${path}.minInstanceCount`, 0, max);
    }
    if (g.InstanceType !== undefined && g.InstanceRequirements !== undefined) {
      v.add(g.InstanceRequirements, `${path}.instanceRequirements`, 'not be set together with InstanceType');
    } else if (g.InstanceRequirements !== undefined) {
      const requirements = asObject(g.InstanceRequirements);
      if (!requirements) v.add(g.InstanceRequirements, `${path}.instanceRequirements`, 'be a structure');
      else {
        const types = v.array(requirements.InstanceTypes, `${path}.instanceRequirements.instanceTypes`, 1, Number.MAX_SAFE_INTEGER);
        types.forEach((type, i) => {
          if (typeof type !== 'string' || !HYPERPOD_INSTANCE_TYPES.has(type)) {
            v.add(type, `${path}.instanceRequirements.instanceTypes.${i + 1}.member`, `satisfy enum value set: ${ENUM_HINT}`);
          }
        });
      }
    } else if (g.InstanceType === undefined) v.add(undefined, `${path}.instanceType`, 'not be null');
    else if (typeof g.InstanceType !== 'string' || !HYPERPOD_INSTANCE_TYPES.has(g.InstanceType)) {
      v.add(g.InstanceType, `${path}.instanceType`, `satisfy enum value set: ${ENUM_HINT}`);
    }
    const lifeCycle = asObject(g.LifeCycleConfig);
    if (!lifeCycle) v.add(undefined, `${path}.lifeCycleConfig`, 'not be null');
    else {
      v.text(lifeCycle.SourceS3Uri, `${path}.lifeCycleConfig.sourceS3Uri`, 1, 1024, S3_URI);
      v.text(lifeCycle.OnCreate, `${path}.lifeCycleConfig.onCreate`, 1, 128, /\S/);
    }
    v.text(g.ExecutionRole, `${path}.executionRole`, 20, 2048, ROLE_ARN);
    if (g.ThreadsPerCore !== undefined) v.int(g.ThreadsPerCore, `${path}.threadsPerCore`, 1, 2);
    if (g.TrainingPlanArn !== undefined) v.text(g.TrainingPlanArn, `${path}.trainingPlanArn`, 50, 2048, TRAINING_PLAN_ARN);
    v.array(g.InstanceStorageConfigs, `${path}.instanceStorageConfigs`, 0, 4, false).forEach((item, i) => {
      const members = Object.keys(asObject(item) ?? {}).filter((k) => STORAGE_MEMBERS.includes(k));
      if (members.length !== 1)
        v.add(item, `${path}.instanceStorageConfigs.${i + 1}.member`, `set exactly one of ${STORAGE_MEMBERS.join(', ')}`);
      const ebs = asObject(asObject(item)?.EbsVolumeConfig);
      // A root-volume config may leave the size to the service.
      if (ebs && !(ebs.RootVolume === true && ebs.VolumeSizeInGB === undefined))
        v.int(ebs.VolumeSizeInGB, `${path}.instanceStorageConfigs.${i + 1}.member.ebsVolumeConfig.volumeSizeInGB`, 1, 16384);
    });
    const checks = v.array(g.OnStartDeepHealthChecks, `${path}.onStartDeepHealthChecks`, 1, 2, false);
    if (checks.some((c) => c !== 'InstanceStress' && c !== 'InstanceConnectivity') || new Set(checks).size !== checks.length) {
      v.add(checks, `${path}.onStartDeepHealthChecks`, 'contain distinct values of [InstanceStress, InstanceConnectivity]');
    }
    validateVpc(v, g.OverrideVpcConfig, `${path}.overrideVpcConfig`);
  });
  const tags = v.array(body.Tags, 'tags', 0, 50, false);
  const keys = new Set<string>();
  tags.forEach((raw, i) => {
    const tag = asObject(raw) ?? {};
    v.text(tag.Key, `tags.${i + 1}.member.key`, 1, 128, TAG_TEXT);
    v.text(tag.Value, `tags.${i + 1}.member.value`, 0, 256, TAG_TEXT);
    if (typeof tag.Key === 'string') {
      if (tag.Key.toLowerCase().startsWith('aws:')) v.add(tag.Key, `tags.${i + 1}.member.key`, "not start with 'aws:'");
      if (keys.has(tag.Key)) v.add(tag.Key, `tags.${i + 1}.member.key`, 'be unique');
      keys.add(tag.Key);
    }
  });
  validateVpc(v, body.VpcConfig, 'vpcConfig');
  if (body.Orchestrator !== undefined) {
    const orchestrator = asObject(body.Orchestrator) ?? {};
    const set = Object.keys(orchestrator);
    if (set.length !== 1 || !['Eks', 'Slurm'].includes(set[0]!)) v.add(body.Orchestrator, 'orchestrator', 'set exactly one of Eks, Slurm');
    const eks = asObject(orchestrator.Eks);
    if (eks) v.text(eks.ClusterArn, 'orchestrator.eks.clusterArn', 20, 2048, EKS_ARN);
    const strategy = asObject(orchestrator.Slurm)?.SlurmConfigStrategy;
    if (strategy !== undefined && !['Overwrite', 'Managed', 'Merge'].includes(strategy as string)) {
      v.add(strategy, 'orchestrator.slurm.slurmConfigStrategy', 'satisfy enum value set: [Overwrite, Managed, Merge]');
    }
  }
  if (body.NodeRecovery !== undefined && body.NodeRecovery !== 'Automatic' && body.NodeRecovery !== 'None') {
    v.add(body.NodeRecovery, 'nodeRecovery', 'satisfy enum value set: [Automatic, None]');
  }
  if (body.NodeProvisioningMode !== undefined && body.NodeProvisioningMode !== 'Continuous') {
    v.add(body.NodeProvisioningMode, 'nodeProvisioningMode', 'satisfy enum value set: [Continuous]');
  }
  return v.toError();
};
