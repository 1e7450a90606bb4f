/**
 * Validation of the provisioning request: the one gate every entry point (HTTP, SQS, EventBridge, schedules, CLI) uses.
 *
 * The rules are tables that mirror the references (README "Validation"): one table per object of the CreateCluster
 * request and of the TIR create body, then the contract's top level. They are hand-written rather than JSON Schema so
 * that each rule owns its message and reports the exact RFC 6901 pointer of the offending value (a missing field at its
 * own path, a duplicate at the later one), and so the semantic rules (duplicates, exactly-one-of, cross-field, reserved
 * tag, other-provider fields) sit beside the shapes they refine. Everything is built once, at module load.
 *
 * Only the known structure is walked, so no input can make it recurse without bound: deep nesting under an unknown
 * field is reported as that unknown field and never entered. Known fields are read only when they are own properties,
 * so `__proto__` or `constructor` keys are unknown fields like any other, never the prototype's members.
 */
import { RequestValidationError, type FieldError } from './errors';
import { HYPERPOD_INSTANCE_TYPES } from './hyperpod-instance-types';
import { REQUEST_ID_TAG } from './provider';
import { PROVIDERS, type ProvisionRequest } from './request';

export interface ValidationResult {
  valid: boolean;
  errors: FieldError[];
  warnings: FieldError[];
  /** The typed request, set when valid (the input itself, unchanged: requestId is settled later by withRequestId). */
  request?: ProvisionRequest;
}

/** Every error and warning, at once. Throws nothing, whatever the input. */
export function validateRequest(input: unknown): ValidationResult {
  const out = new Findings();
  const provider = isObject(input) && Object.hasOwn(input, 'provider') ? input.provider : undefined;
  const rule = provider === 'sagemaker' ? SAGEMAKER_REQUEST : provider === 'tir' ? TIR_REQUEST : UNKNOWN_PROVIDER_REQUEST;
  rule(input, '', out);
  const { errors, warnings } = out.result();
  return errors.length === 0
    ? { valid: true, errors, warnings, request: input as ProvisionRequest }
    : { valid: false, errors, warnings };
}

/** Throws RequestValidationError (carrying errors and warnings); returns the typed request. */
export function parseRequest(input: unknown): ProvisionRequest {
  const result = validateRequest(input);
  if (!result.request) throw new RequestValidationError(result.errors, result.warnings);
  return result.request;
}

/**
 * Seconds in an ISO 8601 duration of weeks, days, hours, minutes and whole seconds (`PT8H`, `P1DT12H`, `P2W`);
 * undefined for anything else, including years and months, which have no fixed length.
 */
