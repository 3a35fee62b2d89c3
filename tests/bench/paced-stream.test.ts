import { strict as assert } from 'node:assert';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { PacedStream } from '../../bench/paced-stream';
import { createRegionalTable } from '../../local/tables';
import { client, tableSpec } from '../support/ddb';

const REGION = 'us-east-1';

describe('npm run bench: the paced stream the Lambda-shaped runs read (DynamoDB Local)', () => {
  let streamArn: string;
  const streams = new DynamoDBStreamsClient({ region: REGION });
  after(() => streams.destroy());
  before(async () => {
    const spec = tableSpec();
    streamArn = await createRegionalTable(client(REGION), spec);
    for (let i = 0; i < 25; i++) await client(REGION).send(new PutItemCommand({ TableName: spec.name, Item: { pk: { S: `k${i}` } } }));
  });

  const records = async (s: PacedStream, iterator: string | undefined) => {
    const out = await s.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10 }));
    return { keys: (out.Records ?? []).map((r) => r.dynamodb!.Keys!.pk!.S), next: out.NextShardIterator };
  };

  it('holds the stream\'s records and lets them through at the rate, in order, from where an iterator points', async () => {
    let now = 1_000_000;
    const s = await PacedStream.load(streams, streamArn, 25, 100, () => now);
    const first = (await s.client.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: 'x', ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    assert.deepEqual((await records(s, first)).keys, [], 'nothing before the start');
    s.start();
    let page = await records(s, first);
    assert.deepEqual(page.keys, ['k0'], 'the first record at once');
    now += 45; // 100 a second: four more by 45 ms
    page = await records(s, page.next);
    assert.deepEqual(page.keys, ['k1', 'k2', 'k3', 'k4']);
    now += 1000;
    page = await records(s, page.next);
    assert.deepEqual(page.keys, ['k5', 'k6', 'k7', 'k8', 'k9', 'k10', 'k11', 'k12', 'k13', 'k14'], 'at most Limit');
    assert.equal(s.releasedAt(10) - s.releasedAt(0), 100);
    const after = await s.client.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: 'x', ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: s.records[20]!.dynamodb!.SequenceNumber }));
    assert.deepEqual((await records(s, after.ShardIterator)).keys, ['k21', 'k22', 'k23', 'k24']);
  });

  it('lets a backlog through at once at a rate of Infinity, and refuses a stream that holds other than the records written', async () => {
    const s = (await PacedStream.load(streams, streamArn, 25, Infinity)).start();
    const it = (await s.client.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: 'x', ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    assert.equal((await s.client.send(new GetRecordsCommand({ ShardIterator: it }))).Records?.length, 25);
    assert.equal(s.releasedAt(24), s.startedAt);
    const slow = s.at(100).start();
    assert.equal(slow.records, s.records, 'the same records, not read again');
    assert.equal((await slow.client.send(new GetRecordsCommand({ ShardIterator: it }))).Records?.length, 1, 'at their own rate');
    await assert.rejects(PacedStream.load(streams, streamArn, 30, 100), /the stream held 25 records, not the 30 written/);
  });
});
