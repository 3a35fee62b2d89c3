import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { DeleteMessageCommand, ListQueuesCommand, Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { keyText, SdkItem } from '../handlers/attribute-values';
import { mapLimit } from '../handlers/concurrency';
import { syncItem } from '../handlers/repair';
import { CliError, TableContext } from './context';

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
  const queueUrls = opts.queueUrls?.length ? opts.queueUrls : await findQueues(opts.sqs, ctx.table.name);
  const sourceStreamArn = await ctx.sourceStreamArn();
  const results: RedriveResult[] = [];
  for (const QueueUrl of queueUrls) {
    for (;;) {
      const { Messages = [] } = await opts.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: opts.dryRun ? 0 : 300 }));
      const fresh = Messages.filter((m) => !results.some((r) => r.messageId === m.MessageId));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        const result = await redriveOne(ctx, opts, message, sourceStreamArn);
        results.push(result);
        if (result.outcome === 'repaired') await opts.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
      }
    }
  }
  return results;
}

async function redriveOne(ctx: TableContext, opts: { streams: DynamoDBStreamsClient; dryRun: boolean }, message: Message, sourceStreamArn: string): Promise<RedriveResult> {
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
    throw err;
  }
  if (opts.dryRun) return { messageId, outcome: 'would-repair', items: keys.length, detail: `re-sync ${keys.length} item(s) of ${info.batchSize} record(s) on ${ctx.table.replicaRegions.join(', ')}` };
  const source = ctx.client(ctx.table.primaryRegion);
  const read = async (Key: SdkItem) => (await source.send(new GetItemCommand({ TableName: ctx.table.name, Key, ConsistentRead: true }))).Item;
  let failed = 0;
  await mapLimit(keys.flatMap((k) => ctx.table.replicaRegions.map((region) => ({ k, region }))), 16, async ({ k, region }) => {
    const { outcome } = await syncItem({
      mode: 'repair',
      replica: ctx.client(region),
      target: { region, tableName: ctx.table.name },
      keys: k,
      source: await read(k),
      reread: () => read(k),
      sourceStreamArn,
      policy: 'source-wins',
    });
    if (outcome.status === 'failed') failed++;
  });
  return failed ? { messageId, outcome: 'failed', items: keys.length, detail: `${failed} item write(s) failed; message kept for another redrive` } : { messageId, outcome: 'repaired', items: keys.length };
}

const pastRetention = (messageId: string, info: BatchInfo): RedriveResult => ({
  messageId,
  outcome: 'past-retention',
  items: 0,
  detail: `records ${info.startSequenceNumber}..${info.endSequenceNumber} are no longer in the stream (24 h retention): run \`ddb-replicator reconcile\`, then delete this message`,
});

/** The distinct item keys of the records from start to end sequence number of one shard. */
async function batchKeys(streams: DynamoDBStreamsClient, info: BatchInfo): Promise<SdkItem[]> {
  const end = BigInt(info.endSequenceNumber);
  let { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: info.streamArn, ShardId: info.shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: info.startSequenceNumber }));
  const keys = new Map<string, SdkItem>();
  while (ShardIterator) {
    const out = await streams.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
    for (const r of out.Records ?? []) {
      if (BigInt(r.dynamodb!.SequenceNumber!) > end) return [...keys.values()];
      const k = r.dynamodb!.Keys as SdkItem;
      keys.set(keyText(k), k);
    }
    if (!out.Records?.length) break;
    ShardIterator = out.NextShardIterator;
  }
  return [...keys.values()];
}

/** This project's DLQs are named after the table's links: `<table>-to-<regions>-dlq...`. */
async function findQueues(sqs: SQSClient, table: string): Promise<string[]> {
  const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: `${table}-to-` }));
  const dlqs = QueueUrls.filter((u) => /-dlq/.test(u.split('/').pop() ?? ''));
  if (dlqs.length === 0) throw new CliError(`no DLQ named ${table}-to-*-dlq* found: pass --queue-url (the stack's dlqUrls output)`);
  return dlqs;
}
