// @ts-check
/**
 * The deployment's allow-lists, turned into what serverless.yml needs at package time: the resource ARNs of the IAM
 * grants (one per allowed region, one per allowed role) and the allow-list environment of the submit functions, which
 * check every request against the same lists (functions/core/policy.ts). Loaded from serverless.yml as
 * `${file(./config/allow-lists.js):iam.sagemakerClusters}` and so on.
 *
 * The parameters (serverless.yml `params`, or `--param="name=value"`), each a comma-separated list:
 * - allowedRegions: region names; '' means the deployment's own region.
 * - allowedExecutionRoles: role ARNs, each exact or a prefix ending in `*`. `${AWS::Partition}` and
 *   `${AWS::AccountId}` may be used (they become a CloudFormation Fn::Sub, resolved at deploy time).
 * - allowedLifecycleBuckets: S3 bucket names, each exact or a prefix ending in `*` (`*` alone: any bucket).
 *
 * A malformed entry fails `osls package` with a message naming the parameter, instead of a deploy that grants more (a
 * `*` in the middle of a role ARN is an IAM wildcard the request check would not honour) or a function that refuses
 * everything.
 */

/** The parameter that named the execution roles before the allow-lists; refused so a stale `--param` is not ignored. */
const RENAMED = { hyperpodExecutionRoleArns: 'allowedExecutionRoles' };

/** As functions/contract/request.schema.json's `region`. */
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
/** A role ARN of one account (a literal or `${AWS::AccountId}`), exact or with one trailing `*`. */
const ROLE = /^arn:(\$\{AWS::Partition\}|aws[a-z-]*):iam::(\$\{AWS::AccountId\}|\d{12}):role\/[A-Za-z0-9+=,.@_/-]*\*?$/;
/** A bucket name (3..63 of [a-z0-9.-]), or a prefix of one ending in `*`, or `*`. */
const BUCKET = /^(\*|[a-z0-9][a-z0-9.-]{2,62}|[a-z0-9][a-z0-9.-]{0,61}\*)$/;

/** An EKS cluster ARN (a literal account or `${AWS::AccountId}`), exact or a prefix of its name ending in `*`. */
const EKS_CLUSTER =
  /^arn:(\$\{AWS::Partition\}|aws[a-z-]*):eks:[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}:(\$\{AWS::AccountId\}|\d{12}):cluster\/[0-9A-Za-z][A-Za-z0-9_-]*\*?$/;
/** A subnet / security group id, exact or a prefix ending in `*`, or `*`. */
const SUBNET = /^(\*|subnet-[0-9a-f]{0,17}\*?)$/;
const SECURITY_GROUP = /^(\*|sg-[0-9a-f]{0,17}\*?)$/;
/** A TIR project id or SKU id (digits), or `*`. */
const TIR_ID = /^(\*|\d{1,12})$/;
/** A TIR location name, or `*`. */
const TIR_LOCATION = /^(\*|[A-Za-z][A-Za-z0-9 _-]{0,63})$/;

/**
 * The lists that grant access or place nodes, each denying everything while it is unset (a deployment says what it
 * lets requests reach): EKS clusters (access entries are made on them), VPC subnets and security groups (the nodes'
 * network), cluster roles, TIR projects. TIR locations and SKUs only choose within an allowed project: unset, any.
 * @param {Record<string, unknown>} params
 */
export const placementLists = (params) => {
  /** @param {string} name @param {RegExp} pattern @param {string} what @param {string[]} [unset] */
  const list = (name, pattern, what, unset = []) => {
    const entries = parseList(params[name]);
    if (entries.length === 0) return unset;
    const bad = entries.filter((entry) => !pattern.test(entry));
    if (bad.length > 0) throw new AllowListError(`Parameter ${name}: ${bad.map((b) => JSON.stringify(b)).join(', ')} is not ${what}`);
    return entries;
  };
  return {
    eksClusters: list('allowedEksClusters', EKS_CLUSTER, 'an EKS cluster ARN (exact, or a prefix of the name ending in *)'),
    subnets: list('allowedSubnets', SUBNET, 'a subnet id (exact, or a prefix ending in *)'),
    securityGroups: list('allowedSecurityGroups', SECURITY_GROUP, 'a security group id (exact, or a prefix ending in *)'),
    clusterRoles: list('allowedClusterRoles', ROLE, 'an IAM role ARN (exact, or a prefix ending in *) of one account'),
    tirProjects: list('allowedTirProjects', TIR_ID, 'a TIR project id'),
    tirLocations: list('allowedTirLocations', TIR_LOCATION, 'a TIR location name', ['*']),
    tirSkus: list('allowedTirSkus', TIR_ID, 'a TIR SKU id', ['*']),
  };
};

