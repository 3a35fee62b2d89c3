/**
 * DynamoDB throttles more than two simultaneous readers of a stream shard, so a table gets at
 * most this many replication links (event source mappings). One link's function serves several
 * replica regions when there are more regions than links.
 */
export const MAX_STREAM_CONSUMERS = 2;

/**
 * Splits replica regions into at most `MAX_STREAM_CONSUMERS` groups, in configured order, as evenly
 * as possible (3 regions -> 2 + 1, 5 -> 3 + 2). Pure, so the grouping is stable between deploys.
 */
export function groupReplicaRegions(regions: readonly string[], maxConsumers = MAX_STREAM_CONSUMERS): string[][] {
  if (regions.length === 0) return [];
  const groups = Math.min(maxConsumers, regions.length);
  const size = Math.ceil(regions.length / groups);
  const out: string[][] = [];
  for (let i = 0; i < regions.length; i += size) out.push(regions.slice(i, i + size));
  return out;
}
