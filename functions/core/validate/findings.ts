/** The answer being built: at most one error per pointer (the most telling), in the order of the request. */
import type { FieldError } from '../errors';
import { ROOT, type Schema, childSchema, isObject, propertyNames, segmentsOf } from './schema';

/**
 * A hostile request (a million-item array of bad items) must not produce a million-line answer: past this many
 * errors the rest are summed up in one line. No plausible request comes anywhere near it.
 */
export const MAX_REPORTED = 200;

/**
 * Which error a pointer keeps when several rules fail there: a field of the other provider or of no provider says
 * everything; then the kind of value; then its size; then its form; the code's refinements last.
 */
export const RANK = {
  misplaced: 0,
  kind: 1,
  union: 2,
  size: 3,
  form: 4,
  refinement: 5,
} as const;

export interface Finding {
  error: FieldError;
  rank: number;
  /** About the value as a whole after its parts (exactly-one-of): listed after the errors inside it. */
  after: boolean;
}

export class Findings {
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

export const compareKeys = (a: number[], b: number[]): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return a.length - b.length;
};

/**
 * The order a reader meets fields in: at each object, its unknown fields first (in the request's order), then its
 * known fields in the schema's order; list items by index; an error about a whole value before the errors inside it,
 * except the exactly-one-of errors, which sum up its members and come after them.
 */
export class RequestOrder {
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