export function durationSeconds(value: string): number | undefined {
  const match = DURATION.exec(value);
  if (!match || value === 'P') return undefined;
  const [weeks = 0, days = 0, hours = 0, minutes = 0, seconds = 0] = match.slice(1).map((part) => Number(part ?? 0));
  return (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds;
}

// ---------------------------------------------------------------------------------------------------------------------
// The toolkit: a rule checks one value at one pointer and records what it finds.

type Rule = (value: unknown, path: string, out: Findings) => void;
type Obj = Readonly<Record<string, unknown>>;
/** A check on a whole object, run after its fields: where the cross-field and semantic rules live. */
type Refine = (value: Obj, path: string, out: Findings) => void;

/**
 * A hostile request (a million-item array of bad items) must not produce a million-line answer or take seconds:
 * past this many errors the walk stops looking and says so. No plausible request comes anywhere near it.
 */
const MAX_REPORTED = 200;

class Findings {
  private readonly errors: FieldError[] = [];
  private readonly warnings: FieldError[] = [];
  private truncated = false;

  /** No more errors will be listed: loops over items stop early (and call truncate). */
  get full(): boolean {
    return this.errors.length >= MAX_REPORTED;
  }

  truncate(): void {
    this.truncated = true;
  }

  error(path: string, message: string): void {
    if (this.full) this.truncate();
    else this.errors.push({ path, message });
  }

  warn(path: string, message: string): void {
    if (this.warnings.length < MAX_REPORTED) this.warnings.push({ path, message });
  }

  result(): { errors: FieldError[]; warnings: FieldError[] } {
    const more = this.truncated ? [{ path: '', message: `has more errors than the ${MAX_REPORTED} listed` }] : [];
    return { errors: [...this.errors, ...more], warnings: this.warnings };
  }
}

const isObject = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 6901: `~` is written `~0` and `/` is written `~1` inside a key. */
const at = (path: string, key: string | number): string =>
  `${path}/${typeof key === 'number' ? key : key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

/** What a value is, for "(got ...)": numbers are short enough to show; anything else is named, never echoed. */
const describe = (value: unknown): string =>
  typeof value === 'number' ? String(value) : value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

const kindOf = (value: unknown): string => (typeof value === 'number' ? 'number' : describe(value));

/** Characters as AWS counts them (code points), not UTF-16 units: a character outside the BMP is one, not two. */
const lengthOf = (value: string): number => {
  let length = 0;
  for (const _ of value) length++;
  return length;
};

/** A regex together with its source as the reference spells it, for the message. */
interface Pattern {
  regex: RegExp;
  source: string;
}
const pattern = (source: string, flags = ''): Pattern => ({ regex: new RegExp(source, flags), source });

/** ` (did you mean "X"?)` when a candidate differs only by case or by a typo or two; otherwise empty. */
const didYouMean = (value: string, candidates: readonly string[]): string => {
  if (value.length > 64) return '';
  const lower = value.toLowerCase();
  const best =
    candidates.find((candidate) => candidate.toLowerCase() === lower) ??
    candidates.find((candidate) => editDistance(lower, candidate.toLowerCase()) <= typosAllowed(lower.length));
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
};

/** One typo in a short name, two in a long one: more would suggest unrelated fields. */
const typosAllowed = (length: number): number => (length < 8 ? 1 : 2);

const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
};

interface TextLimits {
  min?: number;
  max?: number;
  pattern?: Pattern;
}

/** A string: type, then length, then pattern; one error per value, the first rule it breaks. */
const text =
  ({ min = 0, max, pattern }: TextLimits = {}): Rule =>
  (value, path, out) => {
    if (typeof value !== 'string') return out.error(path, `must be a string (got ${kindOf(value)})`);
    const length = lengthOf(value);
    if (length < min) return out.error(path, `must be at least ${min} character${min === 1 ? '' : 's'} (got ${length})`);
    if (max !== undefined && length > max) return out.error(path, `must be at most ${max} characters (got ${length})`);
    if (pattern && !pattern.regex.test(value)) out.error(path, `must match ${pattern.source}`);
  };

/** An integer (1.5 is not one) within [min, max]; JSON numbers past 2^53 cannot be told apart, so that is the cap. */
const integer =
  ({ min, max = Number.MAX_SAFE_INTEGER }: { min: number; max?: number }): Rule =>
  (value, path, out) => {
    if (typeof value !== 'number' || !Number.isInteger(value))
      return out.error(path, `must be an integer (got ${describe(value)})`);
    if (value < min) return out.error(path, `must be at least ${min} (got ${value})`);
    if (value > max) out.error(path, `must be at most ${max} (got ${value})`);
  };

/** Ids of the TIR API: positive integers. */
const positiveInteger: Rule = (value, path, out) => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    out.error(path, `must be a positive integer (got ${describe(value)})`);
};

const boolean: Rule = (value, path, out) => {
  if (typeof value !== 'boolean') out.error(path, `must be true or false (got ${kindOf(value)})`);
};

/** One of a set of strings. A long set is named by `what` instead of listed in every message. */
const oneOf = (values: readonly string[], what?: string): Rule => {
  const allowed = new Set(values);
  return (value, path, out) => {
    if (typeof value !== 'string') return out.error(path, `must be a string (got ${kindOf(value)})`);
    if (!allowed.has(value)) out.error(path, `must be ${what ?? `one of: ${values.join(', ')}`}${didYouMean(value, values)}`);
  };
};

interface ListLimits {
  min?: number;
  max?: number;
  /** The message for more than `max` items, when the plain one would not say why. */
  tooMany?: string;
  /** Items (or the item field `key`) must be unique; the later duplicate is reported, naming the first. */
  unique?: { key?: string; why: string };
}

const list =
  (item: Rule, { min = 0, max, tooMany, unique }: ListLimits = {}): Rule =>
  (value, path, out) => {
    if (!Array.isArray(value)) return out.error(path, `must be an array (got ${kindOf(value)})`);
    if (value.length < min) out.error(path, `must have at least ${min} item${min === 1 ? '' : 's'} (got ${value.length})`);
    if (max !== undefined && value.length > max)
      out.error(path, tooMany ?? `must have at most ${max} items (got ${value.length})`);
    for (let i = 0; i < value.length; i++) {
      if (out.full) return out.truncate();
      item(value[i], at(path, i), out);
    }
    if (unique) reportDuplicates(value, path, unique, out);
  };

const reportDuplicates = (items: unknown[], path: string, unique: { key?: string; why: string }, out: Findings): void => {
  const { key, why } = unique;
  const firstIndex = new Map<unknown, number>();
  for (let i = 0; i < items.length; i++) {
    if (out.full) return out.truncate();
    const item = items[i];
    const value = key === undefined ? item : isObject(item) && Object.hasOwn(item, key) ? item[key] : undefined;
    if (typeof value !== 'string' && typeof value !== 'number') continue;
    const first = firstIndex.get(value);
    const pathOf = (index: number) => (key === undefined ? at(path, index) : at(at(path, index), key));
    if (first === undefined) firstIndex.set(value, i);
    else out.error(pathOf(i), `duplicates ${pathOf(first)}: ${why}`);
  }
};

interface Field {
  required: boolean;
  rule: Rule;
}
const required = (rule: Rule): Field => ({ required: true, rule });
const optional = (rule: Rule): Field => ({ required: false, rule });

interface ObjectOptions {
  /** Keys the API does not document, so the provisioner cannot judge them: allowed and not checked. */
  otherKeys?: 'error' | 'allow';
  /** Keys that are known but do not belong here, with the message saying where they do. */
  misplaced?: Readonly<Record<string, string>>;
  refine?: Refine;
}

/** An object with a table of fields: unknown keys are errors (with a suggestion), missing required ones too. */
const object = (name: string, fields: Readonly<Record<string, Field>>, options: ObjectOptions = {}): Rule => {
  const known = Object.keys(fields);
  const { otherKeys = 'error', misplaced = {}, refine } = options;
  return (value, path, out) => {
    if (!isObject(value)) return out.error(path, `must be an object (got ${kindOf(value)})`);
    for (const key of Object.keys(value)) {
      if (Object.hasOwn(fields, key)) continue;
      const where = Object.hasOwn(misplaced, key) ? misplaced[key] : undefined;
      if (where !== undefined) out.error(at(path, key), where);
      else if (otherKeys === 'error') out.error(at(path, key), `is not a known field of ${name}${didYouMean(key, known)}`);
    }
    for (const [key, field] of Object.entries(fields)) {
      if (Object.hasOwn(value, key)) field.rule(value[key], at(path, key), out);
      else if (field.required) out.error(at(path, key), 'is required');
    }
    refine?.(value, path, out);
  };
};

/** A union member set (Orchestrator, InstanceStorageConfig): exactly one member present; the later extras are errors. */
const exactlyOne =
  (name: string, members: readonly string[]): Refine =>
  (value, path, out) => {
    const present = members.filter((member) => Object.hasOwn(value, member));
    const [first, ...extras] = present;
    if (first === undefined) {
      // A one-member union reads as an ordinary required field, reported at that field's own path.
      if (members.length === 1) out.error(at(path, members[0] ?? ''), 'is required');
      else out.error(path, `must set exactly one of: ${members.join(', ')} (got none)`);
    }
    for (const extra of extras)
      out.error(at(path, extra), `cannot be set together with ${first}: ${name} takes exactly one of: ${members.join(', ')}`);
  };

// ---------------------------------------------------------------------------------------------------------------------
// SageMaker HyperPod CreateCluster (SageMaker API reference and its API model). Field order follows the README tables.

const HYPERPOD_NAME = pattern(String.raw`^[a-zA-Z0-9](-*[a-zA-Z0-9])*$`);
const VPC_RESOURCE_ID = pattern(String.raw`^[-0-9a-zA-Z]+$`);
/** Letters, separators and numbers of any script, so the `u` flag is required. */
const TAG_TEXT = pattern(String.raw`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`, 'u');
const EKS_CLUSTER_ARN = pattern(
  String.raw`^arn:aws[a-z\-]*:eks:[a-z0-9\-]*:[0-9]{12}:cluster\/[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$`,
);
const S3_URI = pattern(String.raw`^(https|s3)://([^/]+)/?(.*)$`);
const ROLE_ARN = pattern(String.raw`^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`);
const TRAINING_PLAN_ARN = pattern(String.raw`^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:training-plan/.*$`);

/** CreateCluster allows 50 tags; the provisioner adds its own request-id tag to every cluster, leaving 49. */
const MAX_USER_TAGS = 49;

const clusterName = text({ min: 1, max: 63, pattern: HYPERPOD_NAME });
const vpcResourceId = text({ max: 32, pattern: VPC_RESOURCE_ID });

const vpcConfig = (name: string): Rule =>
  object(name, {
    SecurityGroupIds: required(list(vpcResourceId, { min: 1, max: 5 })),
    Subnets: required(list(vpcResourceId, { min: 1, max: 16 })),
  });

const reservedTagKeys: Refine = (tag, path, out) => {
  const key = tag.Key;
  if (typeof key !== 'string') return;
  if (key === REQUEST_ID_TAG)
    out.error(at(path, 'Key'), `is reserved: the provisioner sets the ${REQUEST_ID_TAG} tag on every cluster itself`);
  // AWS reserves the prefix in any case combination.
  else if (key.toLowerCase().startsWith('aws:')) out.error(at(path, 'Key'), 'must not start with aws: (reserved for AWS)');
};

const TAG = object(
  'CreateCluster Tag',
  {
    Key: required(text({ min: 1, max: 128, pattern: TAG_TEXT })),
    Value: required(text({ max: 256, pattern: TAG_TEXT })),
  },
  { refine: reservedTagKeys },
);

const ORCHESTRATOR = object(
  'CreateCluster Orchestrator',
  {
    Eks: optional(
      object('CreateCluster Orchestrator.Eks', {
        ClusterArn: required(text({ min: 20, max: 2048, pattern: EKS_CLUSTER_ARN })),
      }),
    ),
    Slurm: optional(
      object('CreateCluster Orchestrator.Slurm', {
        SlurmConfigStrategy: optional(oneOf(['Overwrite', 'Managed', 'Merge'])),
      }),
    ),
  },
  { refine: exactlyOne('Orchestrator', ['Eks', 'Slurm']) },
);

/** The bucket a valid SourceS3Uri names: s3://bucket/..., https://bucket.s3.region.amazonaws.com/... or path style. */
const bucketOf = (uri: string): string | undefined => {
  const [, scheme, host = '', key = ''] = S3_URI.regex.exec(uri) ?? [];
  if (scheme === undefined) return undefined;
  if (scheme === 's3') return host;
  if (/^s3[.-]/.test(host)) return key.split('/')[0];
  return /^(.+)\.s3[.-]/.exec(host)?.[1] ?? host;
};

const sageMakerBucket: Refine = (config, path, out) => {
  const uri = config.SourceS3Uri;
  if (typeof uri !== 'string' || uri.length > 1024) return;
  const bucket = bucketOf(uri);
  if (bucket !== undefined && !bucket.startsWith('sagemaker-'))
    out.warn(
      at(path, 'SourceS3Uri'),
      'names a bucket that does not start with "sagemaker-": the HyperPod managed instance policy ' +
        '(AmazonSageMakerClusterInstanceRolePolicy) only grants sagemaker- buckets, so the nodes cannot fetch the ' +
        'lifecycle scripts unless the execution role grants this bucket itself',
    );
};

const LIFE_CYCLE_CONFIG = object(
  'CreateCluster LifeCycleConfig',
  {
    SourceS3Uri: required(text({ min: 1, max: 1024, pattern: S3_URI })),
    OnCreate: required(text({ min: 1, max: 128 })),
  },
  { refine: sageMakerBucket },
);

const INSTANCE_STORAGE_CONFIG = object(
  'CreateCluster InstanceStorageConfig',
  {
    EbsVolumeConfig: optional(
      object('CreateCluster EbsVolumeConfig', {
        VolumeSizeInGB: required(integer({ min: 1, max: 16384 })),
      }),
    ),
  },
  { refine: exactlyOne('InstanceStorageConfig', ['EbsVolumeConfig']) },
);

const INSTANCE_GROUP = object('CreateCluster InstanceGroup', {
  InstanceGroupName: required(clusterName),
  InstanceCount: required(integer({ min: 1, max: 6758 })),
  InstanceType: required(
    oneOf(HYPERPOD_INSTANCE_TYPES, 'a HyperPod instance type listed in functions/core/hyperpod-instance-types.ts'),
  ),
  LifeCycleConfig: required(LIFE_CYCLE_CONFIG),
  ExecutionRole: required(text({ min: 20, max: 2048, pattern: ROLE_ARN })),
  ThreadsPerCore: optional(integer({ min: 1, max: 2 })),
  InstanceStorageConfigs: optional(list(INSTANCE_STORAGE_CONFIG, { max: 4 })),
  OnStartDeepHealthChecks: optional(
    list(oneOf(['InstanceStress', 'InstanceConnectivity']), {
      min: 1,
      max: 2,
      unique: { why: 'deep health checks must be distinct' },
    }),
  ),
  TrainingPlanArn: optional(text({ min: 50, max: 2048, pattern: TRAINING_PLAN_ARN })),
  OverrideVpcConfig: optional(vpcConfig('CreateCluster OverrideVpcConfig')),
});

const CREATE_CLUSTER = object('CreateCluster', {
  ClusterName: required(clusterName),
  InstanceGroups: required(
    list(INSTANCE_GROUP, {
      min: 1,
      max: 20,
      unique: { key: 'InstanceGroupName', why: 'InstanceGroupName must be unique within the cluster' },
    }),
  ),
  Tags: optional(
    list(TAG, {
      max: MAX_USER_TAGS,
      tooMany: `must have at most ${MAX_USER_TAGS} items: CreateCluster allows 50 tags and the provisioner adds its own ${REQUEST_ID_TAG} tag`,
      unique: { key: 'Key', why: 'tag keys must be unique' },
    }),
  ),
  VpcConfig: optional(vpcConfig('CreateCluster VpcConfig')),
  Orchestrator: optional(ORCHESTRATOR),
  NodeRecovery: optional(oneOf(['Automatic', 'None'])),
});

// ---------------------------------------------------------------------------------------------------------------------
// E2E Networks TIR Create Training Cluster body (POST /distributed_jobs_v2/cluster/).

/** A sanity bound on the script sent in the create body (the API documents none): 64 KiB is far beyond a real one. */
const MAX_LIFECYCLE_SCRIPT = 65536;

const lifecycleScript: Refine = (body, path, out) => {
  const script = body.lifecycle_script;
  if (body.script_added === true) {
    if (!Object.hasOwn(body, 'lifecycle_script')) out.error(at(path, 'lifecycle_script'), 'is required when script_added is true');
    else if (typeof script === 'string' && script.trim() === '')
      out.error(at(path, 'lifecycle_script'), 'must not be empty when script_added is true');
  } else if (typeof script === 'string' && script.trim() !== '') {
    out.warn(at(path, 'lifecycle_script'), 'is set but script_added is not true, so TIR may not run it');
  }
};

const TIR_BODY = object(
  'the TIR create body',
  {
    // TIR documents no rule for the name; the HyperPod one keeps names portable and safe in hostnames.
    name: required(clusterName),
    image_version_id: required(positiveInteger),
    ssh_key_ids: required(list(positiveInteger, { min: 1, unique: { why: 'SSH key ids must be unique' } })),
    security_group_id: required(positiveInteger),
    sku_id: required(positiveInteger),
    no_of_nodes: required(integer({ min: 1 })),
    sku_item_price_id: required(positiveInteger),
    script_added: optional(boolean),
    lifecycle_script: optional(text({ max: MAX_LIFECYCLE_SCRIPT })),
    sfs_mount_list: optional(
      list(
        object('a TIR sfs_mount_list item', {
          id: required(positiveInteger),
          name: optional(text({ min: 1 })),
          mount_path: optional(text({ min: 1 })),
        }),
      ),
    ),
    // The API documents these items only as "array"; the id is the one thing the provisioner relies on, so other
    // keys pass through unchecked rather than rejecting fields TIR may well accept.
    pfs_mount_list: optional(list(object('a TIR pfs_mount_list item', { id: required(positiveInteger) }, { otherKeys: 'allow' }))),
    dataset_mount_list: optional(
      list(object('a TIR dataset_mount_list item', { id: required(positiveInteger) }, { otherKeys: 'allow' })),
    ),
  },
  { refine: lifecycleScript },
);

// ---------------------------------------------------------------------------------------------------------------------
// The contract's top level (functions/core/request.ts).

const REQUEST_ID = pattern(String.raw`^[A-Za-z0-9_-]+$`);
/** Commercial, GovCloud and ISO partitions: us-east-1, us-gov-west-1, ap-southeast-2, us-isob-east-1. */
const AWS_REGION = pattern(String.raw`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$`);

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))?$/i;
const DATE_TIME_EXAMPLE = 'an RFC 3339 date-time with a zone, e.g. 2026-12-01T08:00:00Z';

