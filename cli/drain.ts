import { BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { EventItem, keyText, toSdkItem } from '../handlers/attribute-values';
import type { Fence } from '../handlers/fence';
import { classify } from '../handlers/terms';
import { compareVersions, readVersion, recordVersion } from '../handlers/versions';
import { toLambdaRecord } from '../local/esm/stream-events';
import type { TableContext } from './context';

/** GetRecords can return empty pages before the end of an open shard; this many in a row means the tip. */
const TIP_EMPTY_PAGES = 3;

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
 * the current term, and checks each replica's item holds that version or a newer one (or, for a
 * deletion, no item). A positive check, unlike an idle IteratorAge, which has no data points.
 */
export async function checkDrained(
  ctx: TableContext,
  streams: Pick<DynamoDBStreamsClient, 'send'>,
  primary: string,
  fence: Fence,
  replicas: readonly string[],
  recordSeconds: (r: DynamoDBRecord) => number = (r) => r.dynamodb?.ApproximateCreationDateTime ?? 0,
): Promise<DrainCheck> {
  const streamArn = await ctx.streamArnOf(primary);
  const last = new Map<string, DynamoDBRecord>();
  let changes = 0;
  await forEachRecord(streams, streamArn, primary, (r) => {
    const timed = { ...r, dynamodb: { ...r.dynamodb!, ApproximateCreationDateTime: recordSeconds(r) } };
    if (classify(timed, primary, fence).kind !== 'change') return;
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
        const done = r.eventName === 'REMOVE' ? !item || (!!version && compareVersions(version, wanted) > 0) : !!version && compareVersions(version, wanted) >= 0;
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
export async function forEachRecord(streams: Pick<DynamoDBStreamsClient, 'send'>, streamArn: string, region: string, fn: (r: DynamoDBRecord) => void): Promise<void> {
  let ExclusiveStartShardId: string | undefined;
  const shards: { ShardId?: string; SequenceNumberRange?: { EndingSequenceNumber?: string } }[] = [];
  do {
    const { StreamDescription: d } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId }));
    shards.push(...(d?.Shards ?? []));
    ExclusiveStartShardId = d?.LastEvaluatedShardId;
  } while (ExclusiveStartShardId);
  for (const shard of shards) {
    let { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    const open = !shard.SequenceNumberRange?.EndingSequenceNumber;
    for (let empty = 0; ShardIterator && !(open && empty >= TIP_EMPTY_PAGES); ) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
      for (const r of page.Records ?? []) fn(toLambdaRecord(r, streamArn, region));
      empty = page.Records?.length ? 0 : empty + 1;
      ShardIterator = page.NextShardIterator;
    }
  }
}
