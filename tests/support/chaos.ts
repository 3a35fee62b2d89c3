import fc from 'fast-check';

/** A probability from 0 to max percent, uniform: fc.double is uniform over bit patterns, so mostly tiny. */
const percent = (max: number) => fc.integer({ min: 0, max }).map((p) => p / 100);

/**
 * How Lambda may deliver: re-sends, failures before and after partial work, spurious rewinds,
 * bisection, several batches of a shard at once. Unbiased: fast-check otherwise favours edge values
 * (no failures, batches of one), which hide bugs.
 */
export const chaosSettings = fc.noBias(
  fc.record({
    seed: fc.integer(),
    batchSize: fc.integer({ min: 1, max: 8 }),
    bisect: fc.boolean(),
    /** Concurrent batches per shard (each item stays in one lane). */
    parallelizationFactor: fc.integer({ min: 1, max: 3 }),
    throwBefore: percent(30),
    throwAfter: percent(50),
    spuriousRewind: percent(30),
    duplicate: percent(30),
    /** Write the history before the mapping starts (catching up on a backlog: full batches). */
    catchUp: fc.boolean(),
  }),
);

export type Chaos = typeof chaosSettings extends fc.Arbitrary<infer T> ? T : never;

export function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Run counts come from the issues (with CI=true); PROPERTY_RUNS=N runs more (or fewer) locally. */
export function propertyRuns(ci: number, local: number): number {
  if (process.env.PROPERTY_RUNS) return Number(process.env.PROPERTY_RUNS);
  return process.env.CI ? ci : local;
}

/** PROPERTY_SEED=N replays (or varies) a property's generated runs; unset, fast-check picks a seed. */
export function propertySeed(): { seed?: number } {
  return process.env.PROPERTY_SEED ? { seed: Number(process.env.PROPERTY_SEED) } : {};
}