/** RFC 3339 with a zone: a local time would mean a different instant in every region the request passes through. */
const dateTime: Rule = (value, path, out) => {
  if (typeof value !== 'string') return out.error(path, `must be a string (got ${kindOf(value)})`);
  const match = value.length <= 64 ? DATE_TIME.exec(value) : null;
  if (!match) return out.error(path, `must be ${DATE_TIME_EXAMPLE}`);
  const [year, month, day, hour, minute, second, , zone, zoneHour, zoneMinute] = match.slice(1);
  if (zone === undefined) return out.error(path, `must include a zone (Z or ±hh:mm): ${DATE_TIME_EXAMPLE}`);
  const daysInMonth = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
  const inRange =
    Number(month) >= 1 &&
    Number(month) <= 12 &&
    Number(day) >= 1 &&
    Number(day) <= daysInMonth &&
    Number(hour) <= 23 &&
    Number(minute) <= 59 &&
    // 60 (a leap second) is RFC 3339 but no scheduler can place it.
    Number(second) <= 59 &&
    Number(zoneHour ?? 0) <= 23 &&
    Number(zoneMinute ?? 0) <= 59;
  if (!inRange) out.error(path, `must be a real date and time: ${DATE_TIME_EXAMPLE}`);
};

const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const MIN_DELETE_AFTER = 60; // PT1M
const MAX_DELETE_AFTER = 365 * 86400; // P365D

