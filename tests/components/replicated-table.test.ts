import { strict as assert } from 'node:assert';
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { linkSlot } from '../../config/links';
import { parseStackConfig, StackConfigError } from '../../config/parse';
import { NAME_RULES } from '../../config/names';
import { replicationBundle } from '../../components/lambda-bundle';
import { ReplicatedTable } from '../../components/replicated-table';
import type { ReplicatedTableArgs } from '../../components/replicated-table-args';
import { resolveTableArgs } from '../../components/resolve-args';
import { ofType, RecordedResource, settled, useMocks } from '../support/pulumi-mocks';

/** Only what differs from the defaults: the component applies those. */
const ARGS: ReplicatedTableArgs = {
  partitionKey: { name: 'userId', type: 'S' },
  globalSecondaryIndexes: [{ name: 'byEmail', partitionKey: { name: 'email', type: 'S' }, projectionType: 'KEYS_ONLY' }],
  primaryRegion: 'us-east-1',
  replicaRegions: ['eu-west-1', 'ap-southeast-2'],
  ttlAttribute: 'expiresAt',
  tags: { team: 'identity' },
};

async function deploy(args: Partial<ReplicatedTableArgs> = {}, opts?: pulumi.ComponentResourceOptions): Promise<RecordedResource[]> {
  const recorded = useMocks();
  new ReplicatedTable('Users', { ...ARGS, ...args }, opts);
  await settled();
  return recorded;
}

/** The links' functions and role policies, without the backfill workers beside them (tests/components/backfill-worker.test.ts). */
const ofLinks = (r: RecordedResource[], type: string) => ofType(r, type).filter((x) => !x.name.includes('-backfill-'));
const envOf = (fn: RecordedResource) => fn.inputs.environment.variables as Record<string, string>;
const TABLE_TYPE = 'aws:dynamodb/table:Table';
/** IAM is global: a role policy's link is named by its source region. */
const sourceRegionOf = (p: RecordedResource) => /^Users-([a-z]+-[a-z]+-\d)-/.exec(p.name)![1]!;
/** The replicated tables themselves, without the replication state tables beside them. */
const dataTables = (r: RecordedResource[]) => ofType(r, TABLE_TYPE).filter((t) => !t.name.endsWith('-state'));

