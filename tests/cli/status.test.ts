import { strict as assert } from 'node:assert';
import { DescribeAlarmsCommand, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cloudStatus, localStatus, localStatusFile, renderStatus } from '../../cli/status';
import { startLocalSqs } from '../../local/sqs';

describe('ddb-replicator status', () => {
  it('reports iterator age, DLQ depth and alarm states per link (CloudWatch replaced, SQS local)', async () => {
    const server = await startLocalSqs();
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: server.endpoint });
    try {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'Users-to-eu-west-1-dlq-1a2b3c4' }));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{}' }));
      const alarm = (suffix: string, MetricName: string, Dimensions: { Name: string; Value: string }[], StateValue = 'OK') => ({ AlarmName: `Users-to-eu-west-1-${suffix}-7f00aa1`, MetricName, Dimensions, StateValue });
      // No local CloudWatch exists: this client answers the two calls status makes, and records them.
      const calls: string[] = [];
      const cloudwatch = {
        send: async (cmd: object) => {
          if (cmd instanceof DescribeAlarmsCommand) {
            calls.push(`alarms ${cmd.input.AlarmNamePrefix}`);
            return {
              MetricAlarms: [
                alarm('iterator-age', 'IteratorAge', [{ Name: 'FunctionName', Value: 'Users-to-eu-west-1-fn-9' }]),
                alarm('dlq-messages', 'ApproximateNumberOfMessagesVisible', [{ Name: 'QueueName', Value: 'Users-to-eu-west-1-dlq-1a2b3c4' }], 'ALARM'),
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
      const links = await cloudStatus('Users', { cloudwatch: cloudwatch as never, sqs });
      assert.deepEqual(calls, ['alarms Users-to-', 'metric IteratorAge Users-to-eu-west-1-fn-9']);
      assert.equal(links.length, 1);
      assert.deepEqual([links[0]!.functionName, links[0]!.iteratorAgeMs, links[0]!.dlq], ['Users-to-eu-west-1-fn-9', 4500, { name: 'Users-to-eu-west-1-dlq-1a2b3c4', messages: 1 }]);
      const text = renderStatus('Users', links);
      assert.match(text, /Users-to-eu-west-1-fn-9: iterator age 4500 ms, DLQ 1 message\(s\)/);
      assert.match(text, /alarms: 2\/3 OK; Users-to-eu-west-1-dlq-messages-7f00aa1 ALARM/);
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