const deleteAfter: Rule = (value, path, out) => {
  if (typeof value !== 'string') return out.error(path, `must be a string (got ${kindOf(value)})`);
  const seconds = value.length <= 64 ? durationSeconds(value) : undefined;
  if (seconds === undefined) {
    const fixedLength = !/[YM]/.test(value.split('T')[0] ?? '');
    return out.error(
      path,
      fixedLength
        ? 'must be an ISO 8601 duration of weeks, days, hours, minutes and whole seconds, e.g. PT8H, P1DT12H, P2W'
        : 'must not use years or months, which are not a fixed length: use weeks or days, e.g. P30D',
    );
  }
  if (seconds < MIN_DELETE_AFTER) out.error(path, 'must be at least PT1M (one minute)');
  else if (seconds > MAX_DELETE_AFTER) out.error(path, 'must be at most P365D (365 days)');
};

const anyObject: Rule = (value, path, out) => {
  if (!isObject(value)) out.error(path, `must be an object (got ${kindOf(value)})`);
};

const COMMON_FIELDS = {
  requestId: optional(text({ min: 1, max: 64, pattern: REQUEST_ID })),
  provider: required(oneOf(PROVIDERS)),
  startAt: optional(dateTime),
  deleteAfter: optional(deleteAfter),
};
const SAGEMAKER_FIELDS = { region: optional(text({ pattern: AWS_REGION })) };
const TIR_FIELDS = {
  projectId: required(positiveInteger),
  location: required(text({ min: 1, max: 64 })),
  activeIam: optional(positiveInteger),
};

const onlyFor = (provider: string, fields: Readonly<Record<string, Field>>): Record<string, string> =>
  Object.fromEntries(Object.keys(fields).map((key) => [key, `applies only to provider "${provider}"`]));

const SAGEMAKER_REQUEST = object(
  'the provision request',
  { ...COMMON_FIELDS, ...SAGEMAKER_FIELDS, cluster: required(CREATE_CLUSTER) },
  { misplaced: onlyFor('tir', TIR_FIELDS) },
);

const TIR_REQUEST = object(
  'the provision request',
  { ...COMMON_FIELDS, ...TIR_FIELDS, cluster: required(TIR_BODY) },
  { misplaced: onlyFor('sagemaker', SAGEMAKER_FIELDS) },
);

/** Provider missing or unknown: check what does not depend on it; the cluster body cannot be judged. */
const UNKNOWN_PROVIDER_REQUEST = object('the provision request', {
  ...COMMON_FIELDS,
  ...SAGEMAKER_FIELDS,
  ...Object.fromEntries(Object.entries(TIR_FIELDS).map(([key, field]) => [key, optional(field.rule)])),
  cluster: required(anyObject),
});
