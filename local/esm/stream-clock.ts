import type { _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import { StreamWatcher, WatchOptions } from './stream-watch';

/** Streams keep records 24 hours; a stamp older than that belongs to a trimmed record. */
const RETENTION_SECONDS = 24 * 3600;

/**
 * ApproximateCreationDateTime as AWS gives it (epoch seconds, rounded down) for a DynamoDB Local
 * stream, whose own value is rounded down to the minute. A record is stamped with the wall-clock
 * second in which any reader of this clock first saw it, never earlier than DynamoDB Local's value.
 *
 * The stamp is never early (a record is seen only after it was written) and late by at most the
 * time between the write and the first read that returns it: one poll interval of the fastest
 * reader (50 ms for `watchStream`, the emulator's `pollIntervalMs` otherwise) plus the request's
 * latency. So a record written in the last moments of a second can carry the next second, which AWS
 * would not do. Records nobody read while they were written (a backlog written before any reader
 * started) are stamped when first read: watch a stream from its creation to avoid that.
 */
export class StreamClock {
  /** Per shard: sequence number -> stamp, in the order first seen (so the oldest come first). */
  private readonly shards = new Map<string, Map<string, number>>();
  private watcher?: StreamWatcher;

  constructor(
    readonly streamArn: string,
    readonly region: string,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Call with the records of one GetRecords answer of one shard, once the answer arrived: stamps
   * those not seen before and returns every record's ApproximateCreationDateTime, in order.
   */
  stamp(shardId: string, records: readonly StreamRecord[]): number[] {
    let stamps = this.shards.get(shardId);
    if (!stamps) this.shards.set(shardId, (stamps = new Map()));
    const nowSeconds = Math.floor(this.now() / 1000);
    const out = records.map((r) => {
      const seq = r.dynamodb?.SequenceNumber;
      const known = seq === undefined ? undefined : stamps.get(seq);
      if (known !== undefined) return known;
      const stamp = Math.max(nowSeconds, reportedSeconds(r));
      if (seq !== undefined) stamps.set(seq, stamp);
      return stamp;
    });
    for (const [seq, stamp] of stamps) {
      if (stamp >= nowSeconds - RETENTION_SECONDS) break;
      stamps.delete(seq);
    }
    return out;
  }

  /** The stamp of a record seen before, if any. */
  stampOf(shardId: string, sequenceNumber: string): number | undefined {
    return this.shards.get(shardId)?.get(sequenceNumber);
  }

  /** How many records carry a stamp. */
  get size(): number {
    let n = 0;
    for (const s of this.shards.values()) n += s.size;
    return n;
  }

  /** Reads the stream on its own (see `watchStream`); one watcher per clock, which `stop` ends for every caller. */
  watch(opts: WatchOptions = {}): StreamWatch {
    const watcher = (this.watcher ??= new StreamWatcher(this, opts));
    return { clock: this, stop: () => (this.watcher === watcher ? this.unwatch() : watcher.stop()), caughtUp: () => watcher.caughtUp() };
  }

  /** Stops the watcher, if any; resolves once its last request ended. The stamps stay. */
  async unwatch(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    await watcher?.stop();
  }

  get watching(): boolean {
    return this.watcher !== undefined;
  }
}

export interface StreamWatch {
  readonly clock: StreamClock;
  /** Stops the watcher (the clock keeps its stamps) and resolves once its last request ended. */
  stop(): Promise<void>;
  /** Resolves once every record written before the call carries a stamp. */
  caughtUp(): Promise<void>;
}

/** DynamoDB Local's own value, in epoch seconds (the SDK gives a Date). */
function reportedSeconds(r: StreamRecord): number {
  const t = r.dynamodb?.ApproximateCreationDateTime as Date | number | undefined;
  if (t instanceof Date) return Math.floor(t.getTime() / 1000);
  return typeof t === 'number' ? Math.floor(t) : 0;
}

/** One clock per stream in this process, so every reader of a stream stamps a record alike. */
const clocks = new Map<string, StreamClock>();

/**
 * The clock of a stream, shared by every emulator (and watcher) of it in this process. Keyed by
 * region and ARN: DynamoDB Local's ARNs name no region (`arn:aws:dynamodb:ddblocal:...`), so two
 * regions' tables of one name could otherwise share an ARN.
 */
export function streamClock(streamArn: string, region: string, now?: () => number): StreamClock {
  const key = `${region} ${streamArn}`;
  let clock = clocks.get(key);
  if (!clock) clocks.set(key, (clock = new StreamClock(streamArn, region, now)));
  return clock;
}

/**
 * Stamps a stream's records as they appear, independently of any emulator, so that a backlog
 * written before a mapping starts (or while it is disabled) keeps its true seconds. Polls every
 * shard every `intervalMs` (50 ms) with unref'd timers; call it when the table is created, and stop
 * it (or `stopStreamClocks()`) when done. Calling it again for a watched stream returns the same watcher.
 */
export function watchStream(streamArn: string, region: string, opts: WatchOptions & { readonly now?: () => number } = {}): StreamWatch {
  return streamClock(streamArn, region, opts.now).watch(opts);
}

/** Stops every watcher and forgets every clock (the tests' root hook and the local runtime call it at the end). */
export async function stopStreamClocks(): Promise<void> {
  const all = [...clocks.values()];
  clocks.clear();
  await Promise.all(all.map((c) => c.unwatch()));
}
