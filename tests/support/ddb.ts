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
  constructor(readonly streamArn: string, readonly region = 'us-east-1') {
    this.streams = new DynamoDBStreamsClient({ region });
  }

  async next(): Promise<DynamoDBRecord[]> {
    const { StreamDescription } = await this.streams.send(new DescribeStreamCommand({ StreamArn: this.streamArn }));
    const out: DynamoDBRecord[] = [];
    for (const shard of StreamDescription?.Shards ?? []) {
      let it = this.iterators.has(shard.ShardId!)
        ? this.iterators.get(shard.ShardId!)
        : (await this.streams.send(new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      while (it) {
        const page = await this.streams.send(new GetRecordsCommand({ ShardIterator: it }));
        out.push(...(page.Records ?? []).map((r) => toLambdaRecord(r, this.streamArn, this.region)));
        it = page.NextShardIterator;
        if (!page.Records?.length) break;
      }
      this.iterators.set(shard.ShardId!, it);
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
