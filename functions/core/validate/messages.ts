/** ajv's findings as this project's messages, and the messages for the contract's own formats. */
import { PROVISIONER_TAGS } from '../provider';
import {
  LONG_ENUMS,
  MAX_LISTED_VALUES,
  ONLY_FOR,
  type Schema,
  at,
  defAt,
  describe,
  didYouMean,
  isObject,
  kindOf,
  lengthOf,
  objectName,
  plural,
  propertyNames,
  schemaAt,
  segmentsOf,
  unionName,
  valueAt,
} from './schema';
import { type Findings, RANK } from './findings';

export interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
}

export const TYPE_NOUNS: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  null: 'null',
};

/** Defs whose every failure is answered by one message of their own. */
export const DEF_MESSAGES: Readonly<Record<string, (value: unknown) => string>> = {
  TirId: (value) => `must be a positive integer (got ${describe(value)})`,
  DateTime: (value) => (typeof value === 'string' ? dateTimeProblem(value) : `must be a string (got ${kindOf(value)})`),
  Duration: (value) => (typeof value === 'string' ? durationProblem(value) : `must be a string (got ${kindOf(value)})`),
};

/** The keywords that judge a value itself (not its members, nor where it stands). */
export const VALUE_KEYWORDS = new Set(['type', 'enum', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'format']);

/** Why `hold` is refused on TIR (also at an alternative's provider, functions/core/placements.ts). */
export const HOLD_NEEDS_HYPERPOD =
  'hold needs SageMaker HyperPod (provider sagemaker): it creates the cluster in Continuous provisioning mode, which TIR does not have';

const EXACTLY_ONE_TYPE = 'an instance group takes exactly one of InstanceType or InstanceRequirements';

/**
 * The words for the rules between members that the schema states (`if`/`then`/`else`, `dependentSchemas`, `not`), by
 * where the rule is written: `<definition>#<path in it>` (`#<path>` at the top level). The HyperPod ones come from
 * scripts/contract-overlay.ts (`rules`), the TIR and top-level ones are written in the schema itself. Each failure is
 * answered at the member it is about (for `required`: the missing member), ranked as a refinement, so a wrong kind,
 * size or form at the same pointer is the one answered.
 */
export const RULE_MESSAGES: Readonly<Record<string, (value: unknown) => string>> = {
  'ClusterInstanceGroupSpecification#/else/required': () => `is required unless InstanceRequirements is set: ${EXACTLY_ONE_TYPE}`,
  'ClusterInstanceGroupSpecification#/dependentSchemas/InstanceType/properties/InstanceRequirements/false schema': () =>
    `cannot be set together with InstanceType: ${EXACTLY_ONE_TYPE}`,
  // AWS documents the two cases of an EBS config: the root volume (a KMS key, no size) or an extra volume (a size).
  'ClusterEbsVolumeConfig#/then/required': () => 'is required when RootVolume is true',
  'ClusterEbsVolumeConfig#/then/properties/VolumeSizeInGB/false schema': () =>
    'must not be set when RootVolume is true: HyperPod sizes the root volume itself',
  'ClusterEbsVolumeConfig#/else/required': () => 'is required (unless RootVolume is true)',
  'Tag#/properties/Key/not': (key) =>
    typeof key === 'string' && PROVISIONER_TAGS.includes(key)
      ? `is reserved: the provisioner sets the ${key} tag on every cluster itself`
      : 'must not start with aws: (reserved for AWS)',
  'TirCreateBody#/then/required': () => 'is required when script_added is true',
  'TirCreateBody#/then/properties/lifecycle_script/pattern': () => 'must not be empty when script_added is true',
  '#/allOf/1/then/properties/capacityStrategy/not': () => HOLD_NEEDS_HYPERPOD,
  'NotifyTarget#/dependentSchemas/webhook/required': () => 'is required with webhook: the body is signed with its value',
  'NotifyTarget#/dependentSchemas/sns/properties/secret/false schema': () => 'applies only to a webhook target',
  'NotifyTarget#/properties/secret/pattern': () => 'must be a Secrets Manager secret name: 1 to 512 of A-Z a-z 0-9 / _ + = . @ -',
  'NotifyTarget#/properties/sns/pattern': () => 'must be an SNS topic ARN: arn:aws:sns:<region>:<account>:<topic name>',
};

