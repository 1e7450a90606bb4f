/**
 * EventBridge event patterns, matched as the service matches them, and the rules of serverless.yml read as the
 * deployment makes them: the local stack routes each event to every function whose rule matches, and to no other.
 *
 * Matching (EventBridge "Event patterns" and "Content filtering"): every field the pattern names must match; a field
 * the pattern leaves out is ignored. A pattern object descends into the event's object (nested `detail` fields); a
 * pattern array is a list of alternatives, any of which may match; an event array matches when any of its elements
 * does. Alternatives: a literal (string, number, boolean, null: equal; numbers compared as numbers), or one of
 * `{ prefix }`, `{ suffix }` (each also `{ "equals-ignore-case" }`-style: `{ prefix: { "equals-ignore-case": ... } }`),
 * `{ "equals-ignore-case" }`, `{ "anything-but": literal | [literals] | { prefix } | { suffix } }`, `{ exists: bool }`,
 * `{ numeric: [op, value, (op, value)] }`, `{ wildcard }`. An absent field matches only `{ exists: false }`; patterns
 * match leaf values (an object where a list of alternatives stands matches nothing, `{ exists: true }` included).
 */
import { parseDocument } from 'yaml';

export type EventPattern = { [field: string]: EventPattern | unknown[] };

/** The envelope EventBridge delivers to a target. */
export interface BusEvent {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const NUMERIC_OPS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

const wildcardRegExp = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );

/** A string-matcher value: a plain string, or `{ "equals-ignore-case": s }` (prefix and suffix may take either). */
const stringTest = (spec: unknown, test: (value: string, wanted: string) => boolean) => (value: unknown) => {
  if (typeof value !== 'string') return false;
  if (typeof spec === 'string') return test(value, spec);
  if (isPlainObject(spec) && typeof spec['equals-ignore-case'] === 'string')
    return test(value.toLowerCase(), spec['equals-ignore-case'].toLowerCase());
  return false;
};

/** Whether one leaf value (never an array) matches one alternative of a pattern array. */
const matchesAlternative = (alternative: unknown, value: unknown, present: boolean): boolean => {
  if (!isPlainObject(alternative)) {
    if (!present) return false;
    if (typeof alternative === 'number' && typeof value === 'number') return alternative === value;
    return alternative === value;
  }
  const [operator, spec] = Object.entries(alternative)[0] ?? [];
  switch (operator) {
    case 'exists':
      return spec === present;
    case 'prefix':
      return present && stringTest(spec, (v, w) => v.startsWith(w))(value);
    case 'suffix':
      return present && stringTest(spec, (v, w) => v.endsWith(w))(value);
    case 'equals-ignore-case':
      return present && typeof value === 'string' && typeof spec === 'string' && value.toLowerCase() === spec.toLowerCase();
    case 'wildcard':
      return present && typeof value === 'string' && typeof spec === 'string' && wildcardRegExp(spec).test(value);
    case 'numeric': {
      if (!present || typeof value !== 'number' || !Array.isArray(spec)) return false;
      for (let i = 0; i + 1 < spec.length; i += 2) {
        const op = NUMERIC_OPS[String(spec[i])];
        if (!op || typeof spec[i + 1] !== 'number' || !op(value, spec[i + 1] as number)) return false;
      }
      return true;
    }
    case 'anything-but': {
      if (!present) return false;
      if (isPlainObject(spec)) {
        const [inner, wanted] = Object.entries(spec)[0] ?? [];
        if (inner === 'prefix') return !stringTest(wanted, (v, w) => v.startsWith(w))(value);
        if (inner === 'suffix') return !stringTest(wanted, (v, w) => v.endsWith(w))(value);
        if (inner === 'equals-ignore-case')
          return !(Array.isArray(wanted) ? wanted : [wanted]).some((w) => matchesAlternative({ 'equals-ignore-case': w }, value, true));
        if (inner === 'wildcard')
          return !(Array.isArray(wanted) ? wanted : [wanted]).some((w) => matchesAlternative({ wildcard: w }, value, true));
        return false;
      }
      return !(Array.isArray(spec) ? spec : [spec]).some((excluded) => excluded === value);
    }
    default:
      return false;
  }
};

/** Whether `value` (present or not) matches the list of alternatives `alternatives`. */
const matchesList = (alternatives: unknown[], value: unknown, present: boolean): boolean => {
  if (Array.isArray(value)) {
    // An array in the event matches when any of its elements does; an empty one only "exists" tests.
    if (value.length === 0) return alternatives.some((a) => isPlainObject(a) && a.exists === true);
    return value.some((element) => alternatives.some((alternative) => matchesAlternative(alternative, element, true)));
  }
  // Patterns match leaf values: an object where the pattern expects one matches nothing (as EventBridge).
  if (present && isPlainObject(value)) return false;
  return alternatives.some((alternative) => matchesAlternative(alternative, value, present));
};

