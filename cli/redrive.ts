import { DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, GetQueueUrlCommand, Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { keyText, SdkItem } from '../handlers/attribute-values';
import { mapLimit } from '../handlers/concurrency';
import { syncItem } from '../handlers/repair';
import { linksFrom } from '../config/links';
import type { TableModel } from '../config/model';
import { linkNames } from '../config/names';
import { CliError, TableContext } from './context';
import { countSync, readSourceItem } from './reconcile';

/** Stream records live 24 hours (DynamoDB Streams); a batch older than this cannot be re-read. */
const STREAM_RETENTION_MS = 24 * 3600 * 1000;

interface BatchInfo {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  approximateArrivalOfFirstRecord: string;
  batchSize: number;
  streamArn: string;
}

export interface RedriveResult {
  readonly messageId: string;
  readonly outcome: 'repaired' | 'would-repair' | 'past-retention' | 'unreadable' | 'failed';
  readonly items: number;
  readonly detail?: string;
}

/**
 * Reads on-failure messages (batch coordinates only), re-reads each batch's records from the stream
 * while retained, and re-syncs every affected item on every replica from the source's current state
 * (strongly consistent read, same conditional apply as replication). A message is deleted only after
 * its batch is repaired; batches past retention are left in place, pointing to reconcile.
 */
export async function redrive(ctx: TableContext, opts: { sqs: SQSClient; streams: DynamoDBStreamsClient; queueUrls?: string[]; dryRun: boolean }): Promise<RedriveResult[]> {
  const queueUrls = opts.queueUrls?.length ? opts.queueUrls : await findQueues(opts.sqs, ctx.table);
  const results: RedriveResult[] = [];
  // Messages not repaired stay hidden while this run reads the queue, then become visible again at
  // once, so the next run (or another operator) sees them.
  const held: { QueueUrl: string; ReceiptHandle: string }[] = [];
  try {
    for (const QueueUrl of queueUrls) {
      for (;;) {
        const { Messages = [] } = await opts.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: opts.dryRun ? 0 : 300 }));
        const fresh = Messages.filter((m) => !results.some((r) => r.messageId === m.MessageId));
        if (fresh.length === 0) break;
        for (const message of fresh) {
          const result = await redriveOne(ctx, opts, message);
          results.push(result);
          if (result.outcome === 'repaired') await opts.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
          else if (!opts.dryRun && message.ReceiptHandle) held.push({ QueueUrl, ReceiptHandle: message.ReceiptHandle });
        }
      }
    }
  } finally {
    await Promise.all(held.map((m) => opts.sqs.send(new ChangeMessageVisibilityCommand({ ...m, VisibilityTimeout: 0 }))));
  }
  return results;
}

async function redriveOne(ctx: TableContext, opts: { streams: DynamoDBStreamsClient; dryRun: boolean }, message: Message): Promise<RedriveResult> {
  const messageId = message.MessageId ?? '?';
  let info: BatchInfo;
  try {
    info = (JSON.parse(message.Body ?? '') as { DDBStreamBatchInfo: BatchInfo }).DDBStreamBatchInfo;
    if (!info?.shardId || !info.startSequenceNumber || !info.endSequenceNumber || !info.streamArn) throw new Error('no DDBStreamBatchInfo');
  } catch (err) {
    return { messageId, outcome: 'unreadable', items: 0, detail: `not a Lambda on-failure message for a DynamoDB stream (${(err as Error).message}); left in the queue` };
  }
  if (Date.now() - Date.parse(info.approximateArrivalOfFirstRecord) > STREAM_RETENTION_MS) return pastRetention(messageId, info);
  let keys: SdkItem[];
  try {
    keys = await batchKeys(opts.streams, info);
  } catch (err) {
    if (['TrimmedDataAccessException', 'ResourceNotFoundException', 'ExpiredIteratorException'].includes((err as Error).name)) return pastRetention(messageId, info);
    if (err instanceof IncompleteRange) return { messageId, outcome: 'failed', items: 0, detail: `${err.message}; message kept for another redrive` };
    throw err;
  }
  if (opts.dryRun) return { messageId, outcome: 'would-repair', items: keys.length, detail: `re-sync ${keys.length} item(s) of ${info.batchSize} record(s) on ${ctx.table.replicaRegions.join(', ')}` };
  const generation = await ctx.generation();
  const counts = { repaired: 0, skipped: 0, undone: 0, failed: 0 };
  await mapLimit(keys.flatMap((k) => ctx.table.replicaRegions.map((region) => ({ k, region }))), 16, async ({ k, region }) => {
    const result = await syncItem({
      mode: 'repair',
      replica: ctx.client(region),
      target: { region, tableName: ctx.table.name },
      keys: k,
      readSource: () => readSourceItem(ctx, k),
      generation,
      rules: ctx.rules(),
    });
    countSync(counts, result);
  });
  return counts.failed
    ? { messageId, outcome: 'failed', items: keys.length, detail: `${counts.failed} item write(s) failed; message kept for another redrive` }
    : { messageId, outcome: 'repaired', items: keys.length };
}

const pastRetention = (messageId: string, info: BatchInfo): RedriveResult => ({
  messageId,
  outcome: 'past-retention',
  items: 0,
  detail: `records ${info.startSequenceNumber}..${info.endSequenceNumber} are no longer in the stream (24 h retention): run \`ddb-replicator reconcile\`, then delete this message`,
});

/** GetRecords may return empty pages before the end of a shard; this many in a row means the range is not there. */
const MAX_EMPTY_PAGES = 25;

/**
 * The distinct item keys of the records from start to end sequence number of one shard. Reads on
 * past empty pages (they can occur before the end of a shard) until it reaches the end record.
 */
async function batchKeys(streams: DynamoDBStreamsClient, info: BatchInfo): Promise<SdkItem[]> {
  const end = BigInt(info.endSequenceNumber);
  let { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: info.streamArn, ShardId: info.shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: info.startSequenceNumber }));
  const keys = new Map<string, SdkItem>();
  let empty = 0;
  while (ShardIterator) {
    const out = await streams.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
    for (const r of out.Records ?? []) {
      const seq = BigInt(r.dynamodb!.SequenceNumber!);
      if (seq > end) return [...keys.values()];
      const k = r.dynamodb!.Keys as SdkItem;
      keys.set(keyText(k), k);
      if (seq === end) return [...keys.values()];
    }
    empty = out.Records?.length ? 0 : empty + 1;
    if (empty >= MAX_EMPTY_PAGES) break;
    ShardIterator = out.NextShardIterator;
  }
  throw new IncompleteRange(`the stream gave no record up to ${info.endSequenceNumber} (${keys.size} item(s) read)`);
}

class IncompleteRange extends Error {
  override name = 'IncompleteRange';
}

/** The DLQs of the primary region's links, by their deterministic names (config/names.ts). */
async function findQueues(sqs: SQSClient, table: TableModel): Promise<string[]> {
  const regions = [table.primaryRegion, ...table.replicaRegions];
  const names = linksFrom(table.primaryRegion, regions, table.linkSlots).map(({ slot }) => linkNames(table.name, table.primaryRegion, slot).queueName);
  const urls: string[] = [];
  for (const QueueName of names) {
    try {
      urls.push((await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl!);
    } catch (err) {
      if (!/NonExistentQueue|QueueDoesNotExist/.test((err as Error).name)) throw err;
    }
  }
  if (urls.length === 0) throw new CliError(`no DLQ named ${names.join(' or ')} found: is the stack deployed? Or pass --queue-url (the stack's dlqUrls output)`);
  return urls;
}