/**
 * Where a failed keyword is written, as RULE_MESSAGES names it. ajv's schema path starts at the definition's own root
 * when the definition is compiled as a function of its own (`#/else/required`), and at the document's root when it is
 * inlined (`#/$defs/Tag/properties/Key/not`); the first is named by the definition the failing object is checked
 * against, found from the instance path (one level up per `properties` step of the rule).
 */
export const ruleKeyOf = (instancePath: string, schemaPath: string, provider: unknown): string => {
  const inlined = /^#\/\$defs\/([^/]+)(\/.*)$/.exec(schemaPath);
  if (inlined) return `${inlined[1]}#${inlined[2]}`;
  const tail = schemaPath.slice(1);
  const up = tail.split('/').filter((segment) => segment === 'properties').length;
  const object = segmentsOf(instancePath).slice(0, Math.max(0, segmentsOf(instancePath).length - up));
  const owner = object.length === 0 ? '' : (defAt(object.reduce(at, ''), provider) ?? '');
  return `${owner}#${tail}`;
};

export const fromSchema = (error: SchemaError, out: Findings): void => {
  const { keyword, instancePath: path, schemaPath, params } = error;
  // A union's alternatives ({"required": ["Eks"]}) fail one by one; the oneOf error that sums them up is answered.
  if (keyword === 'if' || /\/oneOf\/\d+\/required$/.test(schemaPath)) return;
  const rule = RULE_MESSAGES[ruleKeyOf(path, schemaPath, out.provider)];
  if (rule) {
    const where = keyword === 'required' ? at(path, String(params.missingProperty)) : path;
    out.error(where, rule(valueAt(out.input, where)), RANK.refinement);
    return;
  }
  const value = valueAt(out.input, path);
  const def = defAt(path, out.provider);
  const own = def === undefined ? undefined : DEF_MESSAGES[def];
  if (own && VALUE_KEYWORDS.has(keyword)) {
    out.error(path, own(value), keyword === 'type' ? RANK.kind : RANK.form);
    return;
  }
  switch (keyword) {
    case 'false schema': {
      const field = segmentsOf(path).at(-1) ?? '';
      const owner = ONLY_FOR[field];
      out.error(path, owner ? `applies only to provider "${owner}"` : 'is not allowed here', RANK.misplaced);
      return;
    }
    case 'required':
      out.error(at(path, String(params.missingProperty)), 'is required', RANK.kind);
      return;
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = propertyNames(schemaAt(path, out.provider) ?? {}).filter(
        (name) => path !== '' || ONLY_FOR[name] === undefined || ONLY_FOR[name] === out.provider || !isProvider(out.provider),
      );
      out.error(at(path, key), `is not a known field of ${objectName(path, out.provider)}${didYouMean(key, known)}`, RANK.kind);
      return;
    }
    case 'type': {
      const expected = String(params.type);
      const got = expected === 'integer' || expected === 'number' ? describe(value) : kindOf(value);
      out.error(path, `must be ${TYPE_NOUNS[expected] ?? expected} (got ${got})`, RANK.kind);
      return;
    }
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.map(String) : [];
      const what =
        (def && LONG_ENUMS[def]) ??
        (allowed.length > MAX_LISTED_VALUES
          ? `one of the ${allowed.length} values of ${def ?? 'the list'}`
          : `one of: ${allowed.join(', ')}`);
      out.error(path, `must be ${what}${typeof value === 'string' ? didYouMean(value, allowed) : ''}`, RANK.form);
      return;
    }
    case 'oneOf':
      exactlyOne(path, schemaAt(path, out.provider), value, out);
      return;
    case 'minLength': {
      const limit = Number(params.limit);
      out.error(path, `must be at least ${plural(limit, 'character')} (got ${lengthOf(value)})`, RANK.size);
      return;
    }
    case 'maxLength':
      out.error(path, `must be at most ${plural(Number(params.limit), 'character')} (got ${lengthOf(value)})`, RANK.size);
      return;
    case 'pattern':
      out.error(path, `must match ${String(params.pattern)}`, RANK.form);
      return;
    case 'format':
      out.error(
        path,
        params.format === 'date-time' && typeof value === 'string' ? dateTimeProblem(value) : `must be a valid ${String(params.format)}`,
        RANK.form,
      );
      return;
    case 'minimum':
    case 'maximum':
      out.error(path, `must be at ${keyword === 'minimum' ? 'least' : 'most'} ${String(params.limit)} (got ${describe(value)})`, RANK.size);
      return;
    case 'minItems':
      out.error(
        path,
        `must have at least ${plural(Number(params.limit), 'item')} (got ${Array.isArray(value) ? value.length : 0})`,
        RANK.size,
      );
      return;
    case 'maxItems': {
      const count = Array.isArray(value) ? value.length : 0;
      const limit = Number(params.limit);
      out.error(
        path,
        path === '/cluster/Tags' && out.provider === 'sagemaker'
          ? `must have at most ${limit} items: CreateCluster allows 50 tags and the provisioner adds its own ${PROVISIONER_TAGS.join(' and ')} tags`
          : `must have at most ${plural(limit, 'item')} (got ${count})`,
        RANK.size,
      );
      return;
    }
    default:
      out.error(path, `does not satisfy the request schema (${keyword} at ${schemaPath})`, RANK.form);
  }
};