/** Whether `event` (an envelope, or any object under it) matches `pattern`. */
export const matchesPattern = (pattern: EventPattern, event: unknown): boolean => {
  const object = isPlainObject(event) ? event : {};
  return Object.entries(pattern).every(([field, wanted]) => {
    const present = Object.hasOwn(object, field) && object[field] !== undefined;
    const value = present ? object[field] : undefined;
    if (Array.isArray(wanted)) return matchesList(wanted, value, present);
    if (isPlainObject(wanted)) return present && isPlainObject(value) && matchesPattern(wanted as EventPattern, value);
    return false; // EventBridge refuses such a pattern; it matches nothing here
  });
};

// ---------------------------------------------------------------------------------------------------------------------
// The rules of serverless.yml.

export interface FunctionRule {
  /** The function key (serverless.yml `functions.<key>`). */
  functionKey: string;
  /** `path/to/module.export` as serverless.yml names it. */
  handler: string;
  ruleName?: string;
  pattern: EventPattern;
  /** `project` for a rule on the project's bus (`eventBus` set), `default` for the account's default bus (no `eventBus`, or `default`). */
  bus: 'project' | 'default';
  /** The function's asynchronous-invocation settings, as Lambda applies them (defaults: 2 retries, 6 hours). */
  maximumRetryAttempts: number;
  /** The on-failure destination's queue (its logical id in the template), if the function has one. */
  onFailureQueue?: string;
}

export interface ServerlessFunction {
  handler?: string;
  events?: Array<{ eventBridge?: { name?: unknown; pattern?: EventPattern; eventBus?: unknown } }>;
  destinations?: { onFailure?: { type?: string; arn?: unknown } };
  maximumRetryAttempts?: number;
}

/** The logical id a `!GetAtt X.Arn` (or `{ "Fn::GetAtt": [X, Arn] }`) names. */
const logicalIdOf = (arn: unknown): string | undefined => {
  if (typeof arn === 'string') return /^([A-Za-z0-9]+)\.Arn$/.exec(arn)?.[1] ?? arn;
  if (isPlainObject(arn)) {
    const getAtt = arn['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return String(getAtt[0]);
    if (typeof getAtt === 'string') return getAtt.split('.')[0];
  }
  return undefined;
};

/**
 * The functions of serverless.yml, by key. CloudFormation tags (!Ref, !GetAtt, !Sub, ...) are read as the values they
 * tag; ${...} variables stay as written.
 */
export const functionsOfServerless = (yamlText: string): Record<string, ServerlessFunction> => {
  const doc = parseDocument(yamlText, {
    customTags: [
      'Ref',
      'GetAtt',
      'Sub',
      'If',
      'Not',
      'Equals',
      'Split',
      'Join',
      'Select',
      'ImportValue',
      'FindInMap',
      'GetAZs',
      'And',
      'Or',
      'Condition',
      'Base64',
      'Cidr',
    ].map((name) => ({
      tag: `!${name}`,
      resolve: (value: unknown) => (name === 'GetAtt' && typeof value === 'string' ? { 'Fn::GetAtt': value.split('.') } : value),
      collection: undefined,
    })) as never,
    logLevel: 'silent',
  });
  return ((doc.toJS({ maxAliasCount: -1 }) as { functions?: Record<string, ServerlessFunction> }).functions ?? {}) as Record<
    string,
    ServerlessFunction
  >;
};

/** Every EventBridge rule with a `pattern` of every function of serverless.yml (schedules are not routes). */
export const rulesOfServerless = (yamlText: string): FunctionRule[] => {
  const functions = functionsOfServerless(yamlText);
  const rules: FunctionRule[] = [];
  for (const [functionKey, fn] of Object.entries(functions)) {
    if (!fn || typeof fn.handler !== 'string') continue;
    for (const event of Array.isArray(fn.events) ? fn.events : []) {
      const rule = event?.eventBridge;
      if (!rule || !isPlainObject(rule.pattern)) continue;
      const onFailure = fn.destinations?.onFailure;
      const queue = onFailure && (onFailure.type ?? 'sqs') === 'sqs' ? logicalIdOf(onFailure.arn) : undefined;
      rules.push({
        functionKey,
        handler: fn.handler,
        ...(typeof rule.name === 'string' ? { ruleName: rule.name } : {}),
        pattern: rule.pattern,
        bus: rule.eventBus === undefined || rule.eventBus === 'default' ? 'default' : 'project',
        maximumRetryAttempts: typeof fn.maximumRetryAttempts === 'number' ? fn.maximumRetryAttempts : 2,
        ...(queue ? { onFailureQueue: queue } : {}),
      });
    }
  }
  return rules;
};

/** The rules an event on `bus` matches: each invokes its function (two matching rules of one function, twice). */
export const matchingRules = (rules: readonly FunctionRule[], bus: 'project' | 'default', event: BusEvent): FunctionRule[] =>
  rules.filter((rule) => rule.bus === bus && matchesPattern(rule.pattern, event));
