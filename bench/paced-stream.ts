import { DescribeStreamCommand, DescribeStreamCommandOutput, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, _Record } from '@aws-sdk/client-dynamodb-streams';

/**
 * A stream whose records arrive at a fixed rate: the records of a backlog, read from DynamoDB
 * Local's stream beforehand, each readable from its release time on (`startedAt + i / rate`).
 * The event source mapping reads it as it reads a stream, so what it and the function do at that
 * arrival rate is measured without DynamoDB Local in the way: on this 2-core machine it peaks near
 * 1,000 writes a second, so live writes at that rate would measure the engine, and its GetRecords
 * of 1,000 records between batches would count against the function.
 */
export class PacedStream {
  startedAt = 0;
  private constructor(
    private readonly description: DescribeStreamCommandOutput['StreamDescription'],
    private readonly shardId: string,
    readonly records: readonly _Record[],
    private readonly perSecond: number,
    private readonly now: () => number,
  ) {}

  /** Reads the whole (one-shard) stream of `streamArn`: `count` records, all of them written already. */
  static async load(streams: DynamoDBStreamsClient, streamArn: string, count: number, perSecond: number, now = Date.now): Promise<PacedStream> {
    const { StreamDescription: d } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const shardId = d?.Shards?.[0]?.ShardId;
    if (!shardId || d.Shards!.length !== 1) throw new Error(`the paced stream needs a stream of one shard: ${streamArn} has ${d?.Shards?.length ?? 0}`);
    const records: _Record[] = [];
    let it = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (it && records.length < count) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1000 }));
      if (!page.Records?.length) break; // an open shard read to its end
      records.push(...page.Records);
      it = page.NextShardIterator;
    }
    if (records.length !== count) throw new Error(`the stream held ${records.length} records, not the ${count} written`);
    return new PacedStream(d, shardId, records, perSecond, now);
  }

  /** The same records, arriving at another rate. */
  at(perSecond: number): PacedStream {
    return new PacedStream(this.description, this.shardId, this.records, perSecond, this.now);
  }

  /** Starts the clock: record i is readable from `now + i / rate` on. */
  start(): this {
    this.startedAt = this.now();
    return this;
  }

  /** When record i arrives; all at the start for a rate of Infinity (a backlog). */
  releasedAt(i: number): number {
    return this.perSecond === Infinity ? this.startedAt : this.startedAt + (i * 1000) / this.perSecond;
  }

  private released(): number {
    if (!this.startedAt) return 0;
    if (this.perSecond === Infinity) return this.records.length;
    return Math.min(this.records.length, Math.floor(((this.now() - this.startedAt) * this.perSecond) / 1000) + 1);
  }

  /** The streams client the mapping reads with (DescribeStream, GetShardIterator, GetRecords). */
  readonly client: Pick<DynamoDBStreamsClient, 'send'> = {
    send: (async (command: unknown) => {
      if (command instanceof DescribeStreamCommand) return { StreamDescription: this.description };
      if (command instanceof GetShardIteratorCommand) {
        const { ShardIteratorType: type, SequenceNumber: seq } = command.input;
        const at = (s: string | undefined) => {
          const i = this.records.findIndex((r) => r.dynamodb?.SequenceNumber === s);
          if (i < 0) throw new Error(`no record ${s} in the paced stream`);
          return i;
        };
        const position = type === 'TRIM_HORIZON' ? 0 : type === 'LATEST' ? this.released() : type === 'AT_SEQUENCE_NUMBER' ? at(seq) : at(seq) + 1;
        return { ShardIterator: `${this.shardId}/${position}` };
      }
      if (command instanceof GetRecordsCommand) {
        const from = Number(command.input.ShardIterator!.split('/').pop());
        const to = Math.max(from, Math.min(this.released(), from + (command.input.Limit ?? 1000)));
        return { Records: this.records.slice(from, to), NextShardIterator: `${this.shardId}/${to}` };
      }
      throw new Error(`the paced stream does not answer ${(command as object).constructor.name}`);
    }) as DynamoDBStreamsClient['send'],
  };
}
