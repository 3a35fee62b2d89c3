import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { StreamClock } from './stream-clock';

export interface WatchOptions {
  /** Time between polls of every shard; a stamp is late by up to about this much. Default 50 ms. */
  readonly intervalMs?: number;
  /** Default: a client of its own for the clock's region (the SDK's endpoint settings apply). */
  readonly streams?: Pick<DynamoDBStreamsClient, 'send'>;
  readonly log?: (line: Record<string, unknown>) => void;
}

interface WatchedShard {
  iterator?: string;
  lastSeq?: string;
  /** Closed and read to its end. */
  done: boolean;
}

/** DescribeStream is needed only to find new shards: every this many polls, or when a shard closes. */
const DESCRIBE_EVERY = 10;
/** Pages read from one shard per poll, to catch up with a backlog quickly. */
const MAX_PAGES = 20;

/**
 * Reads every shard of a stream from TRIM_HORIZON and stamps each record on the clock as soon as it
 * appears. It only looks: it invokes nothing and keeps no records. Its timers are unref'd, so a
 * forgotten watcher does not keep the process alive.
 */
export class StreamWatcher {
  private readonly shards = new Map<string, WatchedShard>();
  private readonly streams: Pick<DynamoDBStreamsClient, 'send'>;
  private readonly ownClient?: DynamoDBStreamsClient;
  private readonly log: (line: Record<string, unknown>) => void;
  private stopped = false;
  private wake?: () => void;
  private lastError = '';
  private readonly done: Promise<void>;
  /** Polls completed, and those waiting for a poll that starts after they asked. */
  private polls = 0;
  private readonly waiters: { after: number; resolve: () => void }[] = [];

  constructor(
    private readonly clock: StreamClock,
    private readonly opts: WatchOptions = {},
  ) {
    if (opts.streams) this.streams = opts.streams;
    else this.streams = this.ownClient = new DynamoDBStreamsClient({ region: clock.region });
    this.log = opts.log ?? ((l) => console.error(JSON.stringify(l)));
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.done;
    this.ownClient?.destroy();
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** Resolves once a whole poll that started after the call has ended: every record written before it is stamped. */
  caughtUp(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ after: this.polls + 1, resolve });
      this.wake?.();
    });
  }

  private async run(): Promise<void> {
    const interval = this.opts.intervalMs ?? 50;
    for (let poll = 0, describe = true; !this.stopped; poll++) {
      try {
        if (describe || poll % DESCRIBE_EVERY === 0) await this.describe();
        describe = false;
        for (const [shardId, shard] of this.shards) {
          if (this.stopped) break;
          if (!shard.done && (await this.read(shardId, shard))) describe = true;
        }
        this.lastError = '';
        this.polls++;
        for (const w of this.waiters.filter((x) => this.polls > x.after)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
      } catch (err) {
        if ((err as Error).name === 'ResourceNotFoundException') {
          this.log({ level: 'warn', msg: 'stream watcher stopped: the stream is gone', streamArn: this.clock.streamArn });
          return;
        }
        // One line per distinct error, not one per poll.
        if (String(err) !== this.lastError) this.log({ level: 'warn', msg: 'stream watcher poll failed; retrying', streamArn: this.clock.streamArn, error: String(err) });
        this.lastError = String(err);
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, interval);
        timer.unref();
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async describe(): Promise<void> {
    let ExclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription: d } = await this.streams.send(new DescribeStreamCommand({ StreamArn: this.clock.streamArn, ExclusiveStartShardId }));
      for (const s of d?.Shards ?? []) if (!this.shards.has(s.ShardId!)) this.shards.set(s.ShardId!, { done: false });
      ExclusiveStartShardId = d?.LastEvaluatedShardId;
    } while (ExclusiveStartShardId);
  }

  /** Stamps what is new in one shard; true when the shard turned out closed (children may follow). */
  private async read(shardId: string, shard: WatchedShard): Promise<boolean> {
    for (let page = 0; page < MAX_PAGES && !this.stopped; page++) {
      if (!shard.iterator) {
        try {
          const { ShardIterator } = await this.streams.send(
            new GetShardIteratorCommand({
              StreamArn: this.clock.streamArn,
              ShardId: shardId,
              ...(shard.lastSeq ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: shard.lastSeq } : { ShardIteratorType: 'TRIM_HORIZON' }),
            }),
          );
          shard.iterator = ShardIterator;
        } catch (err) {
          // Only a position past retention moves the watch to the oldest record left.
          if ((err as Error).name !== 'TrimmedDataAccessException' || !shard.lastSeq) throw err;
          shard.lastSeq = undefined;
          continue;
        }
      }
      let out;
      try {
        out = await this.streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }));
      } catch (err) {
        const name = (err as Error).name;
        if (name !== 'ExpiredIteratorException' && name !== 'TrimmedDataAccessException') throw err;
        shard.iterator = undefined;
        continue;
      }
      const records = out.Records ?? [];
      this.clock.stamp(shardId, records);
      if (records.length > 0) shard.lastSeq = records[records.length - 1]!.dynamodb!.SequenceNumber;
      shard.iterator = out.NextShardIterator ?? undefined;
      if (!shard.iterator) {
        shard.done = true;
        return true;
      }
      if (records.length === 0) return false;
    }
    return false;
  }
}
