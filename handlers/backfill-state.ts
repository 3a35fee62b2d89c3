import { BatchGetItemCommand, DeleteItemCommand, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { freshSegment, processedItems, SegmentEnd, SegmentState } from './backfill-segment';

type Client = Pick<DynamoDBClient, 'send'>;

/**
 * What `backfill --workers N` sends each worker invocation, and what it answers. The worker runs one
 * segment of an N-segment parallel scan until it finishes, is asked to stop, or its time runs low.
 */
export interface WorkerEvent {
  readonly targetRegion: string;
  readonly segment: number;
  readonly totalSegments: number;
  /** Generation of the current primary term (repair versions). */
  readonly generation: number;
  /** This worker's share of the run's limits, capacity units per second. */
  readonly readUnitsPerSecond?: number;
  readonly writeUnitsPerSecond?: number;
  readonly pageSize?: number;
}

export interface WorkerResult {
  readonly segment: number;
  /** `lease-lost`: a newer invocation took the segment over; `stopped`: asked to, or out of time. */
  readonly end: SegmentEnd | 'lease-lost';
  /** Items this invocation dealt with. */
  readonly processed: number;
}

/**
 * Checkpoints of distributed backfills live in the replication state table of the source region,
 * under their own keys: one item per segment and one per run. The table's key is `pk` (string).
 */
export const runKey = (target: string) => `backfill#${target}#run`;
export const segmentKey = (target: string, segment: number, total: number) => `backfill#${target}#${segment}/${total}`;

export interface SegmentRecord {
  readonly state: SegmentState;
  readonly processed: number;
  readonly finished: boolean;
  readonly stop: boolean;
  readonly updatedAt?: number;
}

function toRecord(item: Record<string, { S?: string; N?: string; BOOL?: boolean }> | undefined): SegmentRecord {
  const state: SegmentState = item?.state?.S ? JSON.parse(item.state.S) : freshSegment();
  return { state, processed: processedItems(state), finished: state.finished, stop: !!item?.stop?.BOOL, updatedAt: item?.updatedAt?.N ? Number(item.updatedAt.N) : undefined };
}

/**
 * Takes a segment over for one invocation: its attempt number goes up by one, and only the holder of
 * the latest attempt may save (an earlier invocation still running, say after a client timeout,
 * finds its saves refused and stops). Returns the segment as last saved.
 */
export async function claimSegment(client: Client, table: string, key: string, now = Date.now()): Promise<SegmentRecord & { attempt: number }> {
  const out = await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk: { S: key } },
      UpdateExpression: 'SET #attempt = if_not_exists(#attempt, :zero) + :one, #updated = :now',
      ExpressionAttributeNames: { '#attempt': 'attempt', '#updated': 'updatedAt' },
      ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' }, ':now': { N: String(now) } },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return { ...toRecord(out.Attributes as never), attempt: Number(out.Attributes!.attempt!.N) };
}

/** Saves a segment's state if `attempt` still holds it; returns whether a stop was requested. Throws LeaseLost otherwise. */
export async function saveSegment(client: Client, table: string, key: string, attempt: number, state: SegmentState, now = Date.now()): Promise<{ stop: boolean }> {
  try {
    const out = await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: key } },
        // The stop flag is "updated" to itself so that UPDATED_NEW returns it: no extra read.
        UpdateExpression: 'SET #state = :state, #processed = :processed, #finished = :finished, #updated = :now, #stop = if_not_exists(#stop, :no)',
        ConditionExpression: '#attempt = :attempt',
        ExpressionAttributeNames: { '#state': 'state', '#processed': 'processed', '#finished': 'finished', '#updated': 'updatedAt', '#stop': 'stop', '#attempt': 'attempt' },
        ExpressionAttributeValues: {
          ':state': { S: JSON.stringify(state) },
          ':processed': { N: String(processedItems(state)) },
          ':finished': { BOOL: state.finished },
          ':now': { N: String(now) },
          ':no': { BOOL: false },
          ':attempt': { N: String(attempt) },
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return { stop: !!out.Attributes?.stop?.BOOL };
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') throw new LeaseLost(key);
    throw err;
  }
}

export class LeaseLost extends Error {
  override name = 'LeaseLost';
  constructor(key: string) {
    super(`segment ${key} was taken over by a newer invocation`);
  }
}

/** Every segment of a run, as last saved (absent ones fresh). */
export async function readSegments(client: Client, table: string, target: string, total: number): Promise<SegmentRecord[]> {
  const keys = Array.from({ length: total }, (_, s) => segmentKey(target, s, total));
  const found = new Map<string, Record<string, never>>();
  for (let i = 0; i < keys.length; i += 100) {
    let request: Record<string, { Keys: { pk: { S: string } }[]; ConsistentRead: boolean }> | undefined = { [table]: { Keys: keys.slice(i, i + 100).map((k) => ({ pk: { S: k } })), ConsistentRead: true } };
    while (request && Object.keys(request).length) {
      const out = await client.send(new BatchGetItemCommand({ RequestItems: request }));
      for (const item of out.Responses?.[table] ?? []) found.set(item.pk!.S!, item as never);
      request = out.UnprocessedKeys as typeof request;
    }
  }
  return keys.map((k) => toRecord(found.get(k)));
}

/** Asks every running invocation of a run to stop (true), or clears that request before a run (false). */
export async function setStop(client: Client, table: string, target: string, total: number, stop: boolean): Promise<void> {
  await Promise.all(
    Array.from({ length: total }, (_, s) =>
      client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: segmentKey(target, s, total) } },
          UpdateExpression: 'SET #stop = :stop',
          ExpressionAttributeNames: { '#stop': 'stop' },
          ExpressionAttributeValues: { ':stop': { BOOL: stop } },
        }),
      ),
    ),
  );
}

export interface RunRecord {
  readonly total: number;
  readonly startedAt: number;
}

export async function readRun(client: Client, table: string, target: string): Promise<RunRecord | undefined> {
  const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: runKey(target) } }, ConsistentRead: true }));
  return Item ? { total: Number(Item.total!.N), startedAt: Number(Item.startedAt!.N) } : undefined;
}

export async function startRun(client: Client, table: string, target: string, total: number, now = Date.now()): Promise<void> {
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk: { S: runKey(target) } },
      UpdateExpression: 'SET #total = :total, #started = :now',
      ExpressionAttributeNames: { '#total': 'total', '#started': 'startedAt' },
      ExpressionAttributeValues: { ':total': { N: String(total) }, ':now': { N: String(now) } },
    }),
  );
}

/** Forgets a run: its record and every segment's checkpoint. */
export async function deleteRun(client: Client, table: string, target: string): Promise<void> {
  const run = await readRun(client, table, target);
  if (!run) return;
  for (let s = 0; s < run.total; s++) await client.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: segmentKey(target, s, run.total) } } }));
  await client.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: runKey(target) } } }));
}
