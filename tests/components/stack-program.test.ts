import { strict as assert } from 'node:assert';
import * as pulumi from '@pulumi/pulumi';
import { ofType, settled, useMocks } from '../support/pulumi-mocks';

const TABLES = [
  { name: 'Users', partitionKey: { name: 'userId', type: 'S' }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1', 'ap-southeast-2'] },
  { name: 'Orders', partitionKey: { name: 'orderId', type: 'S' }, primaryRegion: 'eu-west-1', replicaRegions: ['us-east-1'] },
];

/** Runs index.ts afresh under mocks with this config, as `pulumi up` would run it. */
async function runProgram(config: Record<string, string>) {
  const recorded = useMocks();
  pulumi.runtime.setAllConfig(config);
  const path = require.resolve('../../index');
  delete require.cache[path];
  const program = require(path) as typeof import('../../index');
  await settled();
  return { recorded, program };
}

const output = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

describe('stack program (index.ts, Pulumi mocks)', function () {
  this.timeout(30_000);

  it('builds one ReplicatedTable per configured table on the stack\'s default AWS provider, and exports what operators need', async () => {
    const { recorded, program } = await runProgram({ 'ddb-replicator:tables': JSON.stringify(TABLES), 'ddb-replicator:alarmEmail': 'oncall@example.com' });
    assert.deepEqual(ofType(recorded, 'ddb-replicator:index:ReplicatedTable').map((r) => r.name), ['Users', 'Orders']);
    // The default provider carries the stack's aws:* settings (profile, assumeRoles, defaultTags); each resource names its region.
    assert.equal(ofType(recorded, 'pulumi:providers:aws').length, 0);
    assert.deepEqual([...new Set(ofType(recorded, 'aws:dynamodb/table:Table').map((t) => t.inputs.region))].sort(), ['ap-southeast-2', 'eu-west-1', 'us-east-1']);
    const users = program.tables.Users!;
    assert.deepEqual(Object.keys(users.tableArns), ['us-east-1', 'eu-west-1', 'ap-southeast-2']);
    assert.equal(await output(users.tableArns['eu-west-1']!), 'arn:aws:dynamodb:eu-west-1:123456789012:table/Users');
    assert.match(await output(users.streamArn), /^arn:aws:dynamodb:us-east-1:123456789012:table\/Users\/stream\//);
    assert.equal(users.dlqUrls.length, 2);
    assert.match(await output(users.dlqUrls[0]!), /^https:\/\/sqs\.us-east-1\.amazonaws\.com\/123456789012\//);
    assert.equal(users.functionNames.length, 2);
    // Every region's links have alarms: 5 links (2 + 1 + 2, by slot), 4 each plus 2 per target region (6 pairs); and a review alarm per region.
    assert.equal(users.alarmNames.length, 5 * 4 + 6 * 2 + 3);
    assert.match(await output(program.tables.Orders!.streamArn), /^arn:aws:dynamodb:eu-west-1:/);
    assert.equal(ofType(recorded, 'aws:sns/topicSubscription:TopicSubscription').length, 3 + 2, 'one per region of each table');
  });

  it('stops before creating anything when the config is invalid, listing every problem', async () => {
    await assert.rejects(
      runProgram({ 'ddb-replicator:tables': JSON.stringify([{ ...TABLES[0], replicaRegions: ['us-east-1'] }]), 'ddb-replicator:metricsNamespace': 'AWS/Mine' }),
      (err: Error) => /replicaRegions\[0\] is "us-east-1": is the primary region/.test(err.message) && /metricsNamespace is "AWS\/Mine"/.test(err.message),
    );
  });
});
