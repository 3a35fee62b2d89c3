import { BatchGetItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { stateTableName } from '../config/names';
import type { EmulatorStats } from './esm/emulator';

/**
 * A running local pipeline's live figures, kept in the replication state table of its source
 * region (`status#<region>#<slot>`), so `ddb-replicator status --endpoint URL` reads them from the
 * endpoint it is pointed at, from any directory, and can tell a stopped pipeline by its heartbeat.
 */
export interface PublishedStatus {
  /** The link's name part, e.g. us-east-1-link0. */
  readonly link: string;
  readonly region: string;
  readonly slot: number;
  readonly pid: number;
  readonly startedAt: string;
  /** The heartbeat: the last time the figures were written. */
  readonly updatedAt: string;
  readonly intervalMs: number;
  /** Set by a clean stop. */
  readonly stoppedAt?: string;
  readonly records: { readonly delivered: number; readonly discarded: number; readonly dropped: number };
  readonly invocations: { readonly total: number; readonly failed: number; readonly failedLastMinute: number; readonly lastAt?: string };
  readonly onFailureMessages: number;
  /** At the last invocation (Lambda's IteratorAge), and the largest seen. */
  readonly iteratorAgeMs: number;
  readonly maxIteratorAgeMs: number;
  readonly targets: { readonly region: string; readonly applied: number; readonly failed: number; readonly staleSkipped: number; readonly conflicts: number }[];
  /** The on-failure queue: depth as SQS reports it (absent when it could not be read). */
  readonly dlq?: { readonly url: string; readonly sqsEndpoint?: string; readonly messages?: number; readonly inFlight?: number };
}

/** Per-target figures as local/replication-stats.ts keeps them. */
export interface TargetFigures {
  readonly regions: ReadonlyMap<string, { recordsApplied: number; failures: number; staleSkipped: number; conflicts: number }>;
}

export interface PublisherOptions {
  /** A client of the source (primary) region. */
  readonly client: Pick<DynamoDBClient, 'send'>;
  readonly table: { readonly name: string; readonly primaryRegion: string };
  readonly slot: number;
  readonly emulator: { readonly stats: EmulatorStats };
  readonly targets?: TargetFigures;
  readonly dlq?: { readonly sqs: Pick<SQSClient, 'send'>; readonly queueUrl: string; readonly endpoint?: string };
  readonly intervalMs?: number;
  readonly log?: (line: Record<string, unknown>) => void;
}

export const statusKey = (region: string, slot: number) => `status#${region}#${slot}`;
/** Status items expire a day after their last write (the state table's TTL attribute). */
const EXPIRE_SECONDS = 24 * 3600;
const MINUTE_MS = 60_000;

/** Writes the figures now and then every `intervalMs` (default 1 s) until stop(), which writes them once more with `stoppedAt`. */
export function startStatusPublisher(opts: PublisherOptions): { stop(): Promise<void>; publish(): Promise<void> } {
  const intervalMs = opts.intervalMs ?? 1000;
  const startedAt = new Date().toISOString();
  const TableName = stateTableName(opts.table.name);
  const region = opts.table.primaryRegion;
  // Failed invocations over the last minute: a failure long since retried successfully is history, not a problem.
  const samples: { at: number; failed: number }[] = [];
  let lastInvocations = 0;
  let lastInvocationAt: string | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const figures = async (stoppedAt?: string): Promise<PublishedStatus> => {
    const s = opts.emulator.stats;
    const now = Date.now();
    samples.push({ at: now, failed: s.failedInvocations });
    while (samples.length > 1 && samples[0]!.at < now - MINUTE_MS) samples.shift();
    if (s.invocations !== lastInvocations) [lastInvocations, lastInvocationAt] = [s.invocations, new Date(now).toISOString()];
    return {
      link: `${region}-link${opts.slot}`,
      region,
      slot: opts.slot,
      pid: process.pid,
      startedAt,
      updatedAt: new Date(now).toISOString(),
      intervalMs,
      ...(stoppedAt && { stoppedAt }),
      records: { delivered: s.recordsCommitted, discarded: s.recordsDiscarded, dropped: s.recordsDropped },
      invocations: { total: s.invocations, failed: s.failedInvocations, failedLastMinute: s.failedInvocations - samples[0]!.failed, ...(lastInvocationAt && { lastAt: lastInvocationAt }) },
      onFailureMessages: s.onFailureMessages,
      iteratorAgeMs: s.iteratorAgeMs,
      maxIteratorAgeMs: s.maxIteratorAgeMs,
      targets: [...(opts.targets?.regions ?? [])].map(([r, t]) => ({ region: r, applied: t.recordsApplied, failed: t.failures, staleSkipped: t.staleSkipped, conflicts: t.conflicts })),
      ...(opts.dlq && { dlq: { url: opts.dlq.queueUrl, ...(opts.dlq.endpoint && { sqsEndpoint: opts.dlq.endpoint }), ...(await dlqDepth(opts.dlq)) } }),
    };
  };
  const write = async (stoppedAt?: string) => {
    try {
      const f = await figures(stoppedAt);
      const expiresAt = Math.floor(Date.now() / 1000) + EXPIRE_SECONDS;
      await opts.client.send(
        new PutItemCommand({ TableName, Item: { pk: { S: statusKey(region, opts.slot) }, figures: { S: JSON.stringify(f) }, updatedAt: { N: String(Date.parse(f.updatedAt)) }, expiresAt: { N: String(expiresAt) } } }),
      );
    } catch (err) {
      opts.log?.({ level: 'warn', msg: 'status not published', table: TableName, error: String(err) });
    }
  };
  const tick = () => {
    inFlight = write().finally(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs).unref();
    });
  };
  tick();
  return {
    publish: async () => {
      await inFlight;
      await write();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
      await write(new Date().toISOString());
    },
  };
}

async function dlqDepth(dlq: NonNullable<PublisherOptions['dlq']>): Promise<{ messages?: number; inFlight?: number }> {
  try {
    const { Attributes = {} } = await dlq.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return { messages: Number(Attributes.ApproximateNumberOfMessages ?? 0), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) };
  } catch {
    return {};
  }
}

/** The figures every link of `slots` published in `region`'s state table (absent ones left out). */
export async function readPublishedStatus(client: Pick<DynamoDBClient, 'send'>, table: string, region: string, slots: number[]): Promise<PublishedStatus[]> {
  const TableName = stateTableName(table);
  const { Responses } = await client.send(new BatchGetItemCommand({ RequestItems: { [TableName]: { Keys: slots.map((s) => ({ pk: { S: statusKey(region, s) } })), ConsistentRead: true } } }));
  const items = Responses?.[TableName] ?? [];
  return items.map((i) => JSON.parse(i.figures?.S ?? '{}') as PublishedStatus).sort((a, b) => a.slot - b.slot);
}
