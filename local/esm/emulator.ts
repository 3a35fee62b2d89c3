import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { performance } from 'node:perf_hooks';
import { readBatchResponse } from './batch-response';
import { buffered, clearLanes, Lane, laneOf, lowestUncommitted, newLanes } from './lanes';
import { DiscardCondition, onFailureMessage, OnFailureDestination } from './on-failure';
import { LAMBDA_DEFAULTS, MappingSettings, validateSettings } from './options';
import { ShardInfo, shardsReadyToStart } from './shard-lineage';
import { StreamClock, streamClock } from './stream-clock';
import { toLambdaRecord } from './stream-events';

export interface EmulatorOptions extends Partial<MappingSettings> {
  readonly streamArn: string;
  /** Region the source table lives in: the records' awsRegion. */
  readonly region: string;
  readonly streams: Pick<DynamoDBStreamsClient, 'send'>;
  /** The function. Events and responses cross a JSON boundary, as with Lambda. */
  readonly invoke: (event: DynamoDBStreamEvent) => Promise<unknown>;
  readonly functionArn?: string;
  readonly onFailure?: OnFailureDestination;
  /** Lambda's Enabled (default true). A mapping created disabled reads nothing until `enable()`. */
  readonly enabled?: boolean;
  /** Lambda polls each shard 4 times a second. */
  readonly pollIntervalMs?: number;
  readonly discoveryIntervalMs?: number;
  /** Pause before retrying a failed batch (Lambda's is undocumented). */
  readonly retryDelayMs?: number;
  /** Wall clock in ms; replaceable so tests can age records. */
  readonly clock?: () => number;
  /**
   * Stamps ApproximateCreationDateTime in whole seconds (DynamoDB Local rounds it to the minute).
   * Default: the stream's shared clock (stream-clock.ts), so every mapping of a stream agrees.
   */
  readonly streamClock?: StreamClock;
  readonly log?: (line: Record<string, unknown>) => void;
}

export interface EmulatorStats {
  invocations: number;
  failedInvocations: number;
  recordsCommitted: number;
  recordsDiscarded: number;
  onFailureMessages: number;
  /** Lambda's DestinationDeliveryFailures: sends to the on-failure destination that failed. */
  destinationDeliveryFailures: number;
  /** Lambda's DroppedEventCount: discarded records that reached no destination (none set, or its send failed). */
  recordsDropped: number;
  /** Lambda's IteratorAge: now minus the last record's ApproximateCreationDateTime, at invocation. */
  iteratorAgeMs: number;
  maxIteratorAgeMs: number;
  shardsFinished: number;
}

/** Lambda's synchronous invocation payload limit. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

interface ShardState {
  readonly info: ShardInfo;
  /** Where the reader starts with no checkpoint: LATEST only for shards open when a LATEST mapping first ran. */
  start: 'TRIM_HORIZON' | 'LATEST';
  iterator?: string;
  /** GetRecords gave no next iterator: the shard is closed and everything in it has been read. */
  readToEnd: boolean;
  /** An item's records always go to the same lane, so they stay in order. */
  readonly lanes: Lane[];
  /** The last record read into the lanes; the next iterator starts after it. */
  lastReadSeq?: string;
  /** After a pause: the lowest record not committed, where reading resumes (nothing read since). */
  resumeAt?: string;
  /** A reader loop runs for this shard. */
  reading: boolean;
  windowStart: number;
  /** performance.now() at the start of the latest poll that found nothing left to do. */
  idleSince: number;
  finished: boolean;
}

/**
 * A Lambda event source mapping for one DynamoDB stream, run in-process: shard discovery with
 * parent-before-child order, batching, partial batch responses, bisection, bounded retries,
 * maximum record age, an on-failure destination, ParallelizationFactor (up to that many batches of
 * one shard at once, in order per item) and Enabled (pause and resume at the checkpoint), as
 * documented for Lambda.
 */
export class EventSourceMappingEmulator {
  readonly settings: MappingSettings;
  readonly stats: EmulatorStats = {
    invocations: 0,
    failedInvocations: 0,
    recordsCommitted: 0,
    recordsDiscarded: 0,
    onFailureMessages: 0,
    destinationDeliveryFailures: 0,
    recordsDropped: 0,
    iteratorAgeMs: 0,
    maxIteratorAgeMs: 0,
    shardsFinished: 0,
  };
  private readonly shards = new Map<string, ShardState>();
  private discovery?: Promise<void>;
  private readers: Promise<void>[] = [];
  /** Readers run (set false first thing when pausing, so loops end after their current step). */
  private running = false;
  private started = false;
  private isEnabled: boolean;
  /** Starts and pauses, one after the other: a pause completes before the next start. */
  private transition: Promise<void> = Promise.resolve();
  private firstDiscovery = true;
  private lastDiscovery = -Infinity;
  /** Shards the last discovery listed but could not start yet (their parent is not drained). */
  private waitingShards = 0;
  private readonly clock: () => number;
  private readonly stamps: StreamClock;
  private readonly log: (line: Record<string, unknown>) => void;

