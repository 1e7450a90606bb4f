/**
 * Validation of the provisioning request: the one gate every entry point (HTTP, SQS, EventBridge, schedules, CLI) uses.
 *
 * The request's shape has one source, functions/contract/request.schema.json (JSON Schema 2020-12; its HyperPod part
 * is generated from the pinned SageMaker SDK model, docs/contract.md). The schema is compiled by ajv into
 * functions/contract/request.validator.js when the contract is generated, so nothing is compiled here. This module
 * turns ajv's findings into this project's answers (each an RFC 6901 pointer from the request root with a message of
 * its own, one per pointer, in the order of the request), then adds the rules that are code rather than shape:
 * duplicates, reserved tag keys, InstanceType or InstanceRequirements, MinInstanceCount against InstanceCount, the
 * root-volume rule of EBS configs, duration ranges, TIR's script_added, and the warnings.
 *
 * Before any of that, one iterative walk over the whole input (pass-through objects included) answers what no schema
 * rule should have to meet, each at its pointer (docs/contract.md#hostile-input): a number JSON or DynamoDB cannot carry
 * faithfully (not finite, a whole number beyond ±(2^53 − 1), a magnitude below 1e-130), a `__proto__`, `constructor` or
 * `prototype` key, nesting deeper than 32 levels, an unpaired surrogate, a cycle. Such an input is answered with those
 * errors alone: the schema is not walked, and nothing downstream (hashing, marshalling, a provider) ever sees it.
 * ajv itself only enters known structure, and only own properties count (`ownProperties`); the refinements below read
 * own properties only.
 */
import { alternativeErrors } from './placements';
import REQUEST_SCHEMA from '../contract/request.schema.json' with { type: 'json' };
import { validate as matchesSchema } from '../contract/request.validator';
import { MAX_HORIZON_SECONDS } from './capacity';
import { durationSeconds } from './duration';
import { notifyErrors } from './notify';
import { RequestValidationError, type FieldError } from './errors';
import { PROVISIONER_TAGS } from './provider';
import type { ProvisionRequest } from './request';

export { durationSeconds } from './duration';

export interface ValidationResult {
  valid: boolean;
  errors: FieldError[];
  warnings: FieldError[];
  /** The typed request, set when valid (the input itself, unchanged: requestId is settled later by withRequestId). */
  request?: ProvisionRequest;
}

/** Every error and warning, at once. Throws nothing, whatever the input. */
export function validateRequest(input: unknown): ValidationResult {
  const out = new Findings(input);
  structureProblems(input, out);
  if (out.found) return { valid: false, ...out.result() };
  matchesSchema(input);
  for (const error of matchesSchema.errors ?? []) {
    if (out.full) {
      out.truncate();
      break;
    }
    fromSchema(error, out);
  }
  if (isObject(input)) refineRequest(input, out);
  // Each alternative is checked as the whole request it stands for (when its own shape is right).
  if (isObject(input) && Array.isArray(input.alternatives) && !out.result().errors.some((e) => e.path.startsWith('/alternatives'))) {
    for (const e of alternativeErrors(input as unknown as ProvisionRequest, validateRequest)) out.error(e.path, e.message);
  }
  const { errors, warnings } = out.result();
  return errors.length === 0 ? { valid: true, errors, warnings, request: input as ProvisionRequest } : { valid: false, errors, warnings };
}

/** Throws RequestValidationError (carrying errors and warnings); returns the typed request. */
export function parseRequest(input: unknown): ProvisionRequest {
  const result = validateRequest(input);
  if (!result.request) throw new RequestValidationError(result.errors, result.warnings);
  return result.request;
}

// ---------------------------------------------------------------------------------------------------------------------
// Hostile input: what any value anywhere in a request must be, whatever the schema says of its place.

/** Levels of objects and arrays a request may nest, the root included: DynamoDB stores at most 32. */
const MAX_DEPTH = 32;

/** The smallest magnitude DynamoDB stores, other than 0 (its numbers run from 1E-130 to 9.99…E+125). */
const MIN_MAGNITUDE = 1e-130;

