import { strict as assert } from 'node:assert';
import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TableContext, tableContext } from '../../cli/context';
import { linkSlot } from '../../config/links';
import { linkNames } from '../../config/names';
import { redrive, redriveExitCode, RedriveOptions, renderRedrive } from '../../cli/redrive';
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
  let streams: DynamoDBStreamsClient;
  before(async () => {
    sqsServer = await startLocalSqs();
    sqs = new SQSClient({ region: 'us-east-1', endpoint: sqsServer.endpoint });
    streams = new DynamoDBStreamsClient({ region: 'us-east-1' });
  });
  after(async () => {
    sqs.destroy();
    streams.destroy();
    await sqsServer.stop();
  });

  /** The queue's messages, visible and hidden. */
  const depth = async (QueueUrl: string) => {
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return { visible: Number(Attributes!.ApproximateNumberOfMessages), hidden: Number(Attributes!.ApproximateNumberOfMessagesNotVisible) };
  };
  const withContext = async (p: ReturnType<typeof project>, body: (ctx: TableContext) => Promise<void>) => {
    const ctx = tableContext({ stack: 'test', endpoint: localEndpoint(), projectDir: p.dir });
    try {
      await body(ctx);
    } finally {
      ctx.close();
    }
  };
  const run = (ctx: TableContext, opts: Partial<RedriveOptions> = {}) => redrive(ctx, { sqs, streams, dryRun: false, ...opts });

  /** A table whose "poison" item the function always fails: after its retries the batch lands in the DLQ. */
  async function poisoned(p: ReturnType<typeof project>) {
    const table = { name: p.table, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] };
    const dlq = await SqsDestination.create(sqs, linkNames(p.table, 'us-east-1', linkSlot('eu-west-1')).queueName);
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
    const messages = replication.emulator.stats.onFailureMessages;
    assert.ok(messages >= 1);
    return { dlq, messages };
  }

  it('repairs a batch the emulator sent to the on-failure queue, and only then deletes its message', async () => {
    const p = project();
    try {
      const { dlq, messages } = await poisoned(p);
      assert.match((await p.run('verify')).text, /1 missing/);
      await withContext(p, async (ctx) => {
        const dry = await run(ctx, { dryRun: true });
        assert.equal(redriveExitCode(dry), 0);
        assert.match(renderRedrive(dry), /would-repair \(1 item\(s\)\) \[discarded: RetryAttemptsExhausted\]/);
        assert.equal(dry.messages.length, messages);
        assert.ok(dry.messages.every((m) => m.outcome === 'would-repair' && m.message === 'visible'));
        assert.deepEqual(await depth(dlq.queueUrl), { visible: messages, hidden: 0 }, 'a dry run leaves the messages as it found them');
        assert.match((await p.run('verify')).text, /1 missing/, 'a dry run changes nothing');

      });
      const done = await p.exec('redrive', '--sqs-endpoint', sqsServer.endpoint);
      assert.equal(done.code, 0, done.text + done.err);
      assert.match(done.text, /repaired \(1 item\(s\)\) \[discarded: RetryAttemptsExhausted\]/);
      assert.match(done.text, new RegExp(`${messages} message\\(s\\): ${messages} repaired and deleted`));
      assert.equal((await p.run('verify')).code, 0);
      assert.deepEqual(await depth(dlq.queueUrl), { visible: 0, hidden: 0 });
    } finally {
      p.remove();
    }
  });

  it('names the item writes that failed (key as DynamoDB JSON, region, error), leaves the message visible, and a rerun repairs it', async () => {
    const p = project();
    try {
      const { dlq, messages } = await poisoned(p);
      await withContext(p, async (ctx) => {
        // The replica refuses reads, as a throttled or unreachable replica would answer.
        const refusing = { send: async () => Promise.reject(Object.assign(new Error('injected refusal'), { name: 'ProvisionedThroughputExceededException' })) };
        const broken: TableContext = { ...ctx, client: (region) => (region === 'eu-west-1' ? (refusing as never) : ctx.client(region)) };
        const failed = await run(broken);
        assert.equal(redriveExitCode(failed), 1);
        assert.equal(failed.messages.length, messages);
        for (const m of failed.messages) {
          assert.equal(m.outcome, 'failed');
          assert.deepEqual(m.failures, [{ region: 'eu-west-1', key: { pk: { S: 'poison' } }, error: 'ProvisionedThroughputExceededException: injected refusal' }]);
          assert.equal(m.message, 'visible');
        }
        const text = renderRedrive(failed);
        assert.match(text, /failed \(1 item\(s\)\) \[discarded: RetryAttemptsExhausted\] - 1 item write\(s\) failed, first \{"pk":\{"S":"poison"\}\} on eu-west-1: ProvisionedThroughputExceededException: injected refusal; rerun redrive/);
        assert.match(text, /message left in the queue, visible for the next run/);
        assert.doesNotMatch(JSON.stringify(failed), /"N":"2"|"v"/, 'no item values');
        assert.deepEqual(await depth(dlq.queueUrl), { visible: messages, hidden: 0 }, 'visible at once, not after the hiding timeout');

        const again = await run(ctx);
        const ids = (r: typeof again) => r.messages.map((x) => x.messageId).sort();
        assert.deepEqual(ids(again), ids(failed), 'the rerun sees every failed message');
        assert.ok(again.messages.every((x) => x.outcome === 'repaired' && x.message === 'deleted'));
      });
      assert.equal((await p.run('verify')).code, 0);
      assert.equal((await client('eu-west-1').send(new GetItemCommand({ TableName: p.table, Key: { pk: { S: 'poison' } } }))).Item?.v?.N, '2');
    } finally {
      p.remove();
    }
  });

  it('keeps messages it cannot act on visible, with the reason for each: unreadable, another table, past retention', async () => {
    const p = project();
    try {
      const table = { name: p.table, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] };
      const replication = await startLocalReplication({ table, clientFor: client, emulator: { log: () => undefined }, handlerDeps: { log: () => undefined } });
      await replication.stop();
      const dlq = await SqsDestination.create(sqs, linkNames(p.table, 'us-east-1', linkSlot('eu-west-1')).queueName);
      const info = (over: object) => JSON.stringify({ DDBStreamBatchInfo: { shardId: 'shardId-1', startSequenceNumber: '1', endSequenceNumber: '2', approximateArrivalOfFirstRecord: new Date().toISOString(), batchSize: 2, streamArn: replication.streamArn, ...over } });
      for (const MessageBody of ['not json', '{"hello":1}', info({ approximateArrivalOfFirstRecord: '2020-01-01T00:00:00Z' }), info({ streamArn: replication.streamArn.replace(`table/${p.table}/`, 'table/Other/') })]) {
        await sqs.send(new SendMessageCommand({ QueueUrl: dlq.queueUrl, MessageBody }));
      }
      // The command twice, as an operator would: the second run sees every message again, and both exit 1.
      const text = await p.exec('redrive', '--sqs-endpoint', sqsServer.endpoint, '--queue-url', dlq.queueUrl);
      assert.equal(text.code, 1, text.text + text.err);
      assert.match(text.text, /unreadable - not a Lambda on-failure message for a DynamoDB stream \(its body is not JSON\)/);
      assert.match(text.text, /unreadable - not a Lambda on-failure message for a DynamoDB stream \(it has no DDBStreamBatchInfo\)/);
      assert.match(text.text, /past-retention - records 1\.\.2 of shard shardId-1 arrived 2020-01-01T00:00:00Z, past the stream's 24 h retention: run `ddb-replicator reconcile`/);
      assert.match(text.text, /unreadable - the batch is from table Other's stream, not .*'s: rerun with --table Other/);
      assert.equal(text.text.match(/message left in the queue, visible for the next run/g)?.length, 4);
      const again = await p.exec('redrive', '--sqs-endpoint', sqsServer.endpoint, '--queue-url', dlq.queueUrl, '--json');
      assert.equal(again.code, 1);
      const json = JSON.parse(again.text);
      assert.deepEqual(Object.keys(json), ['command', 'table', 'ok', 'exitCode', 'dryRun', 'interrupted', 'messages', 'failures']);
      assert.deepEqual([json.command, json.table, json.ok, json.exitCode, json.dryRun, json.interrupted, json.failures], ['redrive', p.table, false, 1, false, false, []]);
      assert.deepEqual(json.messages.map((m: { outcome: string }) => m.outcome).sort(), ['past-retention', 'unreadable', 'unreadable', 'unreadable']);
      const past = json.messages.find((m: { outcome: string }) => m.outcome === 'past-retention');
      assert.deepEqual(Object.keys(past), ['messageId', 'queueUrl', 'outcome', 'items', 'batch', 'detail', 'message']);
      assert.equal(past.message, 'visible');
      assert.deepEqual(await depth(dlq.queueUrl), { visible: 4, hidden: 0 });
    } finally {
      p.remove();
    }
  });

  it('reads past empty pages to the end of the batch, keeps a message whose records never come, and stops cleanly on a signal', async () => {
    const p = project();
    try {
      const table = { name: p.table, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] };
      const replication = await startLocalReplication({ table, clientFor: client, emulator: { log: () => undefined }, handlerDeps: { log: () => undefined } });
      await replication.stop(); // tables only: the items below are never replicated
      const source = client('us-east-1');
      for (const pk of ['x', 'y']) await source.send(new PutItemCommand({ TableName: p.table, Item: { pk: { S: pk }, v: { N: '1' } } }));
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: replication.streamArn }));
      const shardId = StreamDescription!.Shards![0]!.ShardId!;
      const it = (await streams.send(new GetShardIteratorCommand({ StreamArn: replication.streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      const records = (await streams.send(new GetRecordsCommand({ ShardIterator: it }))).Records!;
      const info = (i: number) => ({ shardId, startSequenceNumber: records[i]!.dynamodb!.SequenceNumber!, endSequenceNumber: records[i]!.dynamodb!.SequenceNumber!, approximateArrivalOfFirstRecord: new Date().toISOString(), batchSize: 1, streamArn: replication.streamArn });
      const dlq = await SqsDestination.create(sqs, linkNames(p.table, 'us-east-1', linkSlot('eu-west-1')).queueName);
      for (const i of [0, 1]) await sqs.send(new SendMessageCommand({ QueueUrl: dlq.queueUrl, MessageBody: JSON.stringify({ DDBStreamBatchInfo: info(i) }) }));

      // DynamoDB Local never returns an empty page mid-shard; the real service may. Inject them into the real client's answers.
      const emptyPages = (count: number) => ({
        send: async (cmd: object) => {
          if (cmd instanceof GetRecordsCommand && count-- > 0) return { Records: [], NextShardIterator: cmd.input.ShardIterator };
          return streams.send(cmd as never);
        },
      });
      await withContext(p, async (ctx) => {
        const never = await run(ctx, { streams: emptyPages(Infinity) as never, queueUrls: [dlq.queueUrl] });
        assert.deepEqual(never.messages.map((r) => [r.outcome, r.message]), [['failed', 'visible'], ['failed', 'visible']]);
        assert.match(never.messages[0]!.detail!, /the stream gave no record up to \d+ \(0 item\(s\) read\); rerun redrive later/);

        // Ctrl-C while the first message is in hand: it is finished, the other is left untouched and visible.
        const stop = new AbortController();
        const pages = emptyPages(3);
        const stopping = { send: async (cmd: object) => (stop.abort(), pages.send(cmd)) };
        const cut = await run(ctx, { streams: stopping as never, queueUrls: [dlq.queueUrl], signal: stop.signal });
        assert.equal(cut.interrupted, true);
        assert.equal(redriveExitCode(cut), 1);
        assert.deepEqual(cut.messages.map((r) => [r.outcome, r.items]), [['repaired', 1]]);
        assert.match(renderRedrive(cut), /interrupted: messages not read yet are untouched; rerun redrive/);
        assert.deepEqual(await depth(dlq.queueUrl), { visible: 1, hidden: 0 });

        const rest = await run(ctx, { streams: emptyPages(3) as never, queueUrls: [dlq.queueUrl] });
        assert.deepEqual(rest.messages.map((r) => [r.outcome, r.items]), [['repaired', 1]]);
      });
      assert.equal((await p.run('verify')).code, 0);
    } finally {
      p.remove();
    }
  });
});
