import { DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageCommand, GetQueueUrlCommand, Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { keyJson, keyText, SdkItem } from '../handlers/attribute-values';
import { mapLimit } from '../handlers/concurrency';
import { syncItem } from '../handlers/repair';
import { linksFrom } from '../config/links';
import type { TableModel } from '../config/model';
import { linkNames } from '../config/names';
import { CliError, TableContext } from './context';
import type { Failure } from './failures';
import { readSourceItem } from './reconcile';
import { sdkDynamo } from '../handlers/dynamo-sdk';

/** Stream records live 24 hours (DynamoDB Streams); a batch older than this cannot be re-read. */
const STREAM_RETENTION_MS = 24 * 3600 * 1000;
/** Hides a message from other readers while this run works on it; every message not deleted is shown again at the end. */
const HIDE_SECONDS = 300;
/** Item failures listed per message (all are counted). */
const MAX_LISTED_FAILURES = 20;

interface BatchInfo {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  approximateArrivalOfFirstRecord: string;
  batchSize: number;
  streamArn: string;
}

export type RedriveOutcome = 'repaired' | 'would-repair' | 'past-retention' | 'stream-gone' | 'unreadable' | 'failed';

/** One item write that failed: key in DynamoDB JSON (paste into `aws dynamodb get-item --key`), never values. */
export type ItemFailure = Failure;

export interface RedriveResult {
  readonly messageId: string;
  readonly queueUrl: string;
  readonly outcome: RedriveOutcome;
  /** Distinct items of the batch. */
  readonly items: number;
  /** Why the message was not repaired (for would-repair: what a run would do). */
  readonly detail?: string;
  /** The batch as Lambda's message describes it, and why Lambda discarded it (`condition`). */
  readonly batch?: { shardId: string; startSequenceNumber: string; endSequenceNumber: string; batchSize: number; approximateArrivalOfFirstRecord: string; condition?: string };
  /** Item writes that failed (at most 20 listed; `failedItems` counts them all). */
  readonly failedItems?: number;
  readonly failures?: ItemFailure[];
  /** What became of the message: deleted after its repair, visible again for the next run, or still hidden (`visibilityError` says why). */
  message: 'deleted' | 'visible' | 'hidden';
  visibilityError?: string;
}

export interface RedriveReport {
  readonly table: string;
  readonly dryRun: boolean;
  /** Stopped by the signal (Ctrl-C) before every message was read: the rest are untouched. */
  readonly interrupted: boolean;
  readonly messages: RedriveResult[];
}

export interface RedriveOptions {
  sqs: Pick<SQSClient, 'send'>;
  streams: Pick<DynamoDBStreamsClient, 'send'>;
  queueUrls?: string[];
  dryRun: boolean;
  /** Stops after the message in hand; every message not deleted is made visible again. */
  signal?: AbortSignal;
}

/**
 * Reads on-failure messages (batch coordinates only), re-reads each batch's records from the stream
 * while retained, and re-syncs every affected item on every replica from the source's current state
 * (strongly consistent read, same conditional apply as replication). A message is deleted only after
 * its batch is repaired; every other message is made visible again before returning, so the next
 * run (or another operator) sees it at once rather than after the hiding timeout.
 */
export async function redrive(ctx: TableContext, opts: RedriveOptions): Promise<RedriveReport> {
  const queueUrls = opts.queueUrls?.length ? opts.queueUrls : await findQueues(opts.sqs, ctx.table);
  const results: RedriveResult[] = [];
  // Latest receipt per message not deleted: what must be made visible again, whatever happens.
  const held = new Map<string, { QueueUrl: string; ReceiptHandle: string; result?: RedriveResult }>();
  let interrupted = false;
  try {
    for (const QueueUrl of queueUrls) {
      for (;;) {
        if (opts.signal?.aborted) {
          interrupted = true;
          break;
        }
        const { Messages = [] } = await opts.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: HIDE_SECONDS }));
        let fresh = 0;
        for (const message of Messages) {
          const id = message.MessageId ?? '?';
          const known = held.get(id);
          held.set(id, { QueueUrl, ReceiptHandle: message.ReceiptHandle!, result: known?.result });
          if (known || results.some((r) => r.messageId === id)) continue;
          if (opts.signal?.aborted) {
            interrupted = true;
            continue;
          }
          fresh++;
          const result: RedriveResult = { ...(await redriveOne(ctx, opts, QueueUrl, message)), message: 'hidden' };
          results.push(result);
          held.get(id)!.result = result;
          if (result.outcome !== 'repaired') continue;
          try {
            await opts.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
            held.delete(id);
            result.message = 'deleted';
          } catch (err) {
            result.visibilityError = `repaired, but the delete failed (${describe(err)}): a rerun repairs it again (harmless) and deletes it`;
          }
        }
        if (fresh === 0) break;
      }
      if (opts.signal?.aborted) break;
    }
  } finally {
    await showAgain(opts.sqs, [...held.values()]);
  }
  return { table: ctx.table.name, dryRun: opts.dryRun, interrupted, messages: results };
}

