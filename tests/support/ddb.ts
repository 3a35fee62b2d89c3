import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { diffSnapshots, Difference, scanSnapshot } from '../../cli/snapshot';
import { toLambdaRecord } from '../../local/esm/stream-events';
import { LocalTableSpec } from '../../local/tables';

const clients = new Map<string, DynamoDBClient>();

/** A client of the run's DynamoDB Local for one region (each region is a separate database there). */
export function client(region: string): DynamoDBClient {
  let c = clients.get(region);
  if (!c) clients.set(region, (c = new DynamoDBClient({ region })));
  return c;
}

/** Forgets the clients made so far (after DynamoDB Local is replaced: they point at the old endpoint). */
export function resetClients(): void {
  for (const c of clients.values()) c.destroy();
  clients.clear();
}

let counter = 0;
export const uniqueName = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;

export function tableSpec(overrides: Partial<LocalTableSpec> = {}): LocalTableSpec {
  return {
    name: uniqueName('T'),
    partitionKey: { name: 'pk', type: 'S' },
    primaryRegion: 'us-east-1',
    replicaRegions: ['eu-west-1'],
    ...overrides,
  };
}

/** Reads a stream from where it last stopped and returns Lambda-shaped records, like an event. */
export class StreamTap {
  private readonly streams: DynamoDBStreamsClient;
  private readonly iterators = new Map<string, string | undefined>();
  private readonly lastSeq = new Map<string, string>();
  constructor(readonly streamArn: string, readonly region = 'us-east-1') {
    this.streams = new DynamoDBStreamsClient({ region });
  }

  private async iterator(shardId: string): Promise<string | undefined> {
    const after = this.lastSeq.get(shardId);
    const position = after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, SequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' as const };
    return (await this.streams.send(new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: shardId, ...position }))).ShardIterator;
  }

  async next(): Promise<DynamoDBRecord[]> {
    const { StreamDescription } = await this.streams.send(new DescribeStreamCommand({ StreamArn: this.streamArn }));
    const out: DynamoDBRecord[] = [];
    for (const shard of StreamDescription?.Shards ?? []) {
      const shardId = shard.ShardId!;
      let it = this.iterators.has(shardId) ? this.iterators.get(shardId) : await this.iterator(shardId);
      for (let trimmed = 0; it; ) {
        let page;
        try {
          page = await this.streams.send(new GetRecordsCommand({ ShardIterator: it }));
        } catch (err) {
          // DynamoDB Local now and then rejects a live iterator as trimmed (aws-sdk-java#2923):
          // a fresh one after the last record read goes on where this one stopped.
          if ((err as Error).name !== 'TrimmedDataAccessException' || ++trimmed > 5) throw err;
          it = await this.iterator(shardId);
          continue;
        }
        const records = page.Records ?? [];
        out.push(...records.map((r) => toLambdaRecord(r, this.streamArn, this.region)));
        if (records.length) this.lastSeq.set(shardId, records[records.length - 1]!.dynamodb!.SequenceNumber!);
        it = page.NextShardIterator;
        if (!records.length) break;
      }
      this.iterators.set(shardId, it);
    }
    return out;
  }

  async event(): Promise<{ Records: DynamoDBRecord[] }> {
    return { Records: await this.next() };
  }

  close(): void {
    this.streams.destroy();
  }
}

export async function diffTables(spec: LocalTableSpec, replicaRegion: string): Promise<Difference> {
  const keys = [spec.partitionKey.name, ...(spec.sortKey ? [spec.sortKey.name] : [])];
  const rules = { ttlAttribute: spec.ttlAttribute, nowSeconds: Math.floor(Date.now() / 1000) };
  const [source, replica] = await Promise.all([
    scanSnapshot(client(spec.primaryRegion), spec.name, keys, { rules }),
    scanSnapshot(client(replicaRegion), spec.name, keys, { rules }),
  ]);
  return diffSnapshots(source, replica);
}