export const isProvider = (value: unknown): boolean => value === 'sagemaker' || value === 'tir';

/** A union (Orchestrator, InstanceStorageConfig, retry): exactly one member set; each extra is reported at itself. */
export const exactlyOne = (path: string, union: Schema | undefined, value: unknown, out: Findings): void => {
  if (!isObject(value) || !union || !Array.isArray(union.oneOf)) return;
  const members = (union.oneOf as Schema[]).map((branch) => String((branch.required as unknown[] | undefined)?.[0]));
  const [first, ...extras] = members.filter((member) => Object.hasOwn(value, member));
  if (first === undefined) {
    // A one-member union reads as an ordinary required field, reported at that field's own path.
    if (members.length === 1) out.error(at(path, members[0] ?? ''), 'is required', RANK.kind);
    else out.error(path, `must set exactly one of: ${members.join(', ')} (got none)`, RANK.union, true);
  }
  const name = unionName(path, out.provider);
  for (const extra of extras)
    out.error(at(path, extra), `cannot be set together with ${first}: ${name} takes exactly one of: ${members.join(', ')}`, RANK.union);
};

// ---------------------------------------------------------------------------------------------------------------------
// Messages for the contract's own formats.

export const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))?$/i;
export const DATE_TIME_EXAMPLE = 'an RFC 3339 date-time with a zone, e.g. 2026-12-01T08:00:00Z';

/** Why a string is not an RFC 3339 date-time with a zone (a local time would mean another instant in every region). */
export const dateTimeProblem = (value: string): string => {
  const match = value.length <= 64 ? DATE_TIME.exec(value) : null;
  if (!match) return `must be ${DATE_TIME_EXAMPLE}`;
  if (match[8] === undefined) return `must include a zone (Z or ±hh:mm): ${DATE_TIME_EXAMPLE}`;
  // Out-of-range parts, and second 60: a leap second is RFC 3339 but no scheduler can place it.
  return `must be a real date and time: ${DATE_TIME_EXAMPLE}`;
};

export const durationProblem = (value: string): string =>
  /[YM]/.test(value.split('T')[0] ?? '')
    ? 'must not use years or months, which are not a fixed length: use weeks or days, e.g. P30D'
    : 'must be an ISO 8601 duration of weeks, days, hours, minutes and whole seconds, e.g. PT8H, P1DT12H, P2W';
