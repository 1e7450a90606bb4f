/** The request schema read to name objects, suggest fields and order the answer; pointers and values. */
import REQUEST_SCHEMA from '../../contract/request.schema.json' with { type: 'json' };

export type Obj = Readonly<Record<string, unknown>>;
export type Schema = Readonly<Record<string, unknown>>;

export const ROOT = REQUEST_SCHEMA as unknown as Schema;
export const DEFS = (ROOT.$defs ?? {}) as Readonly<Record<string, Schema>>;

export const isObject = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

export const schemaObject = (value: unknown): Schema | undefined => (isObject(value) ? value : undefined);

export const deref = (schema: Schema | undefined): Schema | undefined => {
  const target = schema?.$ref;
  return typeof target === 'string' && target.startsWith('#/$defs/') ? DEFS[target.slice('#/$defs/'.length)] : schema;
};

/** The fields the top level allows for one provider: its own branch's `false` ones are the other provider's. */
export const branchOf = (provider: unknown): Schema | undefined => {
  for (const part of (ROOT.allOf ?? []) as Schema[]) {
    const condition = schemaObject(schemaObject(schemaObject(part.if)?.properties)?.provider);
    if (condition?.const === provider) return schemaObject(part.then);
  }
  return undefined;
};

export const propertyNames = (schema: Schema): string[] => Object.keys(schemaObject(deref(schema)?.properties) ?? {});

/**
 * The schema of a member or item as written, before following its `$ref` (whose name says which definition the value
 * is checked against); at the top level, `cluster` is the provider's body.
 */
export const memberSchema = (schema: Schema, segment: string, provider?: unknown): Schema | undefined => {
  const node = deref(schema);
  if (!node) return undefined;
  if (node === ROOT && segment === 'cluster') {
    const body = schemaObject(schemaObject(branchOf(provider)?.properties)?.cluster);
    if (body) return body;
  }
  if (node.type === 'array') return schemaObject(node.items);
  return schemaObject(schemaObject(node.properties)?.[segment]) ?? schemaObject(node.additionalProperties);
};

export const childSchema = (schema: Schema, segment: string, provider?: unknown): Schema | undefined =>
  deref(memberSchema(schema, segment, provider));

/** The schema at a pointer of the request, as written (`{"$ref": ...}` for a value checked against a definition). */
export const rawSchemaAt = (path: string, provider: unknown): Schema | undefined => {
  let schema: Schema | undefined = ROOT;
  let depth = 0;
  for (const segment of segmentsOf(path)) {
    if (!schema) return undefined;
    schema = memberSchema(schema, segment, depth++ === 0 ? provider : undefined);
  }
  return schema;
};

export const schemaAt = (path: string, provider: unknown): Schema | undefined => deref(rawSchemaAt(path, provider));

/** The definition the value at a pointer is checked against (`TirId`, `ClusterInstanceType`), if it is one. */
export const defAt = (path: string, provider: unknown): string | undefined => {
  const target = rawSchemaAt(path, provider)?.$ref;
  return typeof target === 'string' && target.startsWith('#/$defs/') ? target.slice('#/$defs/'.length) : undefined;
};

// ---------------------------------------------------------------------------------------------------------------------
// Pointers and values.

/** RFC 6901: `~` is written `~0` and `/` is written `~1` inside a key. */
export const at = (path: string, key: string | number): string =>
  `${path}/${typeof key === 'number' ? key : key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

export const segmentsOf = (path: string): string[] =>
  path === ''
    ? []
    : path
        .slice(1)
        .split('/')
        .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));

/** The value at a pointer, through own properties only. */
export const valueAt = (root: unknown, path: string): unknown => {
  let value = root;
  for (const segment of segmentsOf(path)) {
    if (Array.isArray(value)) value = value[Number(segment)];
    else if (isObject(value) && Object.hasOwn(value, segment)) value = value[segment];
    else return undefined;
  }
  return value;
};

/** What a value is, for "(got ...)": numbers are short enough to show; anything else is named, never echoed. */
export const describe = (value: unknown): string =>
  typeof value === 'number' ? String(value) : value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

export const kindOf = (value: unknown): string => (typeof value === 'number' ? 'number' : describe(value));

/** Characters as AWS counts them (code points), not UTF-16 units: a character outside the BMP is one, not two. */
export const lengthOf = (value: unknown): number => {
  if (typeof value !== 'string') return 0;
  let length = 0;
  for (const _ of value) length++;
  return length;
};

export const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

// ---------------------------------------------------------------------------------------------------------------------
// Names and suggestions.

/** ` (did you mean "X"?)` for the candidate that differs only by case, or else by the fewest typos (one or two). */
export const didYouMean = (value: string, candidates: readonly string[]): string => {
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
export const typosAllowed = (length: number): number => (length < 8 ? 1 : 2);

export const editDistance = (a: string, b: string): number => {
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
export const memberName = (path: string): string => {
  const segments = segmentsOf(path).slice(1); // below /cluster
  let item = -1;
  segments.forEach((segment, i) => {
    if (/^\d+$/.test(segment) && i > 0) item = i;
  });
  if (item === -1) return segments.join('.');
  if (item === segments.length - 1) return (segments[item - 1] ?? '').replace(/s$/, '');
  return segments.slice(item + 1).join('.');
};

export const objectName = (path: string, provider: unknown): string => {
  const title = schemaAt(path, provider)?.title;
  if (typeof title === 'string') return title;
  if (provider === 'sagemaker' && (path === '/cluster' || path.startsWith('/cluster/'))) {
    const name = memberName(path);
    return name === '' ? 'CreateCluster' : `CreateCluster ${name}`;
  }
  return path;
};

/** A union's own name in its messages: its title or its member name (`Orchestrator`, `InstanceStorageConfig`). */
export const unionName = (path: string, provider: unknown): string => {
  const title = schemaAt(path, provider)?.title;
  return typeof title === 'string' ? title : memberName(path) || 'the value';
};

/** Top-level fields of one provider: set with the other, they are reported as such, not as unknown. */
export const ONLY_FOR: Readonly<Record<string, string>> = { projectId: 'tir', location: 'tir', activeIam: 'tir', region: 'sagemaker' };

/** Enums too long to list in a message, and what to call their values instead. */
export const LONG_ENUMS: Readonly<Record<string, string>> = {
  ClusterInstanceType: 'a HyperPod instance type listed in functions/core/hyperpod-instance-types.ts',
};
export const MAX_LISTED_VALUES = 12;

/** An own property of the value (never one its prototype supplies). */
export const own = (value: Obj, key: string): unknown => (Object.hasOwn(value, key) ? value[key] : undefined);
