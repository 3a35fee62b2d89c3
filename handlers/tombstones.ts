import { createHash } from 'node:crypto';
import { limiter } from './concurrency';
import type { ReplicaTarget } from './config';
import { Dynamo, isConditionFailure } from './dynamo';
import { decodeVersion, encodeVersion, Version } from './versions';

type Client = Dynamo;

/**
 * A REMOVE leaves a tombstone per target region in the source region's state table: the version of
 * the deletion as applied to that region. A replay of older records after it (Lambda bisects a batch
 * after a function error and replays its first half) finds the tombstone and is skipped, so a deleted
 * item never reappears on a replica, even for a moment, and an absent replica item is explained by
 * the item's history.
 *
 * Per target, not per item: the source's two links read the stream at different positions, and one
 * link's progress says nothing about what the other's regions hold. Tombstones live in the source
 * region, beside the function: checking one costs an in-region read, not a cross-region round trip.
 * Only one link writes a region, and Lambda never runs two batches holding one item at once, so
 * read-then-write is free of races.
 */
export const TOMBSTONE_TTL_SECONDS = 3 * 24 * 3600; // past the stream's 24 h and the longest record age
const BATCH_GET_LIMIT = 100;

export const tombstoneKey = (region: string, itemKey: string) => `tomb#${region}#${createHash('sha256').update(itemKey).digest('base64url')}`;

/** BatchGetItem requests of one read in flight at once. */
const CHUNKS_AT_ONCE = 8;
/**
 * Items per BatchGetItem (all their target regions' tombstones), well under its 100 keys: a small
 * chunk comes back sooner, and the items in it start writing while the next chunks are read.
 */
const ITEMS_PER_CHUNK = 16;

/** The tombstones of a batch's items, read (strongly consistent) in chunks sent at once. */
export interface TombstoneRead {
  /** The deletion recorded for the item in the region, once its chunk is read; rejects if that chunk could not be. */
  get(region: string, itemKey: string): Promise<Version | undefined>;
}

/** Starts reading the tombstones of these items in these regions; each item waits only for its own chunk. */
export function readTombstones(client: Client, state: ReplicaTarget, targetRegions: readonly string[], itemKeys: readonly string[]): TombstoneRead {
  // Tombstones are per region: two replica tables in one region share them (and BatchGetItem refuses a key twice).
  const regions = [...new Set(targetRegions)];
  const limit = limiter(CHUNKS_AT_ONCE);
  const perChunk = Math.max(1, Math.min(ITEMS_PER_CHUNK, Math.floor(BATCH_GET_LIMIT / Math.max(1, regions.length))));
  // Per region and item: its tombstone's key (hashed once) and the chunk that reads it.
  const reads = new Map<string, { readonly pk: string; readonly chunk: Promise<Map<string, Version>> }>();
  const unique = [...new Set(itemKeys)];
  for (let i = 0; i < unique.length; i += perChunk) {
    const entries = regions.flatMap((r) => unique.slice(i, i + perChunk).map((k) => ({ at: `${r}\n${k}`, pk: tombstoneKey(r, k) })));
    const chunk = limit(() => readChunk(client, state.tableName, entries.map((e) => e.pk)));
    chunk.catch(() => undefined); // met by `get` of an item in the chunk, if any asks
    for (const e of entries) reads.set(e.at, { pk: e.pk, chunk });
  }
  return {
    async get(region, itemKey) {
      const read = reads.get(`${region}\n${itemKey}`);
      if (!read) throw new Error(`no tombstone read was started for this item in ${region} (key ${itemKey})`);
      return (await read.chunk).get(read.pk);
    },
  };
}

/** One BatchGetItem of tombstones, its unprocessed keys retried with backoff. */
async function readChunk(client: Client, tableName: string, pks: readonly string[]): Promise<Map<string, Version>> {
  const out = new Map<string, Version>();
  let keys = pks.map((pk) => ({ pk: { S: pk } }));
  for (let attempt = 0; keys.length > 0; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
    if (attempt > 8) throw new Error(`tombstones in ${tableName} stayed unprocessed after ${attempt} attempts (throttled)`);
    const res = await client.call('BatchGetItem', { RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } });
    for (const item of res.Responses?.[tableName] ?? []) {
      const version = decodeVersion(item.v?.S);
      if (version && item.pk?.S) out.set(item.pk.S, version);
    }
    keys = (res.UnprocessedKeys?.[tableName]?.Keys ?? []) as typeof keys;
  }
  return out;
}

export type TombstoneWrite =
  /** No tombstone at this version or newer existed: this deletion is being applied for the first time. */
  | 'written'
  /** A tombstone of exactly this version existed: the REMOVE is a replay. */
  | 'replay'
  /** A newer deletion is recorded: this REMOVE is stale. */
  | 'stale';

/** Records a deletion in `region` at `version` unless one as new is recorded; says which. */
export async function writeTombstone(client: Client, state: ReplicaTarget, region: string, itemKey: string, version: Version, nowSeconds: number): Promise<TombstoneWrite> {
  const v = encodeVersion(version);
  try {
    await client.call('PutItem', {
      TableName: state.tableName,
      Item: { pk: { S: tombstoneKey(region, itemKey) }, v: { S: v }, expiresAt: { N: String(nowSeconds + TOMBSTONE_TTL_SECONDS) } },
      ConditionExpression: 'attribute_not_exists(pk) OR v < :v',
      ExpressionAttributeValues: { ':v': { S: v } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    return 'written';
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    return err.Item?.v?.S === v ? 'replay' : 'stale';
  }
}
