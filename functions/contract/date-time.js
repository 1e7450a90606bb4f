// @ts-check
/**
 * The `date-time` format of the request schema: an RFC 3339 `date-time` (https://www.rfc-editor.org/rfc/rfc3339#section-5.6)
 * that names a real instant. The generated validator (request.validator.js) calls it for every `"format": "date-time"`;
 * the schema's DateTime pattern already asks for the shape `YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)` and seconds 00-59
 * (a leap second is RFC 3339, but no scheduler can place one). This adds what a pattern cannot say:
 *   - the month is 01-12 and the day exists in that month (29 February only in a leap year);
 *   - the hour is 00-23 and the minute 00-59;
 *   - an offset's hour is 00-23 and its minute 00-59.
 * So every string it accepts is one `Date.parse` reads. (ajv-formats' date-time, used before, let hour 24 or minute
 * 60 through when an offset moved them to 23:59 UTC, as if they were a leap second, and `Date.parse` refuses those.)
 */

const SHAPE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** @param {number} year */
const isLeapYear = (year) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

/** @param {number} year @param {number} month 1-12 */
const daysIn = (year, month) => (month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31);

/**
 * Whether `value` is an RFC 3339 date-time with a zone that names a real instant.
 * @param {string} value
 * @returns {boolean}
 */
export const isDateTime = (value) => {
  const match = SHAPE.exec(value);
  if (!match) return false;
  /** @param {number} i */
  const field = (i) => Number(match[i] ?? 0);
  const [year, month, day] = [field(1), field(2), field(3)];
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysIn(year, month) &&
    field(4) <= 23 && // hour
    field(5) <= 59 && // minute
    field(6) <= 59 && // second
    field(7) <= 23 && // offset hour
    field(8) <= 59 // offset minute
  );
};

/** The formats the generated validator reads, by the name the schema gives them. */
export const FORMATS = { 'date-time': isDateTime };