  constructor(private readonly opts: EmulatorOptions) {
    this.settings = validateSettings({ ...LAMBDA_DEFAULTS, ...definedOnly(opts) });
    this.isEnabled = opts.enabled ?? true;
    this.clock = opts.clock ?? Date.now;
    this.stamps = opts.streamClock ?? streamClock(opts.streamArn, opts.region);
    this.log = opts.log ?? ((l) => console.error(JSON.stringify(l)));
  }

  get functionArn(): string {
    return this.opts.functionArn ?? `arn:aws:lambda:${this.opts.region}:000000000000:function:replicate`;
  }

  /** Lambda's Enabled. */
  get enabled(): boolean {
    return this.isEnabled;
  }

  /** Starts reading, if the mapping is enabled (a disabled one waits for `enable()`). */
  start(): this {
    this.started = true;
    void this.settle();
    return this;
  }

  /**
   * Stops reading (for good, or until `start()`), as `disable()` does but leaving Enabled as it is.
   * Resolves once invocations in flight have finished.
   */
  stop(): Promise<void> {
    this.started = false;
    return this.settle();
  }

  /**
   * Enabled=true: reading resumes at each unfinished shard's checkpoint, so records read but not
   * committed before the pause are delivered again (at least once) and none after it is lost. A
   * mapping that never ran starts now, at TRIM_HORIZON or LATEST as configured.
   */
  enable(): this {
    this.isEnabled = true;
    this.started = true;
    void this.settle();
    return this;
  }

  /**
   * Enabled=false: no more invocations; resolves once those in flight have finished. Each shard
   * keeps its checkpoint (its lowest record not committed, else its last one read).
   */
  disable(): Promise<void> {
    if (this.isEnabled && !this.stamps.watching) {
      this.log({ level: 'info', msg: 'mapping disabled on an unwatched stream: records written meanwhile get the second they are read after enable() as ApproximateCreationDateTime; watchStream() keeps their true second', streamArn: this.opts.streamArn });
    }
    this.isEnabled = false;
    return this.settle();
  }

  /** Resolves once every record written before the call has been committed or discarded. */
  async waitForIdle(timeoutMs = 30_000): Promise<void> {
    const since = performance.now();
    const deadline = since + timeoutMs;
    while (performance.now() < deadline) {
      if (!this.started || !this.isEnabled) throw new Error(`event source mapping is ${this.isEnabled ? 'stopped' : 'disabled'}: it delivers nothing until ${this.isEnabled ? 'start()' : 'enable()'}`);
      const shardsIdle = [...this.shards.values()].every((s) => s.finished || (buffered(s.lanes) === 0 && s.idleSince > since));
      if (this.lastDiscovery > since && this.waitingShards === 0 && this.shards.size > 0 && shardsIdle) return;
      await sleep(20);
    }
    throw new Error(`event source mapping not idle after ${timeoutMs} ms: ${JSON.stringify(this.stats)}`);
  }

  /** Brings the readers in line with started and Enabled, after any start or pause under way. */
  private settle(): Promise<void> {
    this.transition = this.transition.then(() => (this.started && this.isEnabled ? this.begin() : this.pause()));
    return this.transition;
  }

  private begin(): void {
    if (this.running) return;
    this.running = true;
    this.discovery = this.discoveryLoop();
  }

  private async pause(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.discovery;
    await Promise.all(this.readers);
    this.readers = [];
    for (const shard of this.shards.values()) if (!shard.finished) keepCheckpoint(shard);
  }

  private async discoveryLoop(): Promise<void> {
    while (this.running) {
      try {
        await this.discover();
      } catch (err) {
        this.log({ level: 'warn', msg: 'DescribeStream failed', error: String(err) });
      }
      await sleep(this.opts.discoveryIntervalMs ?? 1000, () => !this.running);
    }
  }

