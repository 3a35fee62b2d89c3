import { strict as assert } from 'node:assert';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { StreamClock, streamClock, watchStream } from '../../local/esm/stream-clock';
import { startLocalReplication } from '../../local/pipeline';
import { createRegionalTable } from '../../local/tables';
import { client, tableSpec } from '../support/ddb';
import { cleanups, REGION, runCleanups, sleep, until } from '../support/emulator-setup';

/** A record as the Streams SDK returns it from DynamoDB Local: created at the minute. */
const rec = (seq: string, minuteMs = 1_700_000_040_000): _Record => ({ dynamodb: { SequenceNumber: seq, ApproximateCreationDateTime: new Date(minuteMs) } });

describe('stream clock', () => {
  afterEach(runCleanups);

  it('stamps a record with the second it is first seen, and keeps that stamp', () => {
    let now = 1_700_000_075_900;
    const clock = new StreamClock('arn', REGION, () => now);
    assert.deepEqual(clock.stamp('s1', [rec('01'), rec('02')]), [1_700_000_075, 1_700_000_075]);
    now += 3000;
    assert.deepEqual(clock.stamp('s1', [rec('02'), rec('03')]), [1_700_000_075, 1_700_000_078]);
    assert.equal(clock.stampOf('s1', '03'), 1_700_000_078);
    assert.equal(clock.stampOf('s2', '03'), undefined, 'shards are apart');
    assert.equal(clock.size, 3);
  });

  it("is never earlier than DynamoDB Local's own value", () => {
    const clock = new StreamClock('arn', REGION, () => 1_700_000_000_000);
    assert.deepEqual(clock.stamp('s1', [rec('01', 1_700_000_040_000)]), [1_700_000_040]);
  });

  it('forgets stamps older than the 24 hours a stream keeps records', () => {
    let now = 1_700_000_060_000;
    const clock = new StreamClock('arn', REGION, () => now);
    clock.stamp('s1', [rec('01'), rec('02')]);
    now += 24 * 3600_000 + 2000;
    clock.stamp('s1', [rec('03')]);
    assert.equal(clock.size, 1);
    assert.equal(clock.stampOf('s1', '03'), 1_700_086_462);
  });

  it('is one per stream and region in the process', () => {
    assert.equal(streamClock('arn:x', 'us-east-1'), streamClock('arn:x', 'us-east-1'));
    assert.notEqual(streamClock('arn:x', 'us-east-1'), streamClock('arn:x', 'eu-west-1'));
    assert.notEqual(streamClock('arn:x', 'us-east-1'), streamClock('arn:y', 'us-east-1'));
  });

  it('watches a stream on its own on DynamoDB Local, and stops when asked', async () => {
    const spec = tableSpec();
    const streamArn = await createRegionalTable(client(REGION), spec);
    let calls = 0;
    const real = new DynamoDBStreamsClient({ region: REGION });
    cleanups.push(async () => real.destroy());
    const streams = { send: ((c: never) => (calls++, real.send(c))) as DynamoDBStreamsClient['send'] };
    const watch = watchStream(streamArn, REGION, { streams });
    cleanups.push(watch.stop);
    assert.equal(watchStream(streamArn, REGION).clock, watch.clock, 'one watcher per stream');
    const put = (pk: string) => client(REGION).send(new PutItemCommand({ TableName: spec.name, Item: { pk: { S: pk } } }));

    const before = Date.now();
    await put('a');
    await until(() => watch.clock.size === 1, 'the watcher stamped the record');
    const seen = Date.now();
    const { StreamDescription } = await real.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const shardId = StreamDescription!.Shards![0]!.ShardId!;
    const { ShardIterator } = await real.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
    const { Records } = await real.send(new GetRecordsCommand({ ShardIterator }));
    const stamp = watch.clock.stampOf(shardId, Records![0]!.dynamodb!.SequenceNumber!);
    assert.ok(stamp! >= Math.floor(before / 1000) && stamp! <= Math.floor(seen / 1000), `${stamp}`);

    await watch.stop();
    assert.equal(watch.clock.watching, false);
    const after = calls;
    await put('b');
    await sleep(300); // six poll intervals: a running watcher would have asked by now
    assert.equal(calls, after, 'no request after stop');
    assert.equal(watch.clock.size, 1);
  });

  it('is watched by startLocalReplication with watchStream: true, until stop()', async () => {
    const table = tableSpec();
    const replication = await startLocalReplication({ table, clientFor: client, watchStream: true, emulator: { log: () => undefined }, handlerDeps: { log: () => undefined } });
    try {
      assert.equal(replication.clock.watching, true);
      await client(REGION).send(new PutItemCommand({ TableName: table.name, Item: { pk: { S: 'w' } } }));
      await until(() => replication.clock.size === 1, 'the record is stamped');
    } finally {
      await replication.stop();
    }
    assert.equal(replication.clock.watching, false);
  });
});
