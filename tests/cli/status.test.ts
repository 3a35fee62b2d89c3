import { strict as assert } from 'node:assert';
import { DescribeAlarmsCommand, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { tableContext } from '../../cli/context';
import { cloudStatusReport, localStatus, renderLocalStatus, renderStatus } from '../../cli/status';
import { linkSlot } from '../../config/links';
import { linkNames } from '../../config/names';
import { parseStackConfig } from '../../config/parse';
import { startLocalReplication } from '../../local/pipeline';
import { SqsDestination, startLocalSqs } from '../../local/sqs';
import { startStatusPublisher } from '../../local/status-publisher';
import { client } from '../support/ddb';
import { localEndpoint } from '../support/setup';
import { execCli, project } from './support';

describe('ddb-replicator status', function () {
  this.timeout(120_000);
  let server: Awaited<ReturnType<typeof startLocalSqs>>;
  let sqs: SQSClient;
  before(async () => {
    server = await startLocalSqs();
    sqs = new SQSClient({ region: 'us-east-1', endpoint: server.endpoint });
  });
  after(async () => {
    sqs.destroy();
    await server.stop();
  });

  it('reports iterator age, DLQ depth and alarm states per link, and firing alarms and DLQ messages as problems (CloudWatch replaced, SQS local)', async () => {
    const table = parseStackConfig({ tables: [{ name: 'Users', partitionKey: { name: 'userId', type: 'S' }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] }] }).tables[0]!;
    const link = linkNames('Users', 'us-east-1', linkSlot('eu-west-1'));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: link.queueName }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{}' }));
    const alarm = (suffix: string, MetricName: string, Dimensions: { Name: string; Value: string }[], StateValue = 'OK') => ({ AlarmName: link.alarmName(suffix), MetricName, Dimensions, StateValue });
    // No local CloudWatch exists: this client answers the two calls status makes, and records them.
    const calls: string[] = [];
    const cloudwatch = {
      send: async (cmd: object) => {
        if (cmd instanceof DescribeAlarmsCommand) {
          calls.push(`alarms ${cmd.input.AlarmNames?.join(' ')}`);
          return {
            MetricAlarms: [
              alarm('iterator-age', 'IteratorAge', [{ Name: 'FunctionName', Value: link.functionName }]),
              alarm('dlq-messages', 'ApproximateNumberOfMessagesVisible', [{ Name: 'QueueName', Value: link.queueName }], 'ALARM'),
              alarm('errors', 'Errors', [], 'INSUFFICIENT_DATA'),
            ],
          };
        }
        if (cmd instanceof GetMetricStatisticsCommand) {
          calls.push(`metric ${cmd.input.MetricName} ${cmd.input.Dimensions?.[0]?.Value}`);
          return { Datapoints: [{ Maximum: 1200 }, { Maximum: 4500 }] };
        }
        throw new Error(`unexpected ${cmd.constructor.name}`);
      },
    };
    const report = await cloudStatusReport(table, { cloudwatch: cloudwatch as never, sqs });
    const names = ['iterator-age', 'dlq-messages', 'errors', 'throttles', 'latency-eu-west-1', 'conflicts-eu-west-1'].map(link.alarmName);
    assert.deepEqual(calls, [`alarms ${names.join(' ')}`, `metric IteratorAge ${link.functionName}`]);
    assert.equal(report.links.length, 1);
    assert.deepEqual([report.links[0]!.functionName, report.links[0]!.iteratorAgeMs, report.links[0]!.dlq], [link.functionName, 4500, { name: link.queueName, messages: 1 }]);
    // INSUFFICIENT_DATA is shown, but only ALARM is firing.
    assert.deepEqual(report.problems, [`${link.functionName}: alarm ${link.alarmName('dlq-messages')} is firing`, `${link.functionName}: 1 discarded batch(es) in DLQ ${link.queueName}: run \`ddb-replicator redrive\``]);
    const text = renderStatus('Users', report.links, report.problems);
    assert.match(text, new RegExp(`${link.functionName}: iterator age 4500 ms, DLQ 1 message\\(s\\)`));
    assert.match(text, new RegExp(`alarms: 1/3 OK; ${link.alarmName('dlq-messages')} ALARM, ${link.alarmName('errors')} INSUFFICIENT_DATA`));
    assert.match(text, /Needs attention:\n {2}- .*is firing/);
  });

  it('reads the live figures a running local pipeline publishes at the endpoint, names its discarded records, and says when it stopped', async () => {
    const p = project();
    const ctx = tableContext({ stack: 'test', endpoint: localEndpoint(), projectDir: p.dir });
    try {
      const table = { name: p.table, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] };
      const slot = linkSlot('eu-west-1');
      const dlq = await SqsDestination.create(sqs, linkNames(p.table, 'us-east-1', slot).queueName);
      const replication = await startLocalReplication({
        table,
        clientFor: client,
        onFailure: dlq,
        mapping: { batchSize: 10, maximumRetryAttempts: 0, bisectBatchOnFunctionError: false },
        emulator: { pollIntervalMs: 20, discoveryIntervalMs: 100, retryDelayMs: 5, log: () => undefined },
        handlerDeps: { log: () => undefined },
        wrapInvoke: (invoke) => async (event: DynamoDBStreamEvent) => {
          if (event.Records.some((r) => r.dynamodb?.Keys?.pk?.S === 'poison')) throw new Error('injected');
          return invoke(event);
        },
      });
      const publisher = startStatusPublisher({ client: client('us-east-1'), table, slot, emulator: replication.emulator, dlq: { sqs, queueUrl: dlq.queueUrl, endpoint: server.endpoint }, intervalMs: 200 });
      try {
        await publisher.publish();
        const healthy = await localStatus(ctx, localEndpoint());
        assert.equal(healthy.running, true);
        assert.deepEqual(healthy.problems, []);
        assert.match(renderLocalStatus(p.table, healthy), /: running\n.*live, updated [\d.]+ s ago[^]*No problems\./);
        assert.equal((await p.exec('status')).code, 0);

        await client('us-east-1').send(new PutItemCommand({ TableName: p.table, Item: { pk: { S: 'poison' }, v: { N: '1' } } }));
        await replication.emulator.waitForIdle(60_000);
        await publisher.publish();
        const r = await localStatus(ctx, localEndpoint());
        assert.equal(r.running, true);
        const [l] = r.links;
        assert.deepEqual([l!.link, l!.records.discarded, l!.onFailureMessages, l!.dlq?.messages], [`us-east-1-link${slot}`, 1, 1, 1]);
        assert.deepEqual(r.problems, [
          `us-east-1-link${slot}: 1 record(s) discarded in 1 on-failure message(s), 1 in the DLQ: run \`npx ddb-replicator redrive --endpoint ${localEndpoint()} --sqs-endpoint ${server.endpoint}\``,
          `us-east-1-link${slot}: 1 failed invocation(s) in the last minute (retried; causes in .ddb-replicator/local.log)`,
        ]);
        assert.match(renderLocalStatus(p.table, r), /records delivered 0, discarded 1 \(1 on-failure message\(s\), 0 dropped\)[^]*Needs attention:\n {2}- .*1 record\(s\) discarded/);
        // The command, pointed at the endpoint (from another directory than the pipeline's: none is involved).
        const cmd = await p.exec('status');
        assert.equal(cmd.code, 1, cmd.text + cmd.err);
        assert.match(cmd.text, /1 record\(s\) discarded in 1 on-failure message\(s\), 1 in the DLQ: run `npx ddb-replicator redrive --endpoint/);
        const json = JSON.parse((await p.exec('status', '--json')).text);
        assert.deepEqual(Object.keys(json), ['command', 'table', 'ok', 'exitCode', 'source', 'endpoint', 'running', 'links', 'problems', 'failures']);
        assert.deepEqual([json.command, json.ok, json.exitCode, json.source, json.running, json.problems.length], ['status', false, 1, 'local', true, 2]);
        assert.deepEqual(Object.keys(json.links[0]).sort(), ['dlq', 'heartbeatAgeMs', 'intervalMs', 'invocations', 'iteratorAgeMs', 'link', 'maxIteratorAgeMs', 'onFailureMessages', 'pid', 'records', 'region', 'running', 'slot', 'startedAt', 'targets', 'updatedAt']);
        assert.deepEqual(json.links[0].records, { delivered: 0, discarded: 1, dropped: 0 });
        // The same figures, read later without a heartbeat: the last known ones, said to be so.
        const stale = await localStatus(ctx, localEndpoint(), Date.now() + 30_000);
        assert.equal(stale.running, false);
        assert.match(stale.problems[0]!, /the local pipeline is not running \(no heartbeat for 3\d s\); the figures are the last known, 3\d s old/);
        assert.match(renderLocalStatus(p.table, stale), /NOT running\n.*last known figures, 3\d s old/);
      } finally {
        await publisher.stop();
        await replication.stop();
      }
      const stopped = await localStatus(ctx, localEndpoint());
      assert.equal(stopped.running, false);
      assert.match(stopped.problems[0]!, /the local pipeline is not running \(stopped [\d.]+ s ago\)/);
      const cmd = await p.exec('status');
      assert.equal(cmd.code, 1);
      assert.match(cmd.text, /NOT running\n.*last known figures/);
      assert.equal(JSON.stringify(stopped).includes('"v"'), false, 'figures only, no items');
    } finally {
      ctx.close();
      p.remove();
    }
  });

  it('says how to start a pipeline when none publishes at the endpoint', async () => {
    const p = project();
    const ctx = tableContext({ stack: 'test', endpoint: localEndpoint(), projectDir: p.dir });
    try {
      await assert.rejects(localStatus(ctx, localEndpoint()), new RegExp(`no table ${p.table}\\.replication in us-east-1 at ${localEndpoint()}: no local pipeline of ${p.table} runs there; start one with \`npm start -- --watch\``));
      const replication = await startLocalReplication({ table: { name: p.table, partitionKey: { name: 'pk', type: 'S' }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] }, clientFor: client, emulator: { log: () => undefined } });
      await replication.stop();
      await assert.rejects(localStatus(ctx, localEndpoint()), /no local pipeline has published figures for .* at http/);
      const cmd = await p.exec('status', '--json');
      assert.equal(cmd.code, 2);
      assert.match(JSON.parse(cmd.text).error, /no local pipeline has published figures for .*: start one with `npm start -- --watch`/);
      // Nothing listens there, as after npm start stopped its own DynamoDB Local: one line, exit 2.
      const dead = await execCli(['status', '--dir', p.dir, '--stack', 'test', '--endpoint', 'http://127.0.0.1:9']);
      assert.equal(dead.code, 2);
      assert.match(dead.err, /^ddb-replicator status: nothing answers at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\): the local pipeline is not running; start one with `npm start -- --watch`/);
    } finally {
      ctx.close();
      p.remove();
    }
  });
});