/** Matches no EKS cluster (a name starts with a letter or digit): what the grants name while allowedEksClusters is unset. */
const NO_EKS_CLUSTER = '-none-';

export class AllowListError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'AllowListError';
  }
}

/** `'a, b,,c'` -> `['a', 'b', 'c']` */
export const parseList = (/** @type {unknown} */ text) =>
  String(text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);

/**
 * @param {string} name
 * @param {string[]} entries
 * @param {RegExp} pattern
 * @param {string} what
 */
const checked = (name, entries, pattern, what) => {
  const bad = entries.filter((entry) => !pattern.test(entry));
  if (bad.length > 0) throw new AllowListError(`Parameter ${name}: ${bad.map((b) => JSON.stringify(b)).join(', ')} is not ${what}`);
  if (entries.length === 0) throw new AllowListError(`Parameter ${name} must list at least one value`);
  return entries;
};

/**
 * The three lists, validated. `params` holds the raw parameter values (undefined or '' = the default of the list).
 * @param {{ allowedRegions?: unknown, allowedExecutionRoles?: unknown, allowedLifecycleBuckets?: unknown }} params
 * @param {string} deploymentRegion
 */
export const allowLists = (params, deploymentRegion) => {
  const regions = parseList(params.allowedRegions);
  return {
    regions: checked('allowedRegions', regions.length > 0 ? regions : [deploymentRegion], REGION, 'an AWS region name'),
    roles: checked(
      'allowedExecutionRoles',
      parseList(params.allowedExecutionRoles),
      ROLE,
      'an IAM role ARN (exact, or a prefix ending in *) of one account',
    ),
    buckets: checked(
      'allowedLifecycleBuckets',
      parseList(params.allowedLifecycleBuckets),
      BUCKET,
      'an S3 bucket name (exact, or a prefix ending in *)',
    ),
  };
};

/** @typedef {{ resolveVariable: (variable: string) => Promise<unknown> }} Context */

/** @param {Context} context */
const fromServerless = async ({ resolveVariable }) => {
  for (const [old, now] of Object.entries(RENAMED)) {
    if (await resolveVariable(`param:${old}, ''`)) throw new AllowListError(`Parameter ${old} is now called ${now}`);
  }
  return allowLists(
    {
      allowedRegions: await resolveVariable(`param:allowedRegions, ''`),
      allowedExecutionRoles: await resolveVariable(`param:allowedExecutionRoles, ''`),
      allowedLifecycleBuckets: await resolveVariable(`param:allowedLifecycleBuckets, ''`),
    },
    String(await resolveVariable('self:provider.region')),
  );
};

const PLACEMENT_PARAMS = [
  'allowedEksClusters',
  'allowedSubnets',
  'allowedSecurityGroups',
  'allowedClusterRoles',
  'allowedTirProjects',
  'allowedTirLocations',
  'allowedTirSkus',
];

/** @param {Context} context */
const placementFromServerless = async ({ resolveVariable }) => {
  /** @type {Record<string, unknown>} */
  const params = {};
  for (const name of PLACEMENT_PARAMS) params[name] = await resolveVariable(`param:${name}, ''`);
  return placementLists(params);
};

/** The allowed EKS clusters' ARNs and their access entries' (`access-entry/<cluster>/*`); none allowed: no cluster's. */
const eksGrants = async (/** @type {Context} */ context, /** @type {'cluster' | 'access-entry'} */ kind) => {
  const { eksClusters } = await placementFromServerless(context);
  if (eksClusters.length === 0) {
    return (await fromServerless(context)).regions.map((region) => ({
      'Fn::Sub': `arn:\${AWS::Partition}:eks:${region}:\${AWS::AccountId}:${kind}/${NO_EKS_CLUSTER}${kind === 'cluster' ? '' : '/*'}`,
    }));
  }
  return eksClusters.map((arn) => ({
    'Fn::Sub': kind === 'cluster' ? arn : `${arn.replace(':cluster/', ':access-entry/')}${arn.endsWith('*') ? '' : '/*'}`,
  }));
};

