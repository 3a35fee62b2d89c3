import type { DynamoDBRecord } from 'aws-lambda';

/** One of a shard's ParallelizationFactor lanes: its records, in stream order, and its retry state. */
export interface Lane {
  /** Records read but not yet committed, in stream order. */
  readonly buffer: DynamoDBRecord[];
  readonly sizes: number[];
  /** Bisection stack: sizes of the sub-batches still to run, head first. */
  ranges: number[];
  attempts: number;
}

export const newLanes = (n: number): Lane[] => Array.from({ length: n }, () => ({ buffer: [], sizes: [], ranges: [], attempts: 0 }));

export const buffered = (lanes: readonly Lane[]) => lanes.reduce((n, l) => n + l.buffer.length, 0);

/** The lane of an item: a hash of its key attributes (partition and sort key). */
export function laneOf(keys: Record<string, unknown>, lanes: number): number {
  const text = JSON.stringify(Object.keys(keys).sort().map((k) => [k, keys[k]]));
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) % lanes;
}

/**
 * The shard's checkpoint when lanes commit independently: the numerically lowest sequence number
 * still buffered in any lane. Resuming there re-delivers what other lanes committed after it
 * (at least once), and loses nothing.
 */
export function lowestUncommitted(lanes: readonly Lane[]): string | undefined {
  let lowest: string | undefined;
  for (const l of lanes) {
    const seq = l.buffer[0]?.dynamodb?.SequenceNumber;
    if (seq !== undefined && (lowest === undefined || BigInt(seq) < BigInt(lowest))) lowest = seq;
  }
  return lowest;
}

/** Forgets buffered records and retry state (they will be read again from the checkpoint). */
export function clearLanes(lanes: Lane[]): void {
  for (const l of lanes) {
    l.buffer.length = 0;
    l.sizes.length = 0;
    l.ranges = [];
    l.attempts = 0;
  }
}