describe('ReplicatedTable (Pulumi mocks)', function () {
  this.timeout(30_000);

  it('puts each regional table, and the replication resources, on the right regional provider', async () => {
    const r = await deploy();
    const tables = ofType(r, TABLE_TYPE);
    assert.deepEqual(tables.map((t) => [t.name, t.region]).sort(), [
      ['Users-ap-southeast-2-state', 'ap-southeast-2'],
      ['Users-ap-southeast-2-table', 'ap-southeast-2'],
      ['Users-eu-west-1-state', 'eu-west-1'],
      ['Users-eu-west-1-table', 'eu-west-1'],
      ['Users-us-east-1-state', 'us-east-1'],
      ['Users-us-east-1-table', 'us-east-1'],
    ]);
    for (const type of ['aws:lambda/function:Function', 'aws:lambda/eventSourceMapping:EventSourceMapping', 'aws:sqs/queue:Queue', 'aws:cloudwatch/metricAlarm:MetricAlarm', 'aws:cloudwatch/logGroup:LogGroup']) {
      const resources = ofType(r, type);
      assert.ok(resources.length > 0, type);
      for (const res of resources) assert.equal(res.region, /^Users-([a-z]+-[a-z]+-\d)-(link|review)/.exec(res.name)?.[1], `${type} ${res.name} lives in the region whose stream its link reads`);
    }
    assert.deepEqual(ofType(r, 'aws:sns/topic:Topic').map((t) => [t.name, t.region]).sort(), [
      ['Users-ap-southeast-2-alarms', 'ap-southeast-2'],
      ['Users-eu-west-1-alarms', 'eu-west-1'],
      ['Users-us-east-1-alarms', 'us-east-1'],
    ]);
  });

  it('configures every table the same way, ready to be promoted: stream, PITR, KMS, deletion protection, GSIs, TTL, tags', async () => {
    const r = await deploy();
    for (const t of dataTables(r)) {
      const i = t.inputs;
      assert.equal(i.name, 'Users');
      assert.equal(i.streamEnabled, true);
      assert.equal(i.streamViewType, 'NEW_AND_OLD_IMAGES');
      assert.deepEqual(i.pointInTimeRecovery, { enabled: true });
      assert.deepEqual(i.serverSideEncryption, { enabled: true });
      assert.equal(i.deletionProtectionEnabled, true);
      assert.equal(i.billingMode, 'PAY_PER_REQUEST');
      assert.equal(i.hashKey, 'userId');
      assert.deepEqual(i.attributes, [{ name: 'userId', type: 'S' }, { name: 'email', type: 'S' }]);
      assert.deepEqual(i.globalSecondaryIndexes, [{ name: 'byEmail', keySchemas: [{ attributeName: 'email', keyType: 'HASH' }], projectionType: 'KEYS_ONLY' }]);
      assert.deepEqual(i.ttl, { attributeName: 'expiresAt', enabled: true });
      assert.deepEqual(i.tags, { team: 'identity', 'ddb-replicator:table': 'Users' });
    }
  });

  it('gives every region a replication state table (fence, tombstones, review), protected like the table; a link keeps its own and reads its targets\' fences', async () => {
    const r = await deploy();
    const states = ofType(r, TABLE_TYPE).filter((t) => t.name.endsWith('-state'));
    assert.deepEqual(states.map((t) => t.region).sort(), ['ap-southeast-2', 'eu-west-1', 'us-east-1']);
    for (const t of states) {
      assert.equal(t.inputs.name, 'Users.replication');
      assert.equal(t.inputs.hashKey, 'pk');
      assert.deepEqual(t.inputs.ttl, { attributeName: 'expiresAt', enabled: true });
      assert.deepEqual([t.inputs.pointInTimeRecovery, t.inputs.serverSideEncryption, t.inputs.deletionProtectionEnabled], [{ enabled: true }, { enabled: true }, true]);
      assert.equal(t.inputs.tags['ddb-replicator:state-of'], 'Users');
      assert.equal(t.inputs.tags['ddb-replicator:table'], undefined, 'not one of the replicas the match-source policy compares');
    }
    for (const p of ofLinks(r, 'aws:iam/rolePolicy:RolePolicy')) {
      const doc = JSON.parse(p.inputs.policy);
      const own = doc.Statement.find((s: { Sid: string }) => s.Sid === 'KeepReplicationState');
      assert.deepEqual(own.Action, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem']);
      const region = sourceRegionOf(p);
      assert.deepEqual(own.Resource, [`arn:aws:dynamodb:${region}:123456789012:table/Users.replication`]);
      const fences = doc.Statement.find((s: { Sid: string }) => s.Sid === 'CheckTargetFences');
      assert.deepEqual(fences.Action, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      for (const arn of fences.Resource) assert.match(arn, new RegExp(`^arn:aws:dynamodb:(?!${region})[a-z0-9-]+:123456789012:table/Users\\.replication$`));
    }
  });

  it('supports provisioned capacity, with GSIs inheriting the table capacity', async () => {
    const r = await deploy({ billingMode: 'PROVISIONED', readCapacity: 5, writeCapacity: 7 });
    const t = dataTables(r)[0]!.inputs;
    assert.equal(t.billingMode, 'PROVISIONED');
    assert.equal(t.readCapacity, 5);
    assert.equal(t.writeCapacity, 7);
    assert.equal(t.globalSecondaryIndexes[0].writeCapacity, 7);
  });

  it('wires the function, event source mapping and DLQ as configured', async () => {
    const r = await deploy({ stream: { batchSize: 250, batchingWindowSeconds: 2, maximumRetryAttempts: 5, maximumRecordAgeSeconds: 7200, parallelizationFactor: 3 }, lambda: { memoryMb: 1024, timeoutSeconds: 30 } });
    const fn = ofType(r, 'aws:lambda/function:Function').find((f) => f.name === `Users-us-east-1-link${linkSlot('eu-west-1')}-fn`);
    assert.equal(fn!.inputs.runtime, 'nodejs22.x');
    assert.deepEqual(fn!.inputs.architectures, ['arm64']);
    assert.equal(fn!.inputs.handler, 'index.handler');
    assert.equal(fn!.inputs.memorySize, 1024);
    assert.equal(fn!.inputs.timeout, 30);
    assert.deepEqual(envOf(fn!), {
      REPLICA_TARGETS: JSON.stringify([{ region: 'eu-west-1', tableName: 'Users' }]),
      STATE_TABLE: 'Users.replication',
      TTL_ATTRIBUTE: 'expiresAt',
      CONFLICT_POLICY: 'source-wins',
      REPLICATE_TTL_DELETES: 'true',
      METRICS_NAMESPACE: 'DdbReplicator',
    });
    const esms = ofType(r, 'aws:lambda/eventSourceMapping:EventSourceMapping');
    // us-east-1 and ap-southeast-2 hash to slot 0, eu-west-1 to slot 1: links 2 (us-east-1) + 1 (eu-west-1) + 2 (ap-southeast-2).
    assert.equal(esms.length, 5);
    for (const esm of esms) {
      const e = esm.inputs;
      assert.equal(e.eventSourceArn, `arn:aws:dynamodb:${esm.region}:123456789012:table/Users/stream/2026-01-01T00:00:00.000`);
      assert.equal(e.enabled, esm.region === 'us-east-1', 'only the primary region reads its stream');
      assert.equal(e.startingPosition, 'TRIM_HORIZON');
      assert.equal(e.batchSize, 250);
      assert.equal(e.maximumBatchingWindowInSeconds, 2);
      assert.equal(e.parallelizationFactor, 3);
      assert.equal(e.maximumRetryAttempts, 5);
      assert.equal(e.maximumRecordAgeInSeconds, 7200);
      assert.equal(e.bisectBatchOnFunctionError, true);
      assert.deepEqual(e.functionResponseTypes, ['ReportBatchItemFailures']);
      assert.match(e.destinationConfig.onFailure.destinationArn, new RegExp(`^arn:aws:sqs:${esm.region}:123456789012:Users-${esm.region}-link\\d-dlq$`));
    }
    for (const q of ofType(r, 'aws:sqs/queue:Queue')) {
      assert.equal(q.inputs.messageRetentionSeconds, 14 * 24 * 3600);
      assert.equal(q.inputs.sqsManagedSseEnabled, true);
    }
  });

  it('grants least privilege: exact ARNs, no "*" action or resource (metrics go out as log lines, no PutMetricData)', async () => {
    const r = await deploy();
    const roles = ofLinks(r, 'aws:iam/rolePolicy:RolePolicy');
    assert.equal(roles.length, 5);
    for (const role of roles) {
      const doc = JSON.parse(role.inputs.policy);
      const region = sourceRegionOf(role);
      for (const s of doc.Statement) {
        for (const action of s.Action) assert.ok(!action.includes('*'), `action ${action}`);
        assert.ok(!s.Resource.includes('*'), `${s.Sid} names its resources`);
      }
      const writes = doc.Statement.find((s: any) => s.Sid === 'WriteReplicaItems');
      for (const arn of writes.Resource) assert.match(arn, new RegExp(`^arn:aws:dynamodb:(?!${region})[a-z0-9-]+:123456789012:table/Users$`));
      const stream = doc.Statement.find((s: any) => s.Sid === 'ReadSourceStream');
      assert.deepEqual(stream.Resource, [`arn:aws:dynamodb:${region}:123456789012:table/Users/stream/2026-01-01T00:00:00.000`]);
    }
  });

  it('alarms on iterator age, DLQ depth, errors, throttles, latency and conflicts, all notifying their region\'s topic', async () => {
    const r = await deploy({ replicaRegions: ['eu-west-1'], alarmEmail: 'oncall@example.com' });
    const alarms = ofType(r, 'aws:cloudwatch/metricAlarm:MetricAlarm').filter((a) => a.region === 'us-east-1');
    const byMetric = Object.fromEntries(alarms.map((a) => [a.inputs.metricName, a.inputs]));
    assert.deepEqual(Object.keys(byMetric).sort(), ['ApproximateNumberOfMessagesVisible', 'Conflicts', 'Errors', 'IteratorAge', 'RecordsForReview', 'ReplicationLatency', 'Throttles']);
    assert.deepEqual([byMetric.RecordsForReview.dimensions, byMetric.RecordsForReview.threshold], [{ Table: 'Users', SourceRegion: 'us-east-1' }, 0]);
    assert.equal(byMetric.IteratorAge.statistic, 'Maximum');
    assert.equal(byMetric.IteratorAge.threshold, 60_000);
    assert.equal(byMetric.ApproximateNumberOfMessagesVisible.threshold, 0);
    assert.deepEqual(byMetric.ReplicationLatency.dimensions, { Table: 'Users', TargetRegion: 'eu-west-1' });
    assert.equal(byMetric.ReplicationLatency.namespace, 'DdbReplicator');
    for (const a of ofType(r, 'aws:cloudwatch/metricAlarm:MetricAlarm')) {
      assert.equal(a.inputs.treatMissingData, 'notBreaching');
      assert.deepEqual(a.inputs.alarmActions, [`arn:aws:sns:${a.region}:123456789012:Users-${a.region}-alarms`]);
    }
    const subs = ofType(r, 'aws:sns/topicSubscription:TopicSubscription');
    assert.deepEqual(subs.map((s) => [s.region, s.inputs.protocol, s.inputs.endpoint]).sort(), [
      ['eu-west-1', 'email', 'oncall@example.com'],
      ['us-east-1', 'email', 'oncall@example.com'],
    ]);
  });

  for (const n of [1, 2, 3, 5]) {
    it(`gives each region at most two stream readers with ${n} replica region(s), each writing to every other region once`, async () => {
      const replicas = ['eu-west-1', 'ap-southeast-2', 'us-west-2', 'eu-central-1', 'ap-northeast-1'].slice(0, n);
      const r = await deploy({ replicaRegions: replicas });
      const regions = ['us-east-1', ...replicas];
      const fns = ofLinks(r, 'aws:lambda/function:Function');
      for (const source of regions) {
        const mine = fns.filter((f) => f.region === source);
        assert.ok(mine.length >= 1 && mine.length <= 2, `${source} has ${mine.length} links`);
        const targets = mine.flatMap((fn) => JSON.parse(envOf(fn).REPLICA_TARGETS!).map((t: { region: string }) => t.region));
        assert.deepEqual([...targets].sort(), regions.filter((x) => x !== source).sort());
        for (const fn of mine) {
          const slot = Number(/link(\d)-fn$/.exec(fn.name)![1]);
          for (const t of JSON.parse(envOf(fn).REPLICA_TARGETS!)) assert.equal(linkSlot(t.region), slot, `${t.region} is written by its own slot`);
        }
      }
      assert.equal(ofType(r, 'aws:lambda/eventSourceMapping:EventSourceMapping').filter((e) => e.inputs.enabled).length, ofLinks(r, 'aws:lambda/function:Function').filter((f) => f.region === 'us-east-1').length);
    });
  }

  it('keeps every region in its link slot when a region is added (and lets the config pin a slot)', async () => {
    const slotsOf = (r: RecordedResource[]) =>
      new Map(ofLinks(r, 'aws:lambda/function:Function').flatMap((fn) => JSON.parse(envOf(fn).REPLICA_TARGETS!).map((t: { region: string }) => [`${fn.region}->${t.region}`, fn.name])));
    const before = slotsOf(await deploy());
    const after = slotsOf(await deploy({ replicaRegions: ['eu-west-1', 'ap-southeast-2', 'us-west-2'] }));
    for (const [pair, fn] of before) assert.equal(after.get(pair), fn, `${pair} keeps its link`);
    const pinned = slotsOf(await deploy({ linkSlots: { 'ap-southeast-2': 1 - linkSlot('ap-southeast-2') } }));
    assert.notEqual(pinned.get('us-east-1->ap-southeast-2'), before.get('us-east-1->ap-southeast-2'));
  });

  it('fails over by config change without replacing anything: the same resources, with only the mappings switched', async () => {
    const before = await deploy();
    const after = await deploy({ primaryRegion: 'eu-west-1', replicaRegions: ['us-east-1', 'ap-southeast-2'] });
    const shape = (r: RecordedResource[]) =>
      r.map((x) => [x.type, x.name, x.region, JSON.stringify(x.type === 'aws:lambda/eventSourceMapping:EventSourceMapping' ? { ...x.inputs, enabled: undefined } : x.inputs)]).sort();
    assert.deepEqual(shape(after), shape(before));
    const enabled = (r: RecordedResource[]) => ofType(r, 'aws:lambda/eventSourceMapping:EventSourceMapping').filter((e) => e.inputs.enabled).map((e) => e.region);
    assert.deepEqual([...new Set(enabled(before))], ['us-east-1']);
    assert.deepEqual([...new Set(enabled(after))], ['eu-west-1']);
  });

  it('protects the tables, and keeps tables, DLQs, topics and subscriptions in AWS when their region leaves the config', async () => {
    const r = await deploy({ alarmEmail: 'oncall@example.com' });
    for (const type of ['aws:dynamodb/table:Table', 'aws:sqs/queue:Queue', 'aws:sns/topic:Topic', 'aws:sns/topicSubscription:TopicSubscription']) {
      for (const x of ofType(r, type)) assert.equal(x.retainOnDelete, true, `${x.name} is retained`);
    }
    for (const t of ofType(r, TABLE_TYPE)) assert.equal(t.protect, true, `${t.name} is protected`);
    for (const f of ofType(r, 'aws:lambda/function:Function')) assert.equal(f.retainOnDelete, false, 'a link itself holds nothing to keep');
    const scratch = await deploy({ deletionProtection: false });
    assert.ok(ofType(scratch, TABLE_TYPE).every((t) => !t.protect && !t.inputs.deletionProtectionEnabled));
  });

  it('names every resource explicitly, within AWS limits, for a 255-character table name and five replica regions', async () => {
    const name = `${'T'.repeat(120)}.${'x'.repeat(134)}`;
    const r = await deploy({ name, replicaRegions: ['eu-west-1', 'ap-southeast-2', 'us-west-2', 'eu-central-1', 'ap-northeast-1'], alarmEmail: 'oncall@example.com' });
    const named: [string, keyof typeof NAME_RULES][] = [
      ['aws:dynamodb/table:Table', 'table'],
      ['aws:lambda/function:Function', 'function'],
      ['aws:iam/role:Role', 'role'],
      ['aws:sqs/queue:Queue', 'queue'],
      ['aws:sns/topic:Topic', 'topic'],
      ['aws:cloudwatch/metricAlarm:MetricAlarm', 'alarm'],
      ['aws:cloudwatch/logGroup:LogGroup', 'logGroup'],
    ];
    for (const [type, kind] of named) {
      const names = ofType(r, type).map((x) => x.inputs.name as string);
      assert.ok(names.length > 0 && names.every(Boolean), `every ${type} has an explicit name`);
      for (const n of names) {
        assert.ok(n.length <= NAME_RULES[kind].limit, `${type} name of ${n.length} characters: ${n}`);
        assert.equal(n.replace(NAME_RULES[kind].invalid, ''), n, `${type} name has only allowed characters: ${n}`);
      }
      const perRegion = (x: RecordedResource) => (kind === 'role' ? '' : x.region);
      const keys = ofType(r, type).map((x) => `${perRegion(x)} ${x.inputs.name}`);
      if (kind !== 'table') assert.equal(new Set(keys).size, keys.length, `${type} names are unique where AWS needs them to be`);
    }
    assert.equal(ofType(r, 'aws:dynamodb/table:Table').find((t) => !t.name.endsWith('-state'))!.inputs.name, name, 'the table keeps its own name');
    const [fn] = ofType(r, 'aws:lambda/function:Function');
    assert.match(fn!.inputs.name, /^T{30,}-[0-9a-f]{8}-[a-z]+-[a-z]+-\d-link\d$/, 'readable: the table first, a short hash, then region and slot');
  });


  it('checks its args with the stack config\'s rules: one error naming every problem, the same words as the config', () => {
    useMocks();
    const bad = { ...ARGS, replicaRegions: ['eu-wset-1'], stream: { batchSize: 0 }, billingMode: 'PROVISIONED' as const };
    const err = (() => {
      try {
        new ReplicatedTable('Users', bad);
      } catch (e) {
        return e as Error;
      }
      assert.fail('bad args were accepted');
    })();
    assert.ok(pulumi.RunError.isInstance(err), 'Pulumi prints a RunError as its message alone');
    assert.doesNotMatch(err.message, /\n/, 'one line');
    assert.match(err.message, /^invalid ReplicatedTable Users: /);
    // The stack config's validator finds the same problems for the same settings, under the table's label.
    const stack = (() => {
      try {
        parseStackConfig({ tables: [{ ...bad, name: 'Users' }] });
      } catch (e) {
        return (e as StackConfigError).problems;
      }
      assert.fail('the stack config accepted them');
    })();
    assert.equal(stack.length, 4, stack.join('; '));
    for (const problem of stack) assert.ok(err.message.includes(problem.replace('tables[0] (Users).', '')), `component names: ${problem}`);
    assert.match(err.message, /replicaRegions\[0\] is "eu-wset-1": not an AWS region; did you mean eu-west-1\?/);
    assert.throws(() => new ReplicatedTable('Users', { ...ARGS, primaryRegion: undefined as unknown as string }), /primaryRegion is missing/);
  });

  it('takes the table name from the component unless args.name sets it, and applies every documented default', async () => {
    const resolved = resolveTableArgs('Orders', ARGS, (m) => new Error(m));
    assert.equal(resolved.model.name, 'Orders');
    assert.deepEqual(resolved.model.stream, { batchSize: 100, batchingWindowSeconds: 0, maximumRetryAttempts: 10, maximumRecordAgeSeconds: 3600, parallelizationFactor: 1 });
    assert.deepEqual([resolved.model.conflictPolicy, resolved.model.replicateTtlDeletes, resolved.model.deletionProtection, resolved.model.billing], ['source-wins', true, true, { mode: 'PAY_PER_REQUEST' }]);
    assert.deepEqual([resolved.model.lambda, resolved.model.alarms], [{ memoryMb: 1024, timeoutSeconds: 60 }, { iteratorAgeMs: 60_000, replicationLatencyMs: 120_000, conflicts: 0 }]);
    assert.equal(resolved.metricsNamespace, 'DdbReplicator');
    assert.equal(resolveTableArgs('Orders', { ...ARGS, name: 'orders-v2' }, (m) => new Error(m)).model.name, 'orders-v2');
    assert.throws(() => resolveTableArgs('db', ARGS, (m) => new Error(m)), /^Error: invalid ReplicatedTable db: name is "db" \(the component's name, as args\.name is not set\): use a table name of 3 to 255 characters/);
  });

  it('takes tags and alarmEmail from other resources, and checks them with the same rules once they are known', async () => {
    useMocks();
    const known = <T>(o: pulumi.Input<T> | undefined) => new Promise<T>((resolve, reject) => (pulumi.output(o) as any).promise().then(resolve, reject));
    const later = resolveTableArgs('Users', { ...ARGS, tags: pulumi.output({ team: pulumi.output('identity') }), alarmEmail: pulumi.output('oncall@example.com') }, (m) => new Error(m));
    assert.deepEqual(await known(later.tags), { team: 'identity' });
    assert.equal(await known(later.alarmEmail), 'oncall@example.com');
    const bad = resolveTableArgs('Users', { ...ARGS, alarmEmail: pulumi.output('oncall'), tags: pulumi.output({ team: 'x'.repeat(300) }) }, (m) => new Error(m));
    await assert.rejects(known(bad.alarmEmail), /^Error: invalid ReplicatedTable Users: alarmEmail is "oncall": use an e-mail address/);
    await assert.rejects(known(bad.tags), /tags\.team is "x{300}": tag values are strings of at most 256 characters/);
    // Its subscriptions exist before the address is known: an empty one from another resource is refused, not subscribed.
    const empty = resolveTableArgs('Users', { ...ARGS, alarmEmail: pulumi.output('') }, (m) => new Error(m));
    await assert.rejects(known(empty.alarmEmail), /alarmEmail is "": an alarmEmail from another resource must be an e-mail address; leave alarmEmail out for none/);
    // A map with an unknown value keeps its keys (and the tables' group tag) known; the value is checked on its own.
    const mixed = resolveTableArgs('Users', { ...ARGS, tags: { team: 'identity', owner: pulumi.output('x'.repeat(300)) } }, (m) => new Error(m));
    assert.ok(!pulumi.Output.isInstance(mixed.tags));
    assert.deepEqual(Object.keys(mixed.tags as object), ['team', 'owner']);
    await assert.rejects(known((mixed.tags as Record<string, pulumi.Input<string>>).owner), /tags\.owner is "x{300}"/);
    const r = await deploy({ tags: pulumi.output({ team: 'identity' }) });
    for (const t of dataTables(r)) assert.deepEqual(t.inputs.tags, { team: 'identity', 'ddb-replicator:table': 'Users' });
    for (const f of ofLinks(r, 'aws:lambda/function:Function')) assert.deepEqual(f.inputs.tags, { team: 'identity' });
  });

  it('serves every region with the AWS provider of its options (or its parent\'s), each regional resource naming its region', async () => {
    const recorded = useMocks();
    const account = new aws.Provider('audit-account', { region: 'us-west-2', assumeRoles: [{ roleArn: 'arn:aws:iam::210987654321:role/deployer' }] });
    class Platform extends pulumi.ComponentResource {
      constructor() {
        super('acme:index:Platform', 'platform', {}, { providers: [account] });
        new ReplicatedTable('Users', ARGS, { parent: this });
      }
    }
    new Platform();
    await settled();
    const providerUrn = recorded.find((x) => x.type === 'pulumi:providers:aws')!.urn;
    const awsResources = recorded.filter((x) => x.custom && x.type.startsWith('aws:'));
    assert.ok(awsResources.length > 50);
    for (const x of awsResources) {
      assert.equal(x.providerUrn, providerUrn, `${x.name} uses the provider passed in`);
      if (!x.type.startsWith('aws:iam/')) assert.match(String(x.inputs.region), /^[a-z]+-[a-z]+-\d$/, `${x.name} names its region`);
      else assert.equal(x.inputs.region, undefined, 'IAM is global');
    }
    assert.deepEqual([...new Set(dataTables(recorded).map((t) => t.inputs.region))].sort(), ['ap-southeast-2', 'eu-west-1', 'us-east-1']);
    // With no provider anywhere, the stack's default provider (aws:* config: profile, assumeRoles, defaultTags) serves them.
    const plain = await deploy();
    assert.ok(plain.filter((x) => x.custom && x.type.startsWith('aws:')).every((x) => x.providerUrn === undefined));
    assert.equal(ofType(plain, 'pulumi:providers:aws').length, 0, 'creates no provider of its own');
  });

  it('passes protect and retainOnDelete from its options to every child; deletionProtection always protects the tables', async () => {
    const all = (r: RecordedResource[]) => r.filter((x) => x.custom);
    const locked = await deploy({ deletionProtection: false }, { protect: true });
    for (const x of all(locked)) assert.equal(x.protect, true, `${x.name} is protected`);
    // Another language's Construct sends protect false when its program set none: that must not unprotect the tables.
    const unset = await deploy({}, { protect: false });
    for (const t of ofType(unset, TABLE_TYPE)) assert.deepEqual([t.protect, t.inputs.deletionProtectionEnabled], [true, true], `${t.name} stays protected`);
    const scratch = await deploy({ deletionProtection: false });
    for (const t of ofType(scratch, TABLE_TYPE)) assert.equal(t.protect, false, `${t.name}: no deletion protection, no protect`);
    const kept = await deploy({}, { retainOnDelete: true });
    for (const x of all(kept)) assert.equal(x.retainOnDelete, true, `${x.name} is retained`);
  });

  it('bundles the handler with esbuild, without any Pulumi code, and reports its size', () => {
    const bundle = replicationBundle();
    assert.ok(!/@pulumi|pulumi\.runtime/.test(bundle.code), 'the Lambda bundle holds no Pulumi code');
    assert.match(bundle.code, /REPLICA_TARGETS/);
    assert.ok(bundle.bytes > 10_000);
    assert.match(bundle.code, /@aws-lite\/client: /, 'the bundle carries aws-lite, the client the handler writes with');
    assert.doesNotMatch(bundle.code, /DynamoDBClient/, 'and not the AWS SDK\'s DynamoDB client');
    assert.doesNotMatch(bundle.code, /PutMetricData/, 'nor a CloudWatch client: metrics are EMF log lines');
    console.log(`      Lambda bundle: ${(bundle.bytes / 1024).toFixed(0)} KiB (minified, aws-lite included)`);
  });
});
