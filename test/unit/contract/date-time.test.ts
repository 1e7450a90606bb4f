/**
 * The schema's `date-time` format (functions/contract/date-time.js), on the strings the DateTime pattern lets through:
 * it accepts exactly those that name a real instant, which is what `Date.parse` reads, and agrees with ajv-formats'
 * date-time (the format used before) everywhere but the hour-24 and minute-60 strings ajv-formats took for leap seconds.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isDateTime } from '../../../functions/contract/date-time.js';
import SCHEMA from '../../../functions/contract/request.schema.json' with { type: 'json' };

const ajvFormats = createRequire(import.meta.url)('ajv-formats/dist/formats') as {
  fullFormats: Record<string, { validate: (value: string) => boolean }>;
};
const ajvDateTime = ajvFormats.fullFormats['date-time']!.validate;
const PATTERN = new RegExp((SCHEMA as { $defs: { DateTime: { pattern: string } } }).$defs.DateTime.pattern);

/** A seeded source (mulberry32), so a failure names a string that can be tried again. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/** Strings of the pattern's shape, each field drawn around and across its edges. */
const corpus = (count: number): string[] => {
  const random = seeded(20261206);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const two = (n: number) => String(n).padStart(2, '0');
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const year = pick([1900, 1999, 2000, 2024, 2026, 2027, 2100, 2400, 9999, 0]);
    const month = pick([0, 1, 2, 4, 6, 9, 11, 12, 13, 99]);
    const day = pick([0, 1, 28, 29, 30, 31, 32, 99]);
    const hour = pick([0, 1, 12, 23, 24, 25, 99]);
    const minute = pick([0, 30, 59, 60, 99]);
    const second = pick([0, 30, 59]);
    const zone = pick(['Z', 'z', '+00:00', '-00:00', '+01:00', '-01:00', '+05:30', '+23:59', '+24:00', '-12:60', '+00:01', '-00:01']);
    const fraction = pick(['', '.5', '.123456']);
    out.push(
      `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}${pick(['T', 't'])}${two(hour)}:${two(minute)}:${two(second)}${fraction}${zone}`,
    );
  }
  return out;
};

describe('the date-time format', () => {
  it('accepts real instants, with a zone, and refuses what names none', () => {
    for (const value of ['2026-12-01T08:00:00Z', '2024-02-29T23:59:59.999+05:30', '2026-12-01t08:00:00z', '2026-12-31T00:00:00-12:00'])
      expect(isDateTime(value), value).toBe(true);
    for (const value of [
      '2026-02-29T08:00:00Z', // not a leap year
      '2026-04-31T08:00:00Z',
      '2026-13-01T08:00:00Z',
      '2026-01-01T24:59:30+01:00', // ajv-formats took it for a leap second
      '2026-01-01T23:60:00+00:01', // ditto
      '2026-01-01T08:00:00+24:00',
      '2026-01-01T08:00:00', // no zone
      '2026-01-01 08:00:00Z',
    ])
      expect(isDateTime(value), value).toBe(false);
  });

  it('on 20,000 strings of the pattern’s shape: accepts exactly those Date.parse reads as the instant they write, and what ajv-formats accepted but hour 24 and minute 60', () => {
    const strings = corpus(20_000).filter((value) => PATTERN.test(value));
    expect(strings.length).toBeGreaterThan(15_000);
    // The instant Date.parse reads, written back in the string's own zone: the string's date and time when it names a
    // real instant; another one when Date.parse rolled an out-of-range field over (31 April is 1 May to it).
    const readsAsWritten = (value: string): boolean => {
      const ms = Date.parse(value);
      if (Number.isNaN(ms)) return false;
      const zone = /([+-])(\d\d):(\d\d)$/.exec(value);
      const offsetMinutes = zone ? (zone[1] === '-' ? -1 : 1) * (Number(zone[2]) * 60 + Number(zone[3])) : 0;
      return new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 19) === value.slice(0, 19).replace('t', 'T');
    };
    const disagreeWithDate = strings.filter((value) => isDateTime(value) !== readsAsWritten(value));
    expect(disagreeWithDate.slice(0, 5)).toEqual([]);
    const disagreeWithAjv = strings.filter((value) => isDateTime(value) !== ajvDateTime(value));
    expect(disagreeWithAjv.length).toBeGreaterThan(0);
    // Only ajv-formats' leap-second reading of an hour 24 or a minute 60 moved to 23:59 UTC by the offset.
    for (const value of disagreeWithAjv) {
      expect(ajvDateTime(value), value).toBe(true);
      expect(/[Tt](24|\d\d:60)/.test(value), value).toBe(true);
    }
  });
});
