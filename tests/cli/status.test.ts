import { strict as assert } from 'node:assert';
import { DescribeAlarmsCommand, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cloudStatus, localStatus, localStatusFile, renderStatus } from '../../cli/status';
import { startLocalSqs } from '../../local/sqs';
import { linkSlot } from '../../config/links';
import { linkNames } from '../../config/names';
import { parseStackConfig } from '../../config/parse';

describe('ddb-replicator status', () => {
  it('reports iterator age, DLQ depth and alarm states per link (CloudWatch replaced, SQS local)', async () => {
    const server = await startLocalSqs();
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: server.endpoint });
    try {
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
                alarm('errors', 'Errors', []),
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
      const links = await cloudStatus(table, { cloudwatch: cloudwatch as never, sqs });
      const names = ['iterator-age', 'dlq-messages', 'errors', 'throttles', 'latency-eu-west-1', 'conflicts-eu-west-1'].map(link.alarmName);
      assert.deepEqual(calls, [`alarms ${names.join(' ')}`, `metric IteratorAge ${link.functionName}`]);
      assert.equal(links.length, 1);
      assert.deepEqual([links[0]!.functionName, links[0]!.iteratorAgeMs, links[0]!.dlq], [link.functionName, 4500, { name: link.queueName, messages: 1 }]);
      const text = renderStatus('Users', links);
      assert.match(text, new RegExp(`${link.functionName}: iterator age 4500 ms, DLQ 1 message\\(s\\)`));
      assert.match(text, new RegExp(`alarms: 2/3 OK; ${link.alarmName('dlq-messages')} ALARM`));
    } finally {
      sqs.destroy();
      await server.stop();
    }
  });

  it("shows the local emulator's figures, and says how to get them when npm start is not running", () => {
    const dir = `${require('node:os').tmpdir()}/status-${process.pid}`;
    mkdirSync(`${dir}/.ddb-replicator`, { recursive: true });
    try {
      assert.throws(() => localStatus(dir, 'Users'), /is `npm start -- --watch` running/);
      writeFileSync(localStatusFile(dir, 'Users'), JSON.stringify({ updatedAt: '2026-11-25T00:00:00.000Z', emulator: { recordsCommitted: 10, invocations: 3, failedInvocations: 1, recordsDiscarded: 0, onFailureMessages: 0, iteratorAgeMs: 5, maxIteratorAgeMs: 9 } }));
      assert.match(localStatus(dir, 'Users'), /records delivered 10, invocations 3 \(1 failed\), discarded 0 in 0 on-failure message\(s\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
