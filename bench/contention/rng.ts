/** Seeded pseudo-random sources: the fuzz suite's mulberry32, so the same seed gives the same run on every machine. */
import { mulberry32, type Random } from '../../test/faults/mutate';

export type { Random };

export const seeded = mulberry32;

/** An independent stream derived from a seed and a name (so adding a stream never shifts another). */
export const stream = (seed: number, name: string): Random => {
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return seeded(h);
};

/** An exponential draw of the given mean. */
export const exponential = (random: Random, mean: number): number => -Math.log(1 - random()) * mean;