/** ChangeMessageVisibilityBatch to 0 for every message held; a message that stays hidden says why. */
async function showAgain(sqs: RedriveOptions['sqs'], held: { QueueUrl: string; ReceiptHandle: string; result?: RedriveResult }[]): Promise<void> {
  for (const QueueUrl of new Set(held.map((h) => h.QueueUrl))) {
    const entries = held.filter((h) => h.QueueUrl === QueueUrl);
    for (let i = 0; i < entries.length; i += 10) {
      const chunk = entries.slice(i, i + 10);
      const failed = new Map<string, string>();
      try {
        const out = await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl, Entries: chunk.map((h, j) => ({ Id: String(j), ReceiptHandle: h.ReceiptHandle, VisibilityTimeout: 0 })) }));
        for (const f of out.Failed ?? []) failed.set(f.Id!, `${f.Code}: ${f.Message ?? ''}`.trim());
      } catch (err) {
        chunk.forEach((_, j) => failed.set(String(j), describe(err)));
      }
      chunk.forEach((h, j) => {
        if (!h.result) return;
        const error = failed.get(String(j));
        h.result.message = error ? 'hidden' : 'visible';
        if (error) h.result.visibilityError = `could not make it visible again (${error}): it reappears within ${HIDE_SECONDS / 60} minutes`;
      });
    }
  }
}

type Found = Omit<RedriveResult, 'message'>;

async function redriveOne(ctx: TableContext, opts: RedriveOptions, queueUrl: string, message: Message): Promise<Found> {
  const base = { messageId: message.MessageId ?? '?', queueUrl };
  let info: BatchInfo;
  let condition: string | undefined;
  try {
    const body = JSON.parse(message.Body ?? '') as { DDBStreamBatchInfo?: BatchInfo; requestContext?: { condition?: string } };
    info = body.DDBStreamBatchInfo!;
    condition = body.requestContext?.condition;
    if (!info?.shardId || !info.startSequenceNumber || !info.endSequenceNumber || !info.streamArn) throw new Error('it has no DDBStreamBatchInfo');
  } catch (err) {
    const why = err instanceof SyntaxError ? 'its body is not JSON' : (err as Error).message;
    return { ...base, outcome: 'unreadable', items: 0, detail: `not a Lambda on-failure message for a DynamoDB stream (${why}): inspect it in the queue, delete it by hand` };
  }
  const batch = { shardId: info.shardId, startSequenceNumber: info.startSequenceNumber, endSequenceNumber: info.endSequenceNumber, batchSize: info.batchSize, approximateArrivalOfFirstRecord: info.approximateArrivalOfFirstRecord, ...(condition && { condition }) };
  const range = `records ${info.startSequenceNumber}..${info.endSequenceNumber} of shard ${info.shardId}`;
  const streamTable = /:table\/([^/]+)\/stream\//.exec(info.streamArn)?.[1];
  if (streamTable !== undefined && streamTable !== ctx.table.name) {
    return { ...base, outcome: 'unreadable', items: 0, batch, detail: `the batch is from table ${streamTable}'s stream, not ${ctx.table.name}'s: rerun with --table ${streamTable}` };
  }
  const pastRetention = (why: string): Found => ({ ...base, outcome: 'past-retention', items: 0, batch, detail: `${range} ${why}: run \`ddb-replicator reconcile\`, then delete this message` });
  if (Date.now() - Date.parse(info.approximateArrivalOfFirstRecord) > STREAM_RETENTION_MS) return pastRetention(`arrived ${info.approximateArrivalOfFirstRecord}, past the stream's 24 h retention`);
  let keys: SdkItem[];
  try {
    keys = await batchKeys(opts.streams, info);
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TrimmedDataAccessException') return pastRetention('are trimmed from the stream (past its 24 h retention)');
    if (name === 'ResourceNotFoundException') {
      return { ...base, outcome: 'stream-gone', items: 0, batch, detail: `stream ${info.streamArn} no longer exists (stream disabled or table recreated): run \`ddb-replicator reconcile\`, then delete this message` };
    }
    if (err instanceof IncompleteRange) return { ...base, outcome: 'failed', items: 0, batch, detail: `${err.message}; rerun redrive later` };
    if (!isServiceAnswer(err)) throw err; // unreachable endpoint, credentials: a problem of the run, not of this message
    return { ...base, outcome: 'failed', items: 0, batch, detail: `could not read ${range} (${describe(err)}); rerun redrive` };
  }
  const regions = ctx.table.replicaRegions;
  if (opts.dryRun) return { ...base, outcome: 'would-repair', items: keys.length, batch, detail: `re-sync ${keys.length} item(s) of ${info.batchSize} record(s) on ${regions.join(', ')}` };
  const generation = await ctx.generation();
  const failures: ItemFailure[] = [];
  await mapLimit(keys.flatMap((k) => regions.map((region) => ({ k, region }))), 16, async ({ k, region }) => {
    const result = await syncItem({
      mode: 'repair',
      replica: sdkDynamo(ctx.client(region)),
      target: { region, tableName: ctx.table.name },
      keys: k,
      readSource: () => readSourceItem(ctx, k),
      generation,
      rules: ctx.rules(),
    });
    if (result.outcome.status === 'failed') failures.push({ region, key: keyJson(k), error: result.outcome.error });
    else if (result.undo === 'failed') failures.push({ region, key: keyJson(k), error: 'written, then the source item was found deleted and removing the write failed: the item stays until the next reconcile' });
  });
  if (failures.length === 0) return { ...base, outcome: 'repaired', items: keys.length, batch };
  const first = failures[0]!;
  return {
    ...base,
    outcome: 'failed',
    items: keys.length,
    batch,
    detail: `${failures.length} item write(s) failed, first ${JSON.stringify(first.key)} on ${first.region}: ${first.error}; rerun redrive`,
    failedItems: failures.length,
    failures: failures.slice(0, MAX_LISTED_FAILURES),
  };
}