/** One ARN per allowed region: `arn:<partition>:<service>:<region>:<account>:<resource>`. */
const perRegion = (/** @type {string} */ service, /** @type {string} */ resource) => async (/** @type {Context} */ context) =>
  (await fromServerless(context)).regions.map((region) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:${service}:${region}:\${AWS::AccountId}:${resource}`,
  }));

/** Resource ARNs (and, for actions without resource-level permissions, region names) for the IAM grants of serverless.yml. */
export const iam = {
  /** The allowed regions themselves: `aws:RequestedRegion` of an action that takes no resource ARN (ListClusters). */
  regions: async (/** @type {Context} */ context) => (await fromServerless(context)).regions,
  sagemakerClusters: perRegion('sagemaker', 'cluster/*'),
  trainingPlans: perRegion('sagemaker', 'training-plan/*'),
  /** CreateCluster's resources: the cluster, and the training plan an instance group may name (TrainingPlanArn). */
  sagemakerClustersAndTrainingPlans: async (/** @type {Context} */ context) => [
    ...(await perRegion('sagemaker', 'cluster/*')(context)),
    ...(await perRegion('sagemaker', 'training-plan/*')(context)),
  ],
  /** The allowedEksClusters (HyperPod makes access entries on them with the caller's permissions). */
  eksClusters: async (/** @type {Context} */ context) => eksGrants(context, 'cluster'),
  eksAccessEntries: async (/** @type {Context} */ context) => eksGrants(context, 'access-entry'),
  executionRoles: async (/** @type {Context} */ context) => (await fromServerless(context)).roles.map((role) => ({ 'Fn::Sub': role })),
  /** What createCluster may pass to SageMaker: the execution roles and the allowedClusterRoles. */
  passableRoles: async (/** @type {Context} */ context) =>
    [...(await fromServerless(context)).roles, ...(await placementFromServerless(context)).clusterRoles].map((role) => ({
      'Fn::Sub': role,
    })),
  /** The allowed lifecycle buckets (the pre-flight plan may list them: S3 answers a missing key 404, not 403). */
  lifecycleBuckets: async (/** @type {Context} */ context) =>
    (await fromServerless(context)).buckets.map((bucket) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucket}` })),
  /** The objects of the allowed lifecycle buckets (the pre-flight plan's HeadObject of a lifecycle script). */
  lifecycleObjects: async (/** @type {Context} */ context) =>
    (await fromServerless(context)).buckets.map((bucket) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucket}/*` })),
};

/**
 * The lists as the submit functions' environment holds them (functions/core/policy.ts), by parameter; serverless.yml
 * gives them through serverless/environment.js (functions/contract/environment.js names the variables).
 */
export const environment = {
  allowedRegions: async (/** @type {Context} */ context) => (await fromServerless(context)).regions.join(','),
  allowedExecutionRoles: async (/** @type {Context} */ context) => ({ 'Fn::Sub': (await fromServerless(context)).roles.join(',') }),
  allowedLifecycleBuckets: async (/** @type {Context} */ context) => (await fromServerless(context)).buckets.join(','),
  allowedEksClusters: async (/** @type {Context} */ context) => ({
    'Fn::Sub': (await placementFromServerless(context)).eksClusters.join(','),
  }),
  allowedSubnets: async (/** @type {Context} */ context) => (await placementFromServerless(context)).subnets.join(','),
  allowedSecurityGroups: async (/** @type {Context} */ context) => (await placementFromServerless(context)).securityGroups.join(','),
  allowedClusterRoles: async (/** @type {Context} */ context) => ({
    'Fn::Sub': (await placementFromServerless(context)).clusterRoles.join(','),
  }),
  allowedTirProjects: async (/** @type {Context} */ context) => (await placementFromServerless(context)).tirProjects.join(','),
  allowedTirLocations: async (/** @type {Context} */ context) => (await placementFromServerless(context)).tirLocations.join(','),
  allowedTirSkus: async (/** @type {Context} */ context) => (await placementFromServerless(context)).tirSkus.join(','),
};
