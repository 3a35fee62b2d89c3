import { strict as assert } from 'node:assert';
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { tableContext } from '../../cli/context';
import { linkSlot } from '../../config/links';
import { linkNames } from '../../config/names';
import { redrive } from '../../cli/redrive';
import { localEndpoint } from '../support/setup';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { startLocalReplication } from '../../local/pipeline';
import { SqsDestination, startLocalSqs } from '../../local/sqs';
import { client } from '../support/ddb';
import { project } from './support';

describe('ddb-replicator redrive (DynamoDB Local + local SQS)', function () {
  this.timeout(120_000);
  let sqsServer: Awaited<ReturnType<typeof startLocalSqs>>;
  let sqs: SQSClient;
  before(async () => {
    sqsServer = await startLocalSqs();
    sqs = new SQSClient({ region: 'us-east-1', endpoint: sqsServer.endpoint });
  });
  after(async () => {
    sqs.destroy();
    await sqsServer.stop();
  });

  it('repairs a batch the emulator sent to the on-failure queue, and only then deletes its message', async () => {
    const p = project();
    try {
      const table = { name: p.table, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] };
      const dlq = await SqsDestination.create(sqs, linkNames(p.table, "us-east-1", linkSlot("eu-west-1")).queueName);
      // The function fails for every batch holding "poison": after its retries the batch lands in the DLQ.
      const replication = await startLocalReplication({
        table,
        clientFor: client,
        onFailure: dlq,
        mapping: { batchSize: 10, maximumRetryAttempts: 1, bisectBatchOnFunctionError: true },
        emulator: { pollIntervalMs: 20, discoveryIntervalMs: 100, retryDelayMs: 5, log: () => undefined },
        handlerDeps: { log: () => undefined },
        wrapInvoke: (invoke) => async (event: DynamoDBStreamEvent) => {
          if (event.Records.some((r) => r.dynamodb?.Keys?.pk?.S === 'poison')) throw new Error('injected');
          return invoke(event);
        },
      });
      const source = client('us-east-1');
      for (let i = 0; i < 5; i++) await source.send(new PutItemCommand({ TableName: p.table, Item: { pk: { S: `ok-${i}` }, v: { N: String(i) } } }));
      await source.send(new PutItemCommand({ TableName: p.table, Item: { pk: { S: 'poison' }, v: { N: '1' } } }));
      await source.send(new UpdateItemCommand({ TableName: p.table, Key: { pk: { S: 'poison' } }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: '2' } } }));
      await replication.emulator.waitForIdle(60_000);
      await replication.stop();
      assert.ok(replication.emulator.stats.onFailureMessages >= 1);
      const outOfSync = await p.run('verify');
      assert.match(outOfSync.text, /1 missing/);

      const dry = await p.run('redrive', '--sqs-endpoint', sqsServer.endpoint, '--dry-run');
      assert.equal(dry.code, 0, dry.text);
      assert.match(dry.text, /would-repair \(1 item\(s\)\)/);
      assert.match((await p.run('verify')).text, /1 missing/, 'a dry run changes nothing');

      const done = await p.run('redrive', '--sqs-endpoint', sqsServer.endpoint);
      assert.equal(done.code, 0, done.text);
      assert.match(done.text, /repaired and deleted/);
      assert.equal((await p.run('verify')).code, 0);
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      assert.equal(Number(Attributes!.ApproximateNumberOfMessages) + Number(Attributes!.ApproximateNumberOfMessagesNotVisible), 0);
    } finally {
      p.remove();
    }
  });

  it('keeps messages it cannot act on, and points batches past retention to reconcile', async () => {
    const p = project();
    try {
      const table = { name: p.table, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] };
      const replication = await startLocalReplication({ table, clientFor: client, emulator: { log: () => undefined }, handlerDeps: { log: () => undefined } });
      await replication.stop();
      const dlq = await SqsDestination.create(sqs, linkNames(p.table, "us-east-1", linkSlot("eu-west-1")).queueName);
      await sqs.send(new SendMessageCommand({ QueueUrl: dlq.queueUrl, MessageBody: 'not json' }));
      const old = { DDBStreamBatchInfo: { shardId: 'shardId-1', startSequenceNumber: '1', endSequenceNumber: '2', approximateArrivalOfFirstRecord: '2020-01-01T00:00:00Z', batchSize: 2, streamArn: replication.streamArn } };
      await sqs.send(new SendMessageCommand({ QueueUrl: dlq.queueUrl, MessageBody: JSON.stringify(old) }));
      const out = await p.run('redrive', '--sqs-endpoint', sqsServer.endpoint, '--queue-url', dlq.queueUrl);
      assert.equal(out.code, 1);
      assert.match(out.text, /unreadable - not a Lambda on-failure message for a DynamoDB stream/);
      assert.match(out.text, /past-retention - records 1\.\.2 are no longer in the stream \(24 h retention\): run `ddb-replicator reconcile`/);
    } finally {
      p.remove();
    }
  });

  it('reads past empty pages to the end of the batch, and keeps a message whose records never come', async () => {
    const p = project();
    try {
      const table = { name: p.table, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] };
      const replication = await startLocalReplication({ table, clientFor: client, emulator: { log: () => undefined }, handlerDeps: { log: () => undefined } });
      await replication.stop(); // tables only: the items below are never replicated
      const source = client('us-east-1');
      for (const pk of ['x', 'y']) await source.send(new PutItemCommand({ TableName: p.table, Item: { pk: { S: pk }, v: { N: '1' } } }));
      const streams = new DynamoDBStreamsClient({ region: 'us-east-1' });
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: replication.streamArn }));
      const shardId = StreamDescription!.Shards![0]!.ShardId!;
      const it = (await streams.send(new GetShardIteratorCommand({ StreamArn: replication.streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      const records = (await streams.send(new GetRecordsCommand({ ShardIterator: it }))).Records!;
      const info = { shardId, startSequenceNumber: records[0]!.dynamodb!.SequenceNumber!, endSequenceNumber: records[1]!.dynamodb!.SequenceNumber!, approximateArrivalOfFirstRecord: new Date().toISOString(), batchSize: 2, streamArn: replication.streamArn };
      const dlq = await SqsDestination.create(sqs, linkNames(p.table, "us-east-1", linkSlot("eu-west-1")).queueName);
      await sqs.send(new SendMessageCommand({ QueueUrl: dlq.queueUrl, MessageBody: JSON.stringify({ DDBStreamBatchInfo: info }) }));

      // DynamoDB Local never returns an empty page mid-shard; the real service may. Inject them into the real client's answers.
      const emptyPages = (count: number) => ({
        send: async (cmd: object) => {
          if (cmd instanceof GetRecordsCommand && count-- > 0) return { Records: [], NextShardIterator: cmd.input.ShardIterator };
          return streams.send(cmd as never);
        },
      });
      const ctx = tableContext({ stack: 'test', endpoint: localEndpoint(), projectDir: p.dir });
      try {
        const never = await redrive(ctx, { sqs, streams: emptyPages(Infinity) as never, queueUrls: [dlq.queueUrl], dryRun: false });
        assert.deepEqual(never.map((r) => r.outcome), ['failed']);
        assert.match(never[0]!.detail!, /the stream gave no record up to \d+ \(0 item\(s\) read\); message kept for another redrive/);
        const done = await redrive(ctx, { sqs, streams: emptyPages(3) as never, queueUrls: [dlq.queueUrl], dryRun: false });
        assert.deepEqual(done.map((r) => [r.outcome, r.items]), [['repaired', 2]]);
        assert.equal((await p.run('verify')).code, 0);
      } finally {
        ctx.close();
        streams.destroy();
      }
    } finally {
      p.remove();
    }
  });
});