/** An error the service answered (it has an HTTP status), as opposed to one about reaching it. */
const isServiceAnswer = (err: unknown) => typeof (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 'number';
const describe = (err: unknown) => `${(err as Error).name}: ${(err as Error).message.split('\n')[0]}`;

/** GetRecords may return empty pages before the end of a shard; this many in a row means the range is not there. */
const MAX_EMPTY_PAGES = 25;

/**
 * The distinct item keys of the records from start to end sequence number of one shard. Reads on
 * past empty pages (they can occur before the end of a shard) until it reaches the end record.
 */
async function batchKeys(streams: RedriveOptions['streams'], info: BatchInfo): Promise<SdkItem[]> {
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
async function findQueues(sqs: RedriveOptions['sqs'], table: TableModel): Promise<string[]> {
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
  if (urls.length === 0) throw new CliError(`no DLQ named ${names.join(' or ')} found: deploy the stack, or pass --queue-url (the stack's dlqUrls output)`);
  return urls;
}

/** 0 when every message was repaired (or would be, in a dry run) and none was left unread; 1 otherwise. */
export const redriveExitCode = (r: RedriveReport): number => (!r.interrupted && r.messages.every((m) => m.outcome === 'repaired' || m.outcome === 'would-repair') ? 0 : 1);

/** Every message's failed item writes (the CLI lists them after the report, by key and error). */
export const redriveFailures = (r: RedriveReport): Failure[] => r.messages.flatMap((m) => m.failures ?? []);

/** One line per message (its outcome and reason) and a summary; the failed items are listed apart (redriveFailures). */
export function renderRedrive(r: RedriveReport): string {
  const results = r.messages;
  const lines: string[] = [];
  if (results.length === 0) lines.push('no messages: nothing to redrive');
  for (const m of results) {
    lines.push(`${m.messageId}: ${m.outcome}${m.items ? ` (${m.items} item(s))` : ''}${m.batch?.condition ? ` [discarded: ${m.batch.condition}]` : ''}${m.detail ? ` - ${m.detail}` : ''}`);
    if (m.message !== 'deleted') lines.push(`    message ${m.message === 'visible' ? 'left in the queue, visible for the next run' : `still hidden: ${m.visibilityError}`}`);
    else if (m.visibilityError) lines.push(`    ${m.visibilityError}`);
  }
  const count = (o: RedriveOutcome) => results.filter((m) => m.outcome === o).length;
  if (results.length) {
    lines.push(
      `${results.length} message(s): ${count('repaired')} repaired and deleted, ${count('would-repair')} would be repaired, ${count('past-retention')} past retention, ${count('stream-gone')} stream gone, ${count('unreadable')} unreadable, ${count('failed')} failed`,
    );
  }
  if (r.interrupted) lines.push('interrupted: messages not read yet are untouched; rerun redrive');
  return lines.join('\n');
}
