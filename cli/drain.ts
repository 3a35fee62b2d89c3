import { BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { digest, EventItem, keyText, toSdkItem } from '../handlers/attribute-values';
import type { Fence } from '../handlers/fence';
import type { ReviewEntry } from '../handlers/review';
import { classify } from '../handlers/terms';
import { compareVersions, readVersion, recordVersion } from '../handlers/versions';
import { toLambdaRecord } from '../local/esm/stream-events';
import type { TableContext } from './context';

/** GetRecords can return empty pages before the end of an open shard; this many in a row means the tip. */
const TIP_EMPTY_PAGES = 3;

/** When a record was written, epoch seconds: its ApproximateCreationDateTime, or a local stream clock's stamp. */
export type RecordSeconds = (r: DynamoDBRecord, shardId: string, region: string) => number;

export interface PendingChange {
  readonly region: string;
  readonly key: EventItem;
  readonly seq: string;
  /** The record's ApproximateCreationDateTime, epoch seconds. */
  readonly writtenAt: number;
}

export interface DrainCheck {
  readonly drained: boolean;
  /** Application changes of the current term read from the primary's stream. */
  readonly changes: number;
  /** Items whose last change a replica does not hold yet. */
  readonly pending: PendingChange[];
}

/**
 * Whether every replica holds the last change of every item in the primary's stream: reads the
 * primary's retained stream (every shard, to its end or its tip), keeps each item's last change of
 * the current term (written before `before`, when given: a new term's start), and checks each
 * replica's item holds that version or a newer one (or, for a deletion, no item). A positive check,
 * unlike an idle IteratorAge, which has no data points.
 */
export async function checkDrained(
  ctx: TableContext,
  streams: Pick<DynamoDBStreamsClient, 'send'>,
  primary: string,
  fence: Fence,
  replicas: readonly string[],
  recordSeconds: RecordSeconds = (r) => r.dynamodb?.ApproximateCreationDateTime ?? 0,
  before = Infinity,
): Promise<DrainCheck> {
  const streamArn = await ctx.streamArnOf(primary);
  const last = new Map<string, DynamoDBRecord>();
  let changes = 0;
  await forEachRecord(streams, streamArn, primary, (r, shardId) => {
    const timed = { ...r, dynamodb: { ...r.dynamodb!, ApproximateCreationDateTime: recordSeconds(r, shardId, primary) } };
    if (timed.dynamodb.ApproximateCreationDateTime >= before || classify(timed, primary, fence).kind !== 'change') return;
    changes++;
    last.set(keyText(r.dynamodb!.Keys!), timed);
  });
  const pending: PendingChange[] = [];
  const records = [...last.values()];
  for (const region of replicas) {
    for (let i = 0; i < records.length; i += 100) {
      const chunk = records.slice(i, i + 100);
      const held = await batchGet(ctx, region, chunk.map((r) => r.dynamodb!.Keys!));
      for (const r of chunk) {
        const item = held.get(keyText(r.dynamodb!.Keys!));
        const wanted = recordVersion(fence.generation, r.dynamodb!.SequenceNumber!);
        const version = readVersion(item);
        // The replica holds the change if it holds its version or a newer one, or (after a repair, whose version is the replica's own) its state.
        const done =
          r.eventName === 'REMOVE'
            ? !item || (!!version && compareVersions(version, wanted) > 0)
            : (!!version && compareVersions(version, wanted) >= 0) || (!!item && digest(item) === digest(r.dynamodb!.NewImage));
        if (!done) pending.push({ region, key: r.dynamodb!.Keys!, seq: r.dynamodb!.SequenceNumber!, writtenAt: r.dynamodb!.ApproximateCreationDateTime! });
      }
    }
  }
  return { drained: pending.length === 0, changes, pending };
}

async function batchGet(ctx: TableContext, region: string, keys: EventItem[]) {
  const out = new Map<string, Record<string, import('@aws-sdk/client-dynamodb').AttributeValue>>();
  let request: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue>[] = keys.map(toSdkItem);
  for (let attempt = 0; request.length > 0; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
    const res = await ctx.client(region).send(new BatchGetItemCommand({ RequestItems: { [ctx.table.name]: { Keys: request, ConsistentRead: true } } }));
    for (const item of res.Responses?.[ctx.table.name] ?? []) out.set(keyText(Object.fromEntries(ctx.keyNames.map((k) => [k, item[k]!]))), item);
    request = (res.UnprocessedKeys?.[ctx.table.name]?.Keys ?? []) as typeof request;
  }
  return out;
}

/** Every retained record of a stream, shard by shard, in order within each shard. */
export async function forEachRecord(streams: Pick<DynamoDBStreamsClient, 'send'>, streamArn: string, region: string, fn: (r: DynamoDBRecord, shardId: string) => void): Promise<void> {
  let ExclusiveStartShardId: string | undefined;
  const shards: { ShardId?: string; SequenceNumberRange?: { EndingSequenceNumber?: string } }[] = [];
  do {
    const { StreamDescription: d } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId }));
    shards.push(...(d?.Shards ?? []));
    ExclusiveStartShardId = d?.LastEvaluatedShardId;
  } while (ExclusiveStartShardId);
  for (const shard of shards) {
    const iterator = async (after?: string) =>
      (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' }) }))).ShardIterator;
    let ShardIterator = await iterator();
    let last: string | undefined;
    const open = !shard.SequenceNumberRange?.EndingSequenceNumber;
    for (let empty = 0, trimmed = 0; ShardIterator && !(open && empty >= TIP_EMPTY_PAGES); ) {
      let page;
      try {
        page = await streams.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
      } catch (err) {
        // The stream trimmed records under the iterator: go on from what is left.
        if ((err as Error).name !== 'TrimmedDataAccessException' || ++trimmed > 3) throw err;
        ShardIterator = await iterator(last);
        continue;
      }
      for (const r of page.Records ?? []) {
        fn(toLambdaRecord(r, streamArn, region), shard.ShardId!);
        last = r.dynamodb?.SequenceNumber;
      }
      empty = page.Records?.length ? 0 : empty + 1;
      ShardIterator = page.NextShardIterator;
    }
  }
}

