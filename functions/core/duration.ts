/**
 * ISO 8601 durations as the request contract spells them (deleteAfter, retry.for): weeks, days, hours, minutes and
 * whole seconds. A module of its own so the workflow's task bundles read durations without carrying the validator.
 */

const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

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
