import { createHash } from 'node:crypto';

/**
 * DynamoDB throttles more than two simultaneous readers of a stream shard, so each region's stream
 * has at most this many replication links (event source mappings); a link's function serves several
 * target regions when there are more regions than links.
 */
export const LINK_SLOTS = 2;

/**
 * A region's link slot, for life: the same whatever other regions the table has or which one is
 * primary, so adding, removing or promoting a region never moves another region to a link whose
 * checkpoint is elsewhere in the stream. A stable hash of the region's name, unless the table pins it.
 */
export function linkSlot(region: string, pinned: Readonly<Record<string, number>> = {}): number {
  return pinned[region] ?? createHash('sha256').update(region).digest()[0]! % LINK_SLOTS;
}

export interface LinkPlan {
  readonly slot: number;
  /** Target regions, in the table's region order. */
  readonly targets: readonly string[];
}

/** The links reading `source`'s stream: one per slot that has at least one target. */
export function linksFrom(source: string, regions: readonly string[], pinned: Readonly<Record<string, number>> = {}): LinkPlan[] {
  const out: LinkPlan[] = [];
  for (let slot = 0; slot < LINK_SLOTS; slot++) {
    const targets = regions.filter((r) => r !== source && linkSlot(r, pinned) === slot);
    if (targets.length > 0) out.push({ slot, targets });
  }
  return out;
}
