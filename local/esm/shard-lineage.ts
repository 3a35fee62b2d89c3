/** Pure shard scheduling: a child shard is read only after its parent is fully drained. */
export interface ShardInfo {
  readonly shardId: string;
  readonly parentShardId?: string;
}

/**
 * Shards that may start now: not yet started, and whose parent is finished or unknown (a parent
 * that is no longer listed was trimmed, so nothing of it remains to read first).
 */
export function shardsReadyToStart(shards: readonly ShardInfo[], started: ReadonlySet<string>, finished: ReadonlySet<string>): ShardInfo[] {
  const listed = new Set(shards.map((s) => s.shardId));
  return shards.filter(
    (s) => !started.has(s.shardId) && (!s.parentShardId || finished.has(s.parentShardId) || !listed.has(s.parentShardId)),
  );
}
