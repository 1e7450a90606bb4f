/** A seeded pseudo-random source (mulberry32): the same seed gives the same run, on every machine. */
export type Random = () => number;

export const seeded = (seed: number): Random => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** An independent stream derived from a seed and a name (so adding a stream never shifts another). */
export const stream = (seed: number, name: string): Random => {
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return seeded(h);
};

/** An exponential draw of the given mean. */
export const exponential = (random: Random, mean: number): number => -Math.log(1 - random()) * mean;
