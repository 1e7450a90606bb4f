/**
 * What the SageMaker API reference states about CreateCluster that the SDK model does not carry: patterns, lengths,
 * ranges, list sizes, integer types, and the few requirements the reference keeps that the model has relaxed.
 * scripts/generate-contract.ts merges this into the shapes it generates from the pinned @aws-sdk/client-sagemaker
 * model; a shape or member named here that the model lacks fails the generator, so the overlay cannot go stale silently.
 *
 * Keys are Smithy shape names (the SDK's interface names). For a list member, `items` constrains each item.
 */
import { MAX_REQUEST_TAGS, PROVISIONER_TAGS } from '../functions/core/provider';

export interface MemberOverlay {
  type?: 'integer';
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  items?: MemberOverlay;
  /** A value the member must not match (JSON Schema `not`). */
  not?: Record<string, unknown>;
  description?: string;
}

export interface ShapeOverlay {
  /** Members the reference requires although the SDK model marks them optional. */
  required?: string[];
  /** A structure whose members are alternatives: exactly one must be set (a Smithy union is one already). */
  exactlyOne?: boolean;
  /**
   * Rules between members, as JSON Schema 2020-12 keywords added to the shape's definition (`if`/`then`/`else`,
   * `dependentSchemas`). Each failure has its own words in functions/core/validate/messages.ts (RULE_MESSAGES), keyed
   * by the rule's schema path.
   */
  rules?: Record<string, unknown>;
  description?: string;
  members?: Record<string, MemberOverlay>;
}

const NAME: MemberOverlay = { minLength: 1, maxLength: 63, pattern: String.raw`^[a-zA-Z0-9](-*[a-zA-Z0-9])*$` };
const ROLE_ARN: MemberOverlay = {
  minLength: 20,
  maxLength: 2048,
  pattern: String.raw`^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`,
};
const TRAINING_PLAN_ARN: MemberOverlay = {
  minLength: 50,
  maxLength: 2048,
  pattern: String.raw`^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:training-plan/.*$`,
};
const VPC_RESOURCE_ID: MemberOverlay = { maxLength: 32, pattern: String.raw`^[-0-9a-zA-Z]+$` };
/** Letters, separators and numbers of any script. */
const TAG_TEXT = String.raw`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`;
const INSTANCE_COUNT: MemberOverlay = { type: 'integer', minimum: 1, maximum: 6758 };

/** Members an instance group and a restricted instance group share. */
const GROUP_MEMBERS: Record<string, MemberOverlay> = {
  InstanceCount: INSTANCE_COUNT,
  InstanceGroupName: { ...NAME, description: 'Unique within the cluster.' },
  ExecutionRole: ROLE_ARN,
  ThreadsPerCore: { type: 'integer', minimum: 1, maximum: 2 },
  InstanceStorageConfigs: { maxItems: 4 },
  OnStartDeepHealthChecks: { minItems: 1, maxItems: 2, uniqueItems: true },
  TrainingPlanArn: TRAINING_PLAN_ARN,
};

export const OVERLAY: Record<string, ShapeOverlay> = {
  CreateClusterRequest: {
    required: ['InstanceGroups'],
    members: {
      ClusterName: NAME,
      InstanceGroups: { minItems: 1, maxItems: 20 },
      Tags: {
        maxItems: MAX_REQUEST_TAGS,
        description: `CreateCluster allows 50 tags; the provisioner adds its own ${PROVISIONER_TAGS.join(' and ')} tags, leaving ${MAX_REQUEST_TAGS}.`,
      },
      ClusterRole: ROLE_ARN,
    },
  },
  ClusterInstanceGroupSpecification: {
    required: ['LifeCycleConfig'],
    description:
      'Exactly one of InstanceType or InstanceRequirements (a flexible instance group); MinInstanceCount, when set, is at most InstanceCount.',
    members: {
      ...GROUP_MEMBERS,
      MinInstanceCount: { type: 'integer', minimum: 0, maximum: 6758 },
    },
    rules: {
      // Exactly one of the two, each failure at the member it is about: both set names InstanceRequirements, neither
      // names InstanceType.
      dependentSchemas: { InstanceType: { properties: { InstanceRequirements: false } } },
      if: { required: ['InstanceRequirements'] },
      else: { required: ['InstanceType'] },
    },
  },
  ClusterRestrictedInstanceGroupSpecification: { members: GROUP_MEMBERS },
  ClusterInstanceRequirements: { members: { InstanceTypes: { minItems: 1 } } },
  ClusterLifeCycleConfig: {
    required: ['SourceS3Uri', 'OnCreate'],
    members: {
      SourceS3Uri: { minLength: 1, maxLength: 1024, pattern: String.raw`^(https|s3)://([^/]+)/?(.*)$` },
      OnCreate: { minLength: 1, maxLength: 128 },
    },
  },
  ClusterEbsVolumeConfig: {
    description:
      'With RootVolume true: VolumeKmsKeyId is required and VolumeSizeInGB must not be set; otherwise VolumeSizeInGB is required.',
    members: { VolumeSizeInGB: { type: 'integer', minimum: 1, maximum: 16384 } },
    rules: {
      if: { required: ['RootVolume'], properties: { RootVolume: { const: true } } },
      // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword, in a schema that is never awaited
      then: { required: ['VolumeKmsKeyId'], properties: { VolumeSizeInGB: false } },
      else: { required: ['VolumeSizeInGB'] },
    },
  },
  VpcConfig: {
    members: {
      SecurityGroupIds: { minItems: 1, maxItems: 5, items: VPC_RESOURCE_ID },
      Subnets: { minItems: 1, maxItems: 16, items: VPC_RESOURCE_ID },
    },
  },
  Tag: {
    description: `Keys are unique; a key must not start with aws: nor be ${PROVISIONER_TAGS.join(' or ')}.`,
    members: {
      // AWS reserves the aws: prefix in any case combination; the provisioner sets its own tags itself.
      Key: {
        minLength: 1,
        maxLength: 128,
        pattern: TAG_TEXT,
        not: { anyOf: [{ enum: [...PROVISIONER_TAGS] }, { type: 'string', pattern: '^[aA][wW][sS]:' }] },
      },
      Value: { maxLength: 256, pattern: TAG_TEXT },
    },
  },
  ClusterOrchestrator: { exactlyOne: true },
  ClusterOrchestratorEksConfig: {
    members: {
      ClusterArn: {
        minLength: 20,
        maxLength: 2048,
        pattern: String.raw`^arn:aws[a-z\-]*:eks:[a-z0-9\-]*:[0-9]{12}:cluster\/[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$`,
      },
    },
  },
  ClusterCapacityRequirements: { exactlyOne: true },
  // Integers in the API reference, `number` in the SDK model: without these, 1e-200 or 1.5 would pass.
  ClusterTieredStorageConfig: { members: { InstanceMemoryAllocationPercentage: { type: 'integer', minimum: 0, maximum: 100 } } },
  FSxLustreConfig: {
    members: {
      SizeInGiB: { type: 'integer', minimum: 1200, maximum: 100800 },
      PerUnitStorageThroughput: { type: 'integer', minimum: 125, maximum: 1000 },
    },
  },
  DeploymentConfiguration: { members: { WaitIntervalInSeconds: { type: 'integer', minimum: 0, maximum: 3600 } } },
  CapacitySizeConfig: { members: { Value: { type: 'integer', minimum: 1 } } },
};