/** Keys that reach an object's prototype in code that assigns them (`target[key] = value`), however they got in. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const FORBIDDEN_KEY = "is not accepted as a key: __proto__, constructor and prototype can reach an object's prototype";
const UNPAIRED = 'an unpaired surrogate (U+D800 to U+DFFF), which UTF-8 cannot carry';

/** A surrogate code unit outside a pair: in a `u` regular expression a pair is one code point, so only a lone one matches. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** What is wrong with a number, if anything: the value JSON gave may not be the number that was sent. */
const numberProblem = (value: number): string | undefined => {
  if (!Number.isFinite(value)) return 'must be a finite number: a JSON number this large is read as infinity';
  if (Number.isInteger(value) && !Number.isSafeInteger(value))
    return 'must be at most 2^53 - 1 (9007199254740991) in magnitude: a larger JSON number loses its exact value';
  if (value !== 0 && Math.abs(value) < MIN_MAGNITUDE) return 'must be 0 or at least 1e-130 in magnitude (the smallest number stored)';
  return undefined;
};

/** One object or array being walked: its members, the next one to visit, and where it is. */
interface Level {
  value: object;
  keys: readonly string[] | undefined; // undefined: an array
  size: number;
  next: number;
  path: string;
}

/**
 * Walks the whole input once, without recursion (no input can exhaust the stack), depth first in the request's order,
 * and reports each problem at its pointer; nothing below a bad key or too deep a level is walked. Values reached twice
 * and cycles only occur in an input built in code (JSON has neither): a value that contains itself is a cycle, and one
 * reached again is walked again only from deeper down (where it may pass the depth limit), so the walk stays linear.
 */
const structureProblems = (input: unknown, out: Findings): void => {
  const stack: Level[] = [];
  const onPath = new Set<object>();
  /** How many levels above each value it was last walked from: reached again no deeper, it has nothing new to tell. */
  const walkedBelow = new WeakMap<object, number>();
  const visit = (value: unknown, path: () => string): void => {
    if (typeof value === 'number') {
      const problem = numberProblem(value);
      if (problem) out.error(path(), problem, RANK.kind);
    } else if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) out.error(path(), `must be well-formed Unicode: it holds ${UNPAIRED}`, RANK.kind);
    } else if (typeof value === 'object' && value !== null) {
      if (onPath.has(value)) out.error(path(), 'contains itself (a cycle), which JSON cannot carry', RANK.kind);
      else if (stack.length <= (walkedBelow.get(value) ?? -1)) return;
      else if (stack.length >= MAX_DEPTH) out.error(path(), `is nested deeper than ${MAX_DEPTH} levels of objects and arrays`, RANK.kind);
      else {
        const keys = Array.isArray(value) ? undefined : Object.keys(value);
        stack.push({ value, keys, size: keys ? keys.length : (value as unknown[]).length, next: 0, path: path() });
        onPath.add(value);
      }
    }
  };
  visit(input, () => '');
  while (stack.length > 0) {
    if (out.full) return out.truncate();
    const level = stack.at(-1)!;
    if (level.next >= level.size) {
      stack.pop();
      onPath.delete(level.value);
      walkedBelow.set(level.value, stack.length);
      continue;
    }
    const index = level.next++;
    if (level.keys === undefined) {
      visit((level.value as unknown[])[index], () => at(level.path, index));
      continue;
    }
    const key = level.keys[index]!;
    if (FORBIDDEN_KEYS.has(key)) out.error(at(level.path, key), FORBIDDEN_KEY, RANK.kind);
    else if (LONE_SURROGATE.test(key)) out.error(at(level.path, key), `is a key holding ${UNPAIRED}`, RANK.kind);
    else visit((level.value as Obj)[key], () => at(level.path, key));
  }
};

// ---------------------------------------------------------------------------------------------------------------------
// Findings: at most one error per pointer (the most telling), listed in the order of the request.

/**
 * A hostile request (a million-item array of bad items) must not produce a million-line answer: past this many
 * errors the rest are summed up in one line. No plausible request comes anywhere near it.
 */
const MAX_REPORTED = 200;

type Obj = Readonly<Record<string, unknown>>;
type Schema = Readonly<Record<string, unknown>>;

/**
 * Which error a pointer keeps when several rules fail there: a field of the other provider or of no provider says
 * everything; then the kind of value; then its size; then its form; the code's refinements last.
 */
const RANK = {
  misplaced: 0,
  kind: 1,
  union: 2,
  size: 3,
  form: 4,
  refinement: 5,
} as const;

interface Finding {
  error: FieldError;
  rank: number;
  /** About the value as a whole after its parts (exactly-one-of): listed after the errors inside it. */
  after: boolean;
}

