import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { _Record } from '@aws-sdk/client-dynamodb-streams';

interface FakeShard {
  readonly id: string;
  readonly parent?: string;
  readonly records: _Record[];
  closed: boolean;
}

/**
 * An in-memory DynamoDB stream with the shard lineage DynamoDB Local never produces (it keeps one
 * open shard per stream): closed parents and their children. Enough of DescribeStream,
 * GetShardIterator and GetRecords for the emulator.
 */
export class FakeStream {
  readonly arn: string;
  private readonly shards: FakeShard[] = [];
  private seq = 100_000_000_000_000_000_000n;

  constructor(name: string) {
    this.arn = `arn:aws:dynamodb:us-east-1:000000000000:table/${name}/stream/2026-01-01T00:00:00.000`;
  }

  addShard(id: string, parent?: string): this {
    this.shards.push({ id, parent, records: [], closed: false });
    return this;
  }

  put(shardId: string, pk: string): this {
    const shard = this.shard(shardId);
    if (shard.closed) throw new Error(`shard ${shardId} is closed`);
    const Keys = { pk: { S: pk } };
    const SequenceNumber = String(++this.seq);
    shard.records.push({ eventID: SequenceNumber, eventName: 'INSERT', eventVersion: '1.1', eventSource: 'aws:dynamodb', dynamodb: { ApproximateCreationDateTime: new Date(), Keys, NewImage: Keys, SequenceNumber, SizeBytes: 10, StreamViewType: 'NEW_AND_OLD_IMAGES' } });
    return this;
  }

  close(shardId: string): this {
    this.shard(shardId).closed = true;
    return this;
  }

  readonly client: Pick<DynamoDBStreamsClient, 'send'> = {
    send: (async (command: unknown) => {
      if (command instanceof DescribeStreamCommand) {
        const Shards = this.shards.map((s) => ({
          ShardId: s.id,
          ParentShardId: s.parent,
          SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: s.closed ? (s.records.at(-1)?.dynamodb?.SequenceNumber ?? '1') : undefined },
        }));
        return { StreamDescription: { StreamArn: this.arn, Shards } };
      }
      if (command instanceof GetShardIteratorCommand) {
        const { ShardId, ShardIteratorType: type, SequenceNumber } = command.input;
        const records = this.shard(ShardId!).records;
        const at = records.findIndex((r) => r.dynamodb!.SequenceNumber === SequenceNumber);
        const index = type === 'TRIM_HORIZON' ? 0 : type === 'LATEST' ? records.length : type === 'AT_SEQUENCE_NUMBER' ? at : at + 1;
        return { ShardIterator: `${ShardId}|${index}` };
      }
      if (command instanceof GetRecordsCommand) {
        const [id, index] = command.input.ShardIterator!.split('|');
        const shard = this.shard(id!);
        const Records = shard.records.slice(Number(index));
        const end = shard.records.length;
        return { Records, NextShardIterator: shard.closed ? undefined : `${id}|${end}` };
      }
      throw new Error(`FakeStream does not answer ${(command as object).constructor.name}`);
    }) as DynamoDBStreamsClient['send'],
  };

  private shard(id: string): FakeShard {
    const s = this.shards.find((x) => x.id === id);
    if (!s) throw new Error(`no shard ${id}`);
    return s;
  }
}
