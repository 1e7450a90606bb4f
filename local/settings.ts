/**
 * The deployment parameters a request can meet (its allow-lists and defaults), as environment settings of `npm start`.
 * Each row: the variable the functions read (functions/wiring/), its local default, and what it admits. A deployment
 * sets the same variables from serverless.yml's params (docs/deploy.md). The local defaults admit every file of
 * examples/. One row per setting: `localSettings` reads them all, and docs/cli.md's table is generated from here.
 */

/** What a default may depend on: the local stack's own region and account. */
export interface LocalSettingContext {
  region: string;
  account: string;
}

export interface LocalSetting {
  /** The local default, when the variable is not set. */
  default: (ctx: LocalSettingContext) => string;
  /** The default as the docs show it. */
  shown: string;
  meaning: string;
}

export const LOCAL_SETTINGS = {
  ALLOWED_REGIONS: {
    default: ({ region }) => `${region},us-west-2`,
    shown: 'us-east-1,us-west-2',
    meaning:
      "comma-separated AWS regions a HyperPod request (and each alternative) may name; the sweeper lists the same regions (the deployment's `allowedRegions`)",
  },
  ALLOWED_EXECUTION_ROLES: {
    default: () => '*',
    shown: '*',
    meaning: "IAM role ARNs (or `*`) an instance group's `ExecutionRole` may name (the deployment's `allowedExecutionRoles`)",
  },
  ALLOWED_LIFECYCLE_BUCKETS: {
    default: () => '*',
    shown: '*',
    meaning: "S3 buckets (or `*`) a `LifeCycleConfig.SourceS3Uri` may name (the deployment's `allowedLifecycleBuckets`)",
  },
  ALLOWED_EKS_CLUSTERS: {
    default: () => '*',
    shown: '*',
    meaning:
      "EKS cluster ARNs (or `*`) an `Orchestrator.Eks.ClusterArn` may name (the deployment's `allowedEksClusters`; deployed, unset means none)",
  },
  ALLOWED_SUBNETS: {
    default: () => '*',
    shown: '*',
    meaning:
      "subnet ids (or `*`) a `VpcConfig` or `OverrideVpcConfig` may name (the deployment's `allowedSubnets`; deployed, unset means none)",
  },
  ALLOWED_SECURITY_GROUPS: {
    default: () => '*',
    shown: '*',
    meaning:
      "security group ids (or `*`) a `VpcConfig` or `OverrideVpcConfig` may name (the deployment's `allowedSecurityGroups`; deployed, unset means none)",
  },
  ALLOWED_CLUSTER_ROLES: {
    default: () => '*',
    shown: '*',
    meaning:
      "IAM role ARNs (or `*`) a request's `ClusterRole` may name (the deployment's `allowedClusterRoles`; deployed, unset means none)",
  },
  ALLOWED_TIR_PROJECTS: {
    default: () => '*',
    shown: '*',
    meaning:
      "TIR project ids (or `*`) a TIR request (or alternative) may name (the deployment's `allowedTirProjects`; deployed, unset means none)",
  },
  ALLOWED_TIR_LOCATIONS: {
    default: () => '*',
    shown: '*',
    meaning: "TIR locations (or `*`) a TIR request may name (the deployment's `allowedTirLocations`; unset: any)",
  },
  ALLOWED_TIR_SKUS: {
    default: () => '*',
    shown: '*',
    meaning: "TIR SKU ids (or `*`) a TIR request's `cluster.sku_id` may name (the deployment's `allowedTirSkus`; unset: any)",
  },
  PREFLIGHT_DEFAULT: {
    default: () => 'false',
    shown: 'false',
    meaning: "`true`: every local submit runs the pre-flight plan first (the deployment's `preflightDefault`; [plan.md](plan.md))",
  },
  NOTIFY_SNS_TOPICS: {
    default: ({ region, account }) => `arn:aws:sns:${region}:${account}:*`,
    shown: 'arn:aws:sns:us-east-1:000000000000:*',
    meaning: "the SNS topics a local request's `notify` may name (the deployment's `notifySnsTopics`)",
  },
} satisfies Record<string, LocalSetting>;

export type LocalSettingName = keyof typeof LOCAL_SETTINGS;

/** Every setting: the environment's value when set (and not blank), else the local default. */
export const localSettings = (env: NodeJS.ProcessEnv, ctx: LocalSettingContext): Record<LocalSettingName, string> => {
  const out = {} as Record<LocalSettingName, string>;
  for (const [name, setting] of Object.entries(LOCAL_SETTINGS) as Array<[LocalSettingName, LocalSetting]>) {
    const given = env[name]?.trim();
    out[name] = given ? given : setting.default(ctx);
  }
  return out;
};