class Findings {
  private readonly errors = new Map<string, Finding>();
  private readonly warnings: FieldError[] = [];
  private truncated = false;

  constructor(readonly input: unknown) {}

  get provider(): unknown {
    return isObject(this.input) && Object.hasOwn(this.input, 'provider') ? this.input.provider : undefined;
  }

  get found(): boolean {
    return this.errors.size > 0;
  }

  /** No more errors will be listed: loops stop early (and call truncate). */
  get full(): boolean {
    return this.errors.size >= MAX_REPORTED;
  }

  truncate(): void {
    this.truncated = true;
  }

  error(path: string, message: string, rank: number = RANK.refinement, after = false): void {
    const held = this.errors.get(path);
    if (held) {
      if (rank < held.rank) this.errors.set(path, { error: { path, message }, rank, after });
    } else if (this.full) this.truncate();
    else this.errors.set(path, { error: { path, message }, rank, after });
  }

  warn(path: string, message: string): void {
    if (this.warnings.length < MAX_REPORTED) this.warnings.push({ path, message });
  }

  result(): { errors: FieldError[]; warnings: FieldError[] } {
    const order = new RequestOrder(this.input, this.provider);
    const listed = [...this.errors.values()]
      .map((finding) => ({ finding, key: order.keyOf(finding.error.path, finding.after) }))
      .sort((a, b) => compareKeys(a.key, b.key))
      .map(({ finding }) => finding.error);
    const more = this.truncated ? [{ path: '', message: `has more errors than the ${MAX_REPORTED} listed` }] : [];
    return { errors: [...listed, ...more], warnings: this.warnings };
  }
}

const compareKeys = (a: number[], b: number[]): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return a.length - b.length;
};

/**
 * The order a reader meets fields in: at each object, its unknown fields first (in the request's order), then its
 * known fields in the schema's order; list items by index; an error about a whole value before the errors inside it,
 * except the exactly-one-of errors, which sum up its members and come after them.
 */
class RequestOrder {
  private readonly keyIndex = new Map<object, Map<string, number>>();

  constructor(
    private readonly input: unknown,
    private readonly provider: unknown,
  ) {}

  keyOf(path: string, after: boolean): number[] {
    const key: number[] = [];
    let value = this.input;
    let schema: Schema | undefined = ROOT;
    let depth = 0;
    for (const segment of segmentsOf(path)) {
      if (Array.isArray(value)) {
        key.push(1, Number(segment));
        value = value[Number(segment)];
      } else {
        const known = schema ? propertyNames(schema) : [];
        const index = known.indexOf(segment);
        key.push(...(index >= 0 ? [1, index] : [0, this.inputIndex(value, segment)]));
        value = isObject(value) && Object.hasOwn(value, segment) ? value[segment] : undefined;
      }
      schema = schema && childSchema(schema, segment, depth === 0 ? this.provider : undefined);
      depth++;
    }
    key.push(after ? 2 : -1);
    return key;
  }