/** Keys (as `keyText`) a region's stream holds a record of from `seconds` on: its changes since then. */
export async function changedSince(ctx: TableContext, streams: Pick<DynamoDBStreamsClient, 'send'>, region: string, seconds: number, recordSeconds: RecordSeconds = (r) => r.dynamodb?.ApproximateCreationDateTime ?? 0): Promise<Set<string>> {
  const keys = new Set<string>();
  await forEachRecord(streams, await ctx.streamArnOf(region), region, (r, shardId) => {
    if (recordSeconds(r, shardId, region) >= seconds) keys.add(keyText(r.dynamodb!.Keys!));
  });
  return keys;
}

/**
 * Writes a region took while another region was primary, by something other than replication (a
 * demoted primary's application, say): found in its retained stream, so none is overwritten
 * silently by later replication. Older than the stream's 24 hours, only a diff finds them.
 * `fence` gives the terms; only `regionFence`, the region's own (undefined where it has none), says
 * up to when its last rejoin reported them: another region's mark says nothing about this one.
 */
export async function findStrays(
  ctx: TableContext,
  streams: Pick<DynamoDBStreamsClient, 'send'>,
  region: string,
  fence: Fence,
  regionFence: Fence | undefined,
  recordSeconds: RecordSeconds = (r) => r.dynamodb?.ApproximateCreationDateTime ?? 0,
  /** Told the stamp of every record read, stray or not. */
  seen?: (seconds: number) => void,
): Promise<ReviewEntry[]> {
  const out: ReviewEntry[] = [];
  await forEachRecord(streams, await ctx.streamArnOf(region), region, (r, shardId) => {
    const seconds = recordSeconds(r, shardId, region);
    seen?.(seconds);
    if (seconds <= (regionFence?.rejoinedAt ?? -1)) return; // reported when the region rejoined
    if (classify({ ...r, dynamodb: { ...r.dynamodb!, ApproximateCreationDateTime: seconds } }, region, fence).kind !== 'stray') return;
    out.push({ kind: 'stray', key: r.dynamodb!.Keys!, region, version: r.dynamodb!.SequenceNumber!, writtenAt: seconds });
  });
  return out;
}