  private async discover(): Promise<void> {
    const describedAt = performance.now();
    const listed: (ShardInfo & { closed: boolean })[] = [];
    let ExclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription: d } = await this.opts.streams.send(new DescribeStreamCommand({ StreamArn: this.opts.streamArn, ExclusiveStartShardId }));
      for (const s of d?.Shards ?? []) {
        listed.push({ shardId: s.ShardId!, parentShardId: s.ParentShardId, closed: !!s.SequenceNumberRange?.EndingSequenceNumber });
      }
      ExclusiveStartShardId = d?.LastEvaluatedShardId;
    } while (ExclusiveStartShardId);
    if (!this.running) return;

    if (this.firstDiscovery && this.settings.startingPosition === 'LATEST') {
      // LATEST starts at the tip of the stream: a closed shard is all history, and an open one starts
      // at its tip whatever its parent (waiting for the parent would then read the child from its start).
      for (const s of listed) {
        const state = this.newShard(s);
        state.start = 'LATEST';
        state.finished = s.closed;
        this.shards.set(s.shardId, state);
      }
    }
    this.firstDiscovery = false;
    const finished = new Set([...this.shards].filter(([, s]) => s.finished).map(([id]) => id));
    for (const info of shardsReadyToStart(listed, new Set(this.shards.keys()), finished)) this.shards.set(info.shardId, this.newShard(info));
    // New shards, and after a pause every unfinished one: each reader resumes at its checkpoint.
    for (const shard of this.shards.values()) if (!shard.finished && !shard.reading) this.readers.push(this.shardLoop(shard));
    this.waitingShards = listed.filter((s) => !this.shards.has(s.shardId)).length;
    this.lastDiscovery = describedAt;
  }

  private newShard(s: ShardInfo): ShardState {
    const info = { shardId: s.shardId, parentShardId: s.parentShardId };
    return { info, start: 'TRIM_HORIZON', readToEnd: false, lanes: newLanes(this.settings.parallelizationFactor), reading: false, windowStart: 0, idleSince: -Infinity, finished: false };
  }

  private async shardLoop(shard: ShardState): Promise<void> {
    const poll = this.opts.pollIntervalMs ?? 250;
    shard.reading = true;
    try {
      while (this.running) {
        try {
          if (!shard.iterator && !shard.readToEnd) {
            shard.iterator = await this.iteratorFor(shard);
            if (!shard.iterator) shard.readToEnd = true;
          }
          const pollStart = performance.now();
          const capacity = this.settings.batchSize * shard.lanes.length;
          const polled = shard.iterator && buffered(shard.lanes) < capacity ? await this.read(shard) : false;
          if (buffered(shard.lanes) === 0) {
            if (shard.readToEnd) {
              shard.finished = true;
              this.stats.shardsFinished++;
              return;
            }
            if (!shard.iterator) continue; // expired or trimmed: take a new one now
            // Idle only after a read that worked: a shard is not idle before it holds its position.
            if (polled) shard.idleSince = pollStart;
            await sleep(poll, () => !this.running);
            continue;
          }
          const windowEnds = shard.windowStart + this.settings.maximumBatchingWindowInSeconds * 1000;
          const full = shard.lanes.some((l) => l.buffer.length >= this.settings.batchSize);
          if (!shard.readToEnd && !full && this.clock() < windowEnds) {
            await sleep(Math.min(poll, windowEnds - this.clock()), () => !this.running);
            continue;
          }
          await Promise.all(shard.lanes.filter((l) => l.buffer.length > 0).map((l) => this.deliverHead(shard, l)));
          shard.windowStart = this.clock();
        } catch (err) {
          // Lambda retries what fails before an invocation (GetShardIterator, say) until it works.
          this.log({ level: 'warn', msg: 'shard reader failed; retrying', shardId: shard.info.shardId, error: String(err) });
          await sleep(poll, () => !this.running);
        }
      }
    } finally {
      shard.reading = false;
    }
  }

  /** After the last record read; else at the checkpoint a pause left; else where the shard starts. */
  private async iteratorFor(shard: ShardState): Promise<string | undefined> {
    const position = shard.lastReadSeq
      ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, SequenceNumber: shard.lastReadSeq }
      : shard.resumeAt
        ? { ShardIteratorType: 'AT_SEQUENCE_NUMBER' as const, SequenceNumber: shard.resumeAt }
        : { ShardIteratorType: shard.start };
    try {
      const { ShardIterator } = await this.opts.streams.send(new GetShardIteratorCommand({ StreamArn: this.opts.streamArn, ShardId: shard.info.shardId, ...position }));
      return ShardIterator;
    } catch (err) {
      if ((err as Error).name !== 'TrimmedDataAccessException') throw err;
      // The position itself is past retention: like Lambda, go on from the oldest record left.
      this.log({ level: 'warn', msg: 'records trimmed before they were read; resuming at TRIM_HORIZON', shardId: shard.info.shardId });
      shard.lastReadSeq = undefined;
      shard.resumeAt = undefined;
      shard.start = 'TRIM_HORIZON';
      throw err;
    }
  }

  /** One GetRecords; false if it failed (an expired or trimmed iterator is dropped, to be taken again). */
  private async read(shard: ShardState): Promise<boolean> {
    let out;
    try {
      out = await this.opts.streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }));
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'ExpiredIteratorException') {
        if (!shard.lastReadSeq && !shard.resumeAt && shard.start === 'LATEST') {
          // Nothing read yet, so no position to resume from: Lambda takes LATEST again, never older history.
          this.log({ level: 'warn', msg: 'shard iterator expired before any record was read; re-acquired at LATEST, so records written while it was expired may be skipped', shardId: shard.info.shardId });
        }
        shard.iterator = undefined; // the loop takes a new one
        return false;
      }
      if (name === 'TrimmedDataAccessException') {
        // Retake the iterator at the position held; only a trimmed position moves it (iteratorFor).
        // DynamoDB Local also says this of live iterators now and then (aws-sdk-java#2923).
        shard.iterator = undefined;
        return false;
      }
      this.log({ level: 'warn', msg: 'GetRecords failed', shardId: shard.info.shardId, error: String(err) });
      await sleep(this.opts.pollIntervalMs ?? 250, () => !this.running);
      return false;
    }
    shard.iterator = out.NextShardIterator ?? undefined;
    if (!shard.iterator) shard.readToEnd = true;
    const records = out.Records ?? [];
    const stamps = this.stamps.stamp(shard.info.shardId, records);
    if (records.length > 0 && buffered(shard.lanes) === 0) shard.windowStart = this.clock();
    for (const [i, r] of records.entries()) {
      const rec = toLambdaRecord(r, this.opts.streamArn, this.opts.region);
      rec.dynamodb!.ApproximateCreationDateTime = stamps[i];
      const lane = shard.lanes[laneOf(rec.dynamodb!.Keys!, shard.lanes.length)]!;
      lane.buffer.push(rec);
      lane.sizes.push(Buffer.byteLength(JSON.stringify(rec)));
      shard.lastReadSeq = rec.dynamodb!.SequenceNumber;
      shard.resumeAt = undefined;
    }
    return true;
  }

  /** Invokes the function with the batch at the head of a lane and acts on the answer. */
  private async deliverHead(shard: ShardState, lane: Lane): Promise<void> {
    const s = this.settings;
    const limit = Math.min(lane.ranges[0] ?? s.batchSize, lane.buffer.length);
    let n = 0;
    for (let bytes = 0; n < limit && (n === 0 || bytes + lane.sizes[n]! <= MAX_PAYLOAD_BYTES); n++) bytes += lane.sizes[n]!;
    const batch = lane.buffer.slice(0, n);

    if (s.maximumRecordAgeInSeconds >= 0) {
      const tooOld = batch.filter((r) => this.clock() - r.dynamodb!.ApproximateCreationDateTime! * 1000 > s.maximumRecordAgeInSeconds * 1000);
      if (tooOld.length > 0) {
        const expired = batch.slice(0, batch.indexOf(tooOld[tooOld.length - 1]!) + 1);
        await this.discard(shard, lane, expired, 'RecordAgeExceeded', Math.max(1, lane.attempts));
        return;
      }
    }

    const seqs = batch.map((r) => r.dynamodb!.SequenceNumber!);
    let response: unknown;
    let thrown: unknown;
    this.stats.invocations++;
    const lastCreated = batch[batch.length - 1]!.dynamodb!.ApproximateCreationDateTime! * 1000;
    this.stats.iteratorAgeMs = Math.max(0, this.clock() - lastCreated);
    this.stats.maxIteratorAgeMs = Math.max(this.stats.maxIteratorAgeMs, this.stats.iteratorAgeMs);
    try {
      const event: DynamoDBStreamEvent = JSON.parse(JSON.stringify({ Records: batch }));
      response = JSON.parse(JSON.stringify((await this.opts.invoke(event)) ?? null));
    } catch (err) {
      thrown = err;
    }

    if (thrown !== undefined) {
      this.stats.failedInvocations++;
      this.log({ level: 'warn', msg: 'function error', shardId: shard.info.shardId, records: n, error: String(thrown) });
      if (s.bisectBatchOnFunctionError && n > 1) {
        const half = Math.ceil(n / 2);
        lane.ranges.splice(0, lane.ranges.length ? 1 : 0, half, n - half);
        return; // splitting does not count toward the retry quota
      }
      return this.retryOrDiscard(shard, lane, batch, 'Unhandled');
    }

    const verdict = readBatchResponse(response, seqs, s.reportBatchItemFailures);
    if (verdict.kind === 'success') {
      this.commit(lane, n);
      lane.attempts = 0;
      lane.ranges.shift();
      return;
    }
    this.stats.failedInvocations++;
    if (verdict.kind === 'failure') {
      this.log({ level: 'warn', msg: 'invalid batch response; whole batch failed', shardId: shard.info.shardId, reason: verdict.reason });
      return this.retryOrDiscard(shard, lane, batch, null);
    }
    const at = seqs.indexOf(verdict.seq);
    this.commit(lane, at);
    if (s.bisectBatchOnFunctionError) lane.ranges.splice(0, lane.ranges.length ? 1 : 0, n - at);
    else lane.ranges = [];
    return this.retryOrDiscard(shard, lane, batch.slice(at), null);
  }

  private async retryOrDiscard(shard: ShardState, lane: Lane, failed: DynamoDBRecord[], functionError: 'Unhandled' | null): Promise<void> {
    lane.attempts++;
    const max = this.settings.maximumRetryAttempts;
    if (max >= 0 && lane.attempts > max) {
      await this.discard(shard, lane, failed, 'RetryAttemptsExhausted', lane.attempts, functionError);
      return;
    }
    await sleep(this.opts.retryDelayMs ?? 100, () => !this.running);
  }

  private async discard(shard: ShardState, lane: Lane, records: DynamoDBRecord[], condition: DiscardCondition, invokeCount: number, functionError?: 'Unhandled' | null): Promise<void> {
    const shardId = shard.info.shardId;
    const first = records[0]?.dynamodb?.SequenceNumber;
    const last = records[records.length - 1]?.dynamodb?.SequenceNumber;
    let delivered = false;
    if (this.opts.onFailure) {
      const message = onFailureMessage({
        records,
        shardId,
        streamArn: this.opts.streamArn,
        functionArn: this.functionArn,
        condition,
        approximateInvokeCount: invokeCount,
        functionError,
        now: this.clock(),
      });
      try {
        await this.opts.onFailure.send(message);
        delivered = true;
        this.stats.onFailureMessages++;
      } catch (err) {
        // Lambda drops the records and goes on with the next batch (DestinationDeliveryFailures, DroppedEventCount).
        this.stats.destinationDeliveryFailures++;
        const keys = records.slice(0, 10).map((r) => r.dynamodb?.Keys);
        this.log({ level: 'warn', msg: 'on-failure destination delivery failed; records dropped', condition, shardId, records: records.length, first, last, keys, error: String(err) });
      }
    }
    if (!delivered) this.stats.recordsDropped += records.length;
    this.log({ level: 'warn', msg: 'records discarded', condition, shardId, records: records.length, first });
    this.stats.recordsDiscarded += records.length;
    this.advance(lane, records.length);
    lane.attempts = 0;
    lane.ranges.shift();
  }

  /** The first n records were processed successfully: they will not be delivered again. */
  private commit(lane: Lane, n: number): void {
    this.advance(lane, n);
    this.stats.recordsCommitted += n;
  }

  /** Moves the lane's checkpoint past its first n buffered records. */
  private advance(lane: Lane, n: number): void {
    lane.buffer.splice(0, n);
    lane.sizes.splice(0, n);
  }
}

/**
 * After a pause, a shard resumes at its lowest record not committed (read again: at least once);
 * with nothing buffered, after its last record read; with nothing read yet, at the iterator it
 * holds (a LATEST position taken earlier stays valid until the iterator expires, then see `read`).
 */
function keepCheckpoint(shard: ShardState): void {
  const lowest = lowestUncommitted(shard.lanes);
  if (lowest) {
    shard.resumeAt = lowest;
    shard.lastReadSeq = undefined;
    shard.iterator = undefined;
    shard.readToEnd = false;
  } else if (shard.lastReadSeq) {
    shard.iterator = undefined; // a new one after lastReadSeq: iterators expire
  }
  clearLanes(shard.lanes);
  shard.windowStart = 0;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Sleeps up to `ms`, waking early once `stop()` says so. */
async function sleep(ms: number, stop?: () => boolean): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, Math.min(50, end - performance.now())));
    if (stop?.()) return;
  }
}