  private inputIndex(value: unknown, key: string): number {
    if (!isObject(value)) return 0;
    let index = this.keyIndex.get(value);
    if (!index) {
      index = new Map(Object.keys(value).map((name, i) => [name, i]));
      this.keyIndex.set(value, index);
    }
    return index.get(key) ?? 0;
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// The schema, read to name objects, suggest fields and order the answer.

const ROOT = REQUEST_SCHEMA as unknown as Schema;
const DEFS = (ROOT.$defs ?? {}) as Readonly<Record<string, Schema>>;

const isObject = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

const schemaObject = (value: unknown): Schema | undefined => (isObject(value) ? value : undefined);

const deref = (schema: Schema | undefined): Schema | undefined => {
  const target = schema?.$ref;
  return typeof target === 'string' && target.startsWith('#/$defs/') ? DEFS[target.slice('#/$defs/'.length)] : schema;
};

/** The fields the top level allows for one provider: its own branch's `false` ones are the other provider's. */
const branchOf = (provider: unknown): Schema | undefined => {
  for (const part of (ROOT.allOf ?? []) as Schema[]) {
    const condition = schemaObject(schemaObject(schemaObject(part.if)?.properties)?.provider);
    if (condition?.const === provider) return schemaObject(part.then);
  }
  return undefined;
};

const propertyNames = (schema: Schema): string[] => Object.keys(schemaObject(deref(schema)?.properties) ?? {});

/**
 * The schema of a member or item as written, before following its `$ref` (whose name says which definition the value
 * is checked against); at the top level, `cluster` is the provider's body.
 */
const memberSchema = (schema: Schema, segment: string, provider?: unknown): Schema | undefined => {
  const node = deref(schema);
  if (!node) return undefined;
  if (node === ROOT && segment === 'cluster') {
    const body = schemaObject(schemaObject(branchOf(provider)?.properties)?.cluster);
    if (body) return body;
  }
  if (node.type === 'array') return schemaObject(node.items);
  return schemaObject(schemaObject(node.properties)?.[segment]) ?? schemaObject(node.additionalProperties);
};

const childSchema = (schema: Schema, segment: string, provider?: unknown): Schema | undefined =>
  deref(memberSchema(schema, segment, provider));

/** The schema at a pointer of the request, as written (`{"$ref": ...}` for a value checked against a definition). */
const rawSchemaAt = (path: string, provider: unknown): Schema | undefined => {
  let schema: Schema | undefined = ROOT;
  let depth = 0;
  for (const segment of segmentsOf(path)) {
    if (!schema) return undefined;
    schema = memberSchema(schema, segment, depth++ === 0 ? provider : undefined);
  }
  return schema;
};

const schemaAt = (path: string, provider: unknown): Schema | undefined => deref(rawSchemaAt(path, provider));

/** The definition the value at a pointer is checked against (`TirId`, `ClusterInstanceType`), if it is one. */
const defAt = (path: string, provider: unknown): string | undefined => {
  const target = rawSchemaAt(path, provider)?.$ref;
  return typeof target === 'string' && target.startsWith('#/$defs/') ? target.slice('#/$defs/'.length) : undefined;
};

// ---------------------------------------------------------------------------------------------------------------------
// Pointers and values.

/** RFC 6901: `~` is written `~0` and `/` is written `~1` inside a key. */
const at = (path: string, key: string | number): string =>
  `${path}/${typeof key === 'number' ? key : key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

const segmentsOf = (path: string): string[] =>
  path === ''
    ? []
    : path
        .slice(1)
        .split('/')
        .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));

/** The value at a pointer, through own properties only. */
const valueAt = (root: unknown, path: string): unknown => {
  let value = root;
  for (const segment of segmentsOf(path)) {
    if (Array.isArray(value)) value = value[Number(segment)];
    else if (isObject(value) && Object.hasOwn(value, segment)) value = value[segment];
    else return undefined;
  }
  return value;
};

/** What a value is, for "(got ...)": numbers are short enough to show; anything else is named, never echoed. */
const describe = (value: unknown): string =>
  typeof value === 'number' ? String(value) : value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

const kindOf = (value: unknown): string => (typeof value === 'number' ? 'number' : describe(value));

/** Characters as AWS counts them (code points), not UTF-16 units: a character outside the BMP is one, not two. */
const lengthOf = (value: unknown): number => {
  if (typeof value !== 'string') return 0;
  let length = 0;
  for (const _ of value) length++;
  return length;
};

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

// ---------------------------------------------------------------------------------------------------------------------
// Names and suggestions.

/** ` (did you mean "X"?)` for the candidate that differs only by case, or else by the fewest typos (one or two). */
const didYouMean = (value: string, candidates: readonly string[]): string => {
  if (value.length > 64) return '';
  const lower = value.toLowerCase();
  let best = candidates.find((candidate) => candidate.toLowerCase() === lower);
  let distance = typosAllowed(lower.length) + 1;
  for (const candidate of best === undefined ? candidates : []) {
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < distance) [best, distance] = [candidate, d];
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
};

/** One typo in a short name, two in a long one: more would suggest unrelated fields. */
const typosAllowed = (length: number): number => (length < 8 ? 1 : 2);

const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
};

/**
 * A CreateCluster object named by its members from the nearest list item: `Orchestrator.Eks`, `LifeCycleConfig`,
 * and a list item by its list's name in the singular (`InstanceGroup`, `Tag`).
 */
const memberName = (path: string): string => {
  const segments = segmentsOf(path).slice(1); // below /cluster
  let item = -1;
  segments.forEach((segment, i) => {
    if (/^\d+$/.test(segment) && i > 0) item = i;
  });
  if (item === -1) return segments.join('.');
  if (item === segments.length - 1) return (segments[item - 1] ?? '').replace(/s$/, '');
  return segments.slice(item + 1).join('.');
};

const objectName = (path: string, provider: unknown): string => {
  const title = schemaAt(path, provider)?.title;
  if (typeof title === 'string') return title;
  if (provider === 'sagemaker' && (path === '/cluster' || path.startsWith('/cluster/'))) {
    const name = memberName(path);
    return name === '' ? 'CreateCluster' : `CreateCluster ${name}`;
  }
  return path;
};

/** A union's own name in its messages: its title or its member name (`Orchestrator`, `InstanceStorageConfig`). */
const unionName = (path: string, provider: unknown): string => {
  const title = schemaAt(path, provider)?.title;
  return typeof title === 'string' ? title : memberName(path) || 'the value';
};

/** Top-level fields of one provider: set with the other, they are reported as such, not as unknown. */
const ONLY_FOR: Readonly<Record<string, string>> = { projectId: 'tir', location: 'tir', activeIam: 'tir', region: 'sagemaker' };

/** Enums too long to list in a message, and what to call their values instead. */
const LONG_ENUMS: Readonly<Record<string, string>> = {
  ClusterInstanceType: 'a HyperPod instance type listed in functions/core/hyperpod-instance-types.ts',
};
const MAX_LISTED_VALUES = 12;

// ---------------------------------------------------------------------------------------------------------------------
// ajv's findings in this project's words.

interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
}

const TYPE_NOUNS: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  null: 'null',
};

/** Defs whose every failure is answered by one message of their own. */
const DEF_MESSAGES: Readonly<Record<string, (value: unknown) => string>> = {
  TirId: (value) => `must be a positive integer (got ${describe(value)})`,
  DateTime: (value) => (typeof value === 'string' ? dateTimeProblem(value) : `must be a string (got ${kindOf(value)})`),
  Duration: (value) => (typeof value === 'string' ? durationProblem(value) : `must be a string (got ${kindOf(value)})`),
};

/** The keywords that judge a value itself (not its members, nor where it stands). */
const VALUE_KEYWORDS = new Set(['type', 'enum', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'format']);

const fromSchema = (error: SchemaError, out: Findings): void => {
  const { keyword, instancePath: path, schemaPath, params } = error;
  // A union's alternatives ({"required": ["Eks"]}) fail one by one; the oneOf error that sums them up is answered.
  if (keyword === 'if' || /\/oneOf\/\d+\/required$/.test(schemaPath)) return;
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

const isProvider = (value: unknown): boolean => value === 'sagemaker' || value === 'tir';

/** A union (Orchestrator, InstanceStorageConfig, retry): exactly one member set; each extra is reported at itself. */
const exactlyOne = (path: string, union: Schema | undefined, value: unknown, out: Findings): void => {
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

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))?$/i;
const DATE_TIME_EXAMPLE = 'an RFC 3339 date-time with a zone, e.g. 2026-12-01T08:00:00Z';

/** Why a string is not an RFC 3339 date-time with a zone (a local time would mean another instant in every region). */
const dateTimeProblem = (value: string): string => {
  const match = value.length <= 64 ? DATE_TIME.exec(value) : null;
  if (!match) return `must be ${DATE_TIME_EXAMPLE}`;
  if (match[8] === undefined) return `must include a zone (Z or ±hh:mm): ${DATE_TIME_EXAMPLE}`;
  // Out-of-range parts, and second 60: a leap second is RFC 3339 but no scheduler can place it.
  return `must be a real date and time: ${DATE_TIME_EXAMPLE}`;
};

const durationProblem = (value: string): string =>
  /[YM]/.test(value.split('T')[0] ?? '')
    ? 'must not use years or months, which are not a fixed length: use weeks or days, e.g. P30D'
    : 'must be an ISO 8601 duration of weeks, days, hours, minutes and whole seconds, e.g. PT8H, P1DT12H, P2W';

// ---------------------------------------------------------------------------------------------------------------------
// The refinements: rules that are code rather than shape. Each reads own properties only and checks its own types,
// since it runs on invalid requests too (every error at once).

const MIN_DURATION = 60; // PT1M
const MAX_DELETE_AFTER = 365 * 86400; // P365D

const durationWithin = (out: Findings, path: string, value: unknown, max: number, maxText: string): void => {
  const seconds = typeof value === 'string' && value.length <= 64 ? durationSeconds(value) : undefined;
  if (seconds === undefined) return;
  if (seconds < MIN_DURATION) out.error(path, 'must be at least PT1M (one minute)');
  else if (seconds > max) out.error(path, `must be at most ${maxText}`);
};

const own = (value: Obj, key: string): unknown => (Object.hasOwn(value, key) ? value[key] : undefined);

/** Own items of a list that are objects, with their index. */
const objectItems = (value: unknown): Array<[number, Obj]> =>
  Array.isArray(value) ? value.flatMap((item, i): Array<[number, Obj]> => (isObject(item) ? [[i, item]] : [])) : [];

/** The later duplicates of a list of [pointer, value], each reported naming the first. */
const duplicates = (out: Findings, entries: Iterable<[string, unknown]>, why: string): void => {
  const first = new Map<unknown, string>();
  for (const [path, value] of entries) {
    if (out.full) return out.truncate();
    if (typeof value !== 'string' && typeof value !== 'number') continue;
    const earlier = first.get(value);
    if (earlier === undefined) first.set(value, path);
    else out.error(path, `duplicates ${earlier}: ${why}`);
  }
};

const listEntries = (path: string, value: unknown): Array<[string, unknown]> =>
  Array.isArray(value) ? value.map((item, i): [string, unknown] => [at(path, i), item]) : [];

const refineRequest = (request: Obj, out: Findings): void => {
  durationWithin(out, '/deleteAfter', own(request, 'deleteAfter'), MAX_DELETE_AFTER, 'P365D (365 days)');
  const retry = own(request, 'retry');
  if (isObject(retry)) durationWithin(out, '/retry/for', own(retry, 'for'), MAX_HORIZON_SECONDS, 'P14D (14 days)');
  for (const e of notifyErrors(own(request, 'notify'))) out.error(e.path, e.message);
  if (own(request, 'capacityStrategy') === 'hold' && out.provider === 'tir')
    out.error('/capacityStrategy', HOLD_NEEDS_HYPERPOD, RANK.refinement);
  const cluster = own(request, 'cluster');
  if (!isObject(cluster)) return;
  if (out.provider === 'sagemaker') refineCreateCluster(cluster, out);
  else if (out.provider === 'tir') refineTirBody(cluster, out);
};

/** Why `hold` is refused on TIR (also at an alternative's provider, functions/core/placements.ts). */
export const HOLD_NEEDS_HYPERPOD =
  'hold needs SageMaker HyperPod (provider sagemaker): it creates the cluster in Continuous provisioning mode, which TIR does not have';

const refineCreateCluster = (cluster: Obj, out: Findings): void => {
  const groups = objectItems(own(cluster, 'InstanceGroups')).map(([i, group]): [string, Obj] => [at('/cluster/InstanceGroups', i), group]);
  const restricted = objectItems(own(cluster, 'RestrictedInstanceGroups')).map(([i, group]): [string, Obj] => [
    at('/cluster/RestrictedInstanceGroups', i),
    group,
  ]);
  duplicates(
    out,
    [...groups, ...restricted].map(([path, group]): [string, unknown] => [at(path, 'InstanceGroupName'), own(group, 'InstanceGroupName')]),
    'InstanceGroupName must be unique within the cluster',
  );
  for (const [path, group] of groups) {
    if (out.full) return out.truncate();
    instanceTypeOrRequirements(path, group, out);
    minInstanceCount(path, group, out);
    const lifeCycle = own(group, 'LifeCycleConfig');
    if (isObject(lifeCycle)) sageMakerBucket(at(path, 'LifeCycleConfig'), lifeCycle, out);
  }
  for (const [path, group] of [...groups, ...restricted]) {
    if (out.full) return out.truncate();
    const checks = at(path, 'OnStartDeepHealthChecks');
    duplicates(out, listEntries(checks, own(group, 'OnStartDeepHealthChecks')), 'deep health checks must be distinct');
    for (const [i, storage] of objectItems(own(group, 'InstanceStorageConfigs'))) {
      const ebs = own(storage, 'EbsVolumeConfig');
      if (isObject(ebs)) rootVolume(at(at(at(path, 'InstanceStorageConfigs'), i), 'EbsVolumeConfig'), ebs, out);
    }
  }
  const tags = objectItems(own(cluster, 'Tags'));
  for (const [i, tag] of tags) reservedTagKey(at(at('/cluster/Tags', i), 'Key'), own(tag, 'Key'), out);
  duplicates(
    out,
    tags.map(([i, tag]): [string, unknown] => [at(at('/cluster/Tags', i), 'Key'), own(tag, 'Key')]),
    'tag keys must be unique',
  );
};

/** A group has one instance type, or an ordered list of them to fall back through (a flexible group): not both. */
const instanceTypeOrRequirements = (path: string, group: Obj, out: Findings): void => {
  const hasType = Object.hasOwn(group, 'InstanceType');
  const hasRequirements = Object.hasOwn(group, 'InstanceRequirements');
  if (!hasType && !hasRequirements)
    out.error(
      at(path, 'InstanceType'),
      'is required unless InstanceRequirements is set: an instance group takes exactly one of InstanceType or InstanceRequirements',
    );
  else if (hasType && hasRequirements)
    out.error(
      at(path, 'InstanceRequirements'),
      'cannot be set together with InstanceType: an instance group takes exactly one of InstanceType or InstanceRequirements',
    );
};

const minInstanceCount = (path: string, group: Obj, out: Findings): void => {
  const min = own(group, 'MinInstanceCount');
  const count = own(group, 'InstanceCount');
  if (Number.isInteger(min) && Number.isInteger(count) && (min as number) > (count as number))
    out.error(at(path, 'MinInstanceCount'), `must be at most InstanceCount (${String(count)}) (got ${String(min)})`);
};

/** AWS documents the two cases of an EBS config: the root volume (a KMS key, no size) or an extra volume (a size). */
const rootVolume = (path: string, ebs: Obj, out: Findings): void => {
  if (own(ebs, 'RootVolume') === true) {
    if (Object.hasOwn(ebs, 'VolumeSizeInGB'))
      out.error(at(path, 'VolumeSizeInGB'), 'must not be set when RootVolume is true: HyperPod sizes the root volume itself');
    if (!Object.hasOwn(ebs, 'VolumeKmsKeyId')) out.error(at(path, 'VolumeKmsKeyId'), 'is required when RootVolume is true');
  } else if (!Object.hasOwn(ebs, 'VolumeSizeInGB')) {
    out.error(at(path, 'VolumeSizeInGB'), 'is required (unless RootVolume is true)');
  }
};

const reservedTagKey = (path: string, key: unknown, out: Findings): void => {
  if (typeof key !== 'string') return;
  if (PROVISIONER_TAGS.includes(key)) out.error(path, `is reserved: the provisioner sets the ${key} tag on every cluster itself`);
  // AWS reserves the prefix in any case combination.
  else if (key.toLowerCase().startsWith('aws:')) out.error(path, 'must not start with aws: (reserved for AWS)');
};

const S3_URI = /^(https|s3):\/\/([^/]+)\/?(.*)$/;

/** The bucket a valid SourceS3Uri names: s3://bucket/..., https://bucket.s3.region.amazonaws.com/... or path style. */
const bucketOf = (uri: string): string | undefined => {
  const [, scheme, host = '', key = ''] = S3_URI.exec(uri) ?? [];
  if (scheme === undefined) return undefined;
  if (scheme === 's3') return host;
  if (/^s3[.-]/.test(host)) return key.split('/')[0];
  return /^(.+)\.s3[.-]/.exec(host)?.[1] ?? host;
};

const sageMakerBucket = (path: string, config: Obj, out: Findings): void => {
  const uri = own(config, 'SourceS3Uri');
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

const refineTirBody = (body: Obj, out: Findings): void => {
  duplicates(out, listEntries('/cluster/ssh_key_ids', own(body, 'ssh_key_ids')), 'SSH key ids must be unique');
  const script = own(body, 'lifecycle_script');
  if (own(body, 'script_added') === true) {
    if (!Object.hasOwn(body, 'lifecycle_script')) out.error('/cluster/lifecycle_script', 'is required when script_added is true');
    else if (typeof script === 'string' && script.trim() === '')
      out.error('/cluster/lifecycle_script', 'must not be empty when script_added is true');
  } else if (typeof script === 'string' && script.trim() !== '') {
    out.warn('/cluster/lifecycle_script', 'is set but script_added is not true, so TIR may not run it');
  }
};
