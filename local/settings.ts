/**
 * The deployment parameters a request can meet (its allow-lists and defaults), as environment settings of `npm start`.
 * Each row: the variable the functions read (by its key in functions/contract/environment.js, where it is marked a
 * setting), its local default, and what it admits. A deployment sets the same variables from serverless.yml's params
 * (docs/deploy.md). The local defaults admit every file of examples/. One row per setting: `localSettings` reads them
 * all, and docs/cli.md's table is generated from here.
 */
import { ENV, VARIABLES, type EnvKey } from '../functions/contract/environment.js';

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

/** The settings by variable key, in the order the docs show them. */
const SETTINGS = {
  allowedRegions: {
    default: ({ region }) => `${region},us-west-2`,
    shown: 'us-east-1,us-west-2',
    meaning:
      "comma-separated AWS regions a HyperPod request (and each alternative) may name; the sweeper lists the same regions (the deployment's `allowedRegions`)",
  },
  allowedExecutionRoles: {
    default: () => '*',
    shown: '*',
    meaning: "IAM role ARNs (or `*`) an instance group's `ExecutionRole` may name (the deployment's `allowedExecutionRoles`)",
  },
  allowedLifecycleBuckets: {
    default: () => '*',
    shown: '*',
    meaning: "S3 buckets (or `*`) a `LifeCycleConfig.SourceS3Uri` may name (the deployment's `allowedLifecycleBuckets`)",
  },
  allowedEksClusters: {
    default: () => '*',
    shown: '*',
    meaning:
      "EKS cluster ARNs (or `*`) an `Orchestrator.Eks.ClusterArn` may name (the deployment's `allowedEksClusters`; deployed, unset means none)",
  },
  allowedSubnets: {
    default: () => '*',
    shown: '*',
    meaning:
      "subnet ids (or `*`) a `VpcConfig` or `OverrideVpcConfig` may name (the deployment's `allowedSubnets`; deployed, unset means none)",
  },
  allowedSecurityGroups: {
    default: () => '*',
    shown: '*',
    meaning:
      "security group ids (or `*`) a `VpcConfig` or `OverrideVpcConfig` may name (the deployment's `allowedSecurityGroups`; deployed, unset means none)",
  },
  allowedClusterRoles: {
    default: () => '*',
    shown: '*',
    meaning:
      "IAM role ARNs (or `*`) a request's `ClusterRole` may name (the deployment's `allowedClusterRoles`; deployed, unset means none)",
  },
  allowedTirProjects: {
    default: () => '*',
    shown: '*',
    meaning:
      "TIR project ids (or `*`) a TIR request (or alternative) may name (the deployment's `allowedTirProjects`; deployed, unset means none)",
  },
  allowedTirLocations: {
    default: () => '*',
    shown: '*',
    meaning: "TIR locations (or `*`) a TIR request may name (the deployment's `allowedTirLocations`; unset: any)",
  },
  allowedTirSkus: {
    default: () => '*',
    shown: '*',
    meaning: "TIR SKU ids (or `*`) a TIR request's `cluster.sku_id` may name (the deployment's `allowedTirSkus`; unset: any)",
  },
  preflightDefault: {
    default: () => 'false',
    shown: 'false',
    meaning: "`true`: every local submit runs the pre-flight plan first (the deployment's `preflightDefault`; [plan.md](plan.md))",
  },
  notifySnsTopics: {
    default: ({ region, account }) => `arn:aws:sns:${region}:${account}:*`,
    shown: 'arn:aws:sns:us-east-1:000000000000:*',
    meaning: "the SNS topics a local request's `notify` may name (the deployment's `notifySnsTopics`)",
  },
} satisfies Partial<Record<EnvKey, LocalSetting>>;

type SettingKey = keyof typeof SETTINGS;
export type LocalSettingName = (typeof ENV)[SettingKey];

const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** The settings by variable name (`ENV.allowedRegions`, …), in the order the docs show them. */
export const LOCAL_SETTINGS = Object.fromEntries(SETTING_KEYS.map((key) => [ENV[key], SETTINGS[key]])) as Record<
  LocalSettingName,
  LocalSetting
>;

/** Every variable functions/contract/environment.js marks a setting has a row here, and only those. */
const marked = (Object.keys(VARIABLES) as EnvKey[]).filter((key) => VARIABLES[key].local === 'setting');
const unlisted = marked.filter((key) => !(key in SETTINGS));
const unmarked = SETTING_KEYS.filter((key) => !marked.includes(key));
if (unlisted.length > 0 || unmarked.length > 0)
  throw new Error(
    `local/settings.ts and functions/contract/environment.js disagree on the settings: ${[...unlisted, ...unmarked].join(', ')}`,
  );

/** One setting: the environment's value when set (and not blank), else the local default. */
export const localSettingOf = (
  key: EnvKey,
  env: NodeJS.ProcessEnv | Record<string, string | undefined>,
  ctx: LocalSettingContext,
): string => {
  const setting = (SETTINGS as Partial<Record<EnvKey, LocalSetting>>)[key];
  if (!setting) throw new Error(`${ENV[key]} is no setting of the local stack`);
  const given = env[ENV[key]]?.trim();
  return given ? given : setting.default(ctx);
};

/** Every setting: the environment's value when set (and not blank), else the local default. */
export const localSettings = (env: NodeJS.ProcessEnv, ctx: LocalSettingContext): Record<LocalSettingName, string> =>
  Object.fromEntries(SETTING_KEYS.map((key) => [ENV[key], localSettingOf(key, env, ctx)])) as Record<LocalSettingName, string>;
