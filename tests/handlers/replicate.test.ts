import { strict as assert } from 'node:assert';
import { buildMetricDocuments, emptyCounts } from '../../handlers/metrics';
import type { DynamoDBRecord } from 'aws-lambda';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { MAX_ITEM_BYTES, METADATA, METADATA_BYTES } from '../../handlers/contract';
import { syncItem } from '../../handlers/repair';
import { client } from '../support/ddb';
import { ConfigError } from '../../handlers/config';
import { EventError } from '../../handlers/plan';
import { handler as envHandler } from '../../handlers/replicate';
import { harness } from '../support/handler-harness';
import { stateTableName } from '../../config/names';
import { sdkDynamo } from '../../handlers/dynamo-sdk';

const EU = 'eu-west-1';
const AP = 'ap-southeast-2';

describe('replication handler (DynamoDB Local)', () => {
  it('mirrors INSERT, MODIFY and REMOVE of every attribute type, with a sort key, to every target', async () => {
    const h = await harness({ spec: { sortKey: { name: 'sk', type: 'N' } } });
    const key = { pk: 'user#1', sk: 7 };
    const item = {
      ...key,
      s: 'text',
      n: 12.5,
      big: BigInt('123456789012345678901234567890'),
      b: new Uint8Array([0, 1, 2, 255]),
      bool: false,
      nul: null,
      l: ['a', 1, { nested: true }],
      m: { inner: { list: [new Uint8Array([9])] } },
      ss: new Set(['x', 'y']),
      ns: new Set([1, 2, 3]),
      bs: new Set([new Uint8Array([1]), new Uint8Array([2, 3])]),
      empty: '',
    };
    await h.put(item);
    assert.deepEqual(await h.handler(await h.tap.event()), { batchItemFailures: [] });
    for (const region of [EU, AP]) {
      const raw = await h.getRaw(region, key);
      assert.ok(raw, `item replicated to ${region}`);
      const source = await h.getRaw('us-east-1', key);
      const { [METADATA.version]: version, ...data } = raw;
      assert.deepEqual(data, source, `replica in ${region} equals the source`);
      assert.match(version!.S!, /^000001:\d{40}:0{13}$/);
    }

    await h.update(key, { s: 'changed', ns: new Set([4]) });
    await h.handler(await h.tap.event());
    assert.equal((await h.get(EU, key))?.s, 'changed');
    assert.deepEqual((await h.get(AP, key))?.ns, new Set([4]));

    await h.remove(key);
    await h.handler(await h.tap.event());
    assert.equal(await h.getRaw(EU, key), undefined);
    assert.equal(await h.getRaw(AP, key), undefined);
    assert.equal(h.lastBatch().targets[EU]!.replicated, 1);
    h.close();
  });

  it('coalesces the records of one item in a batch into one write per target', async () => {
    const h = await harness();
    await h.put({ pk: 'hot', v: 0 });
    for (let v = 1; v <= 5; v++) await h.update({ pk: 'hot' }, { v });
    await h.put({ pk: 'other', v: 1 });
    const event = await h.tap.event();
    assert.equal(event.Records.length, 7);
    await h.handler(event);
    const eu = h.lastBatch().targets[EU]!;
    assert.equal(eu.replicated, 7);
    assert.equal(eu.writes, 2);
    assert.equal(eu.conflicts, 0);
    assert.equal((await h.get(EU, { pk: 'hot' }))?.v, 5);
    h.close();
  });

  it('skips a stale replay after a newer write and treats a repeated record as a duplicate', async () => {
    const h = await harness();
    await h.put({ pk: 'a', v: 1 });
    const first = await h.tap.event();
    await h.update({ pk: 'a' }, { v: 2 });
    const second = await h.tap.event();
    await h.handler(first);
    await h.handler(second);
    await h.handler(first);
    assert.equal(h.lastBatch().targets[EU]!.staleSkipped, 1);
    assert.equal(h.lastBatch().targets[EU]!.replicated, 0);
    assert.equal((await h.get(EU, { pk: 'a' }))?.v, 2);
    await h.handler(second);
    assert.equal(h.lastBatch().targets[EU]!.duplicates, 1);
    assert.equal(h.lastBatch().targets[EU]!.conflicts, 0);
    h.close();
  });

  it('leaves a deleted item deleted when older records are replayed and delivery completes', async () => {
    const h = await harness();
    await h.put({ pk: 'gone', v: 1 });
    await h.update({ pk: 'gone' }, { v: 2 });
    const early = await h.tap.event();
    await h.remove({ pk: 'gone' });
    const removal = await h.tap.event();
    await h.handler(early);
    await h.handler(removal);
    // Lambda rewinds replay in stream order: the old records, then the REMOVE again.
    await h.handler({ Records: [...early.Records, ...removal.Records] });
    assert.equal(await h.getRaw(EU, { pk: 'gone' }), undefined);
    await h.handler(early);
    await h.handler(removal);
    assert.equal(await h.getRaw(EU, { pk: 'gone' }), undefined);
    h.close();
  });

  it('detects an out-of-band replica change as a conflict and lets the source win by default', async () => {
    const h = await harness();
    await h.put({ pk: 'u1', email: 'old@example.com' });
    await h.handler(await h.tap.event());
    await h.putReplica(EU, { pk: 'u1', email: 'tampered-secret@example.com' });
    await h.update({ pk: 'u1' }, { email: 'new@example.com' });
    await h.handler(await h.tap.event());
    assert.equal((await h.get(EU, { pk: 'u1' }))?.email, 'new@example.com');
    assert.equal(h.lastBatch().targets[EU]!.conflicts, 1);
    assert.equal(h.lastBatch().targets[AP]!.conflicts, 0);
    const conflict = h.logs.find((l) => l.msg === 'conflict')!;
    assert.equal(conflict.resolution, 'source-wins');
    assert.deepEqual(conflict.key, { pk: { S: 'u1' } });
    assert.match(String(conflict.replicaDigest), /^[0-9a-f]{16}$/);
    const allLogs = JSON.stringify(h.logs);
    assert.ok(!allLogs.includes('example.com'), 'logs hold keys and digests, never item values');
    h.close();
  });

  it('keeps the replica and reports the conflict under keep-replica', async () => {
    const h = await harness({ config: { conflictPolicy: 'keep-replica' } });
    await h.put({ pk: 'u2', plan: 'free' });
    await h.handler(await h.tap.event());
    await h.putReplica(EU, { pk: 'u2', plan: 'local-override' });
    await h.update({ pk: 'u2' }, { plan: 'pro' });
    await h.handler(await h.tap.event());
    assert.equal((await h.get(EU, { pk: 'u2' }))?.plan, 'local-override');
    assert.equal((await h.get(AP, { pk: 'u2' }))?.plan, 'pro');
    assert.equal(h.lastBatch().targets[EU]!.conflicts, 1);
    assert.equal(h.logs.find((l) => l.msg === 'conflict')?.resolution, 'kept-replica');
    // Without a conflict, keep-replica replicates like source-wins, and replays stay no-ops.
    const event = await h.tap.event();
    assert.equal(event.Records.length, 0);
    await h.put({ pk: 'u3', plan: 'free' });
    const insert = await h.tap.event();
    await h.handler(insert);
    await h.handler(insert);
    assert.equal((await h.get(EU, { pk: 'u3' }))?.plan, 'free');
    assert.equal(h.lastBatch().targets[EU]!.duplicates, 1);
    h.close();
  });

  it('reports an INSERT over an item created outside replication as a conflict', async () => {
    const h = await harness();
    await h.putReplica(EU, { pk: 'dup', name: 'replica-only' });
    await h.put({ pk: 'dup', name: 'source' });
    await h.handler(await h.tap.event());
    assert.equal(h.lastBatch().targets[EU]!.conflicts, 1);
    assert.equal((await h.get(EU, { pk: 'dup' }))?.name, 'source');
    h.close();
  });

  it('replicates TTL deletions by default and skips them when REPLICATE_TTL_DELETES is false', async () => {
    for (const replicateTtlDeletes of [true, false]) {
      const h = await harness({ config: { replicateTtlDeletes } });
      await h.put({ pk: 'session', expiresAt: 1 });
      await h.handler(await h.tap.event());
      await h.remove({ pk: 'session' });
      const { Records } = await h.tap.event();
      // DynamoDB Local does not run TTL; a TTL deletion is a REMOVE with the service identity.
      const ttlDelete: DynamoDBRecord = { ...Records[0]!, userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } };
      await h.handler({ Records: [ttlDelete] });
      const replica = await h.getRaw(EU, { pk: 'session' });
      assert.equal(replica === undefined, replicateTtlDeletes);
      assert.equal(h.lastBatch().ttlSkipped, replicateTtlDeletes ? 0 : 1);
      h.close();
    }
  });

  it(`replicates items up to 400 KB less the ${METADATA_BYTES} bytes of metadata, and repairs them; reports a larger one alone`, async () => {
    const h = await harness();
    // DynamoDB counts attribute names and values: pk + "fits" + data + "data".
    const room = MAX_ITEM_BYTES - METADATA_BYTES - 'pk'.length - 'fits'.length - 'data'.length;
    await h.put({ pk: 'fits', data: 'x'.repeat(room) });
    await h.put({ pk: 'big', data: 'x'.repeat(room) });
    await h.put({ pk: 'small', v: 1 });
    await h.update({ pk: 'big' }, { data: 'y'.repeat(room + 2) }); // "big" is a byte shorter than "fits": one byte over
    const event = await h.tap.event();
    const bigFirstSeq = event.Records[1]!.dynamodb!.SequenceNumber!;
    const response = await h.handler(event);
    assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: bigFirstSeq }]);
    assert.equal(h.lastBatch().targets[EU]!.failures, 2);
    assert.equal((await h.get(EU, { pk: 'small' }))?.v, 1);
    assert.equal((await h.get(EU, { pk: 'fits' }))?.data.length, room);
    assert.equal(await h.getRaw(EU, { pk: 'big' }), undefined);
    const failure = h.logs.find((l) => l.msg === 'apply failed')!;
    assert.match(String(failure.error), new RegExp(`^ItemTooLarge: the item is over DynamoDB's 400 KB limit once replication's ${METADATA_BYTES} bytes of metadata are added`));

    // A repair version is the same size, so every item that replicates can be repaired.
    await client(EU).send(new UpdateItemCommand({ TableName: h.spec.name, Key: { pk: { S: 'fits' } }, UpdateExpression: 'SET #d = :d', ExpressionAttributeNames: { '#d': 'data' }, ExpressionAttributeValues: { ':d': { S: 'drift' } } }));
    const keys = { pk: { S: 'fits' } };
    const readSource = async () => (await client('us-east-1').send(new GetItemCommand({ TableName: h.spec.name, Key: keys, ConsistentRead: true }))).Item;
    const repaired = await syncItem({ mode: 'repair', replica: sdkDynamo(client(EU)), target: { region: EU, tableName: h.spec.name }, keys, readSource, generation: 1, rules: { nowSeconds: 0 } });
    assert.equal(repaired.outcome.status, 'applied', JSON.stringify(repaired.outcome));
    assert.equal((await h.get(EU, { pk: 'fits' }))?.data.length, room);
    h.close();
  });

  it('reports the records of a target that cannot be written and still writes the others', async () => {
    const h = await harness({
      spec: { replicaRegions: [AP] },
      config: (spec) => ({ targets: [{ region: EU, tableName: 'NoSuchTable' }, { region: AP, tableName: spec.name }] }),
    });
    await h.put({ pk: 'k', v: 1 });
    const event = await h.tap.event();
    const response = await h.handler(event);
    assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: event.Records[0]!.dynamodb!.SequenceNumber }]);
    assert.equal(h.lastBatch().targets[EU]!.failures, 1);
    assert.match(String(h.logs.find((l) => l.msg === 'apply failed')?.error), /ResourceNotFoundException/);
    assert.equal((await h.get(AP, { pk: 'k' }))?.v, 1);
    h.close();
  });

  it('writes its metrics as CloudWatch embedded metric format lines, one document per dimension set, no API call', async () => {
    const lines: string[] = [];
    const h = await harness({ config: { metricsNamespace: 'Test/Replication' }, deps: { metricLine: (l) => lines.push(l) } });
    await h.put({ pk: 'm1', v: 1 });
    await h.put({ pk: 'm2', v: 1 });
    await h.update({ pk: 'm1' }, { v: 2 });
    await h.handler(await h.tap.event());
    const docs = lines.map((l) => JSON.parse(l) as Record<string, any>);
    for (const d of docs) {
      const [directive] = d._aws.CloudWatchMetrics;
      assert.equal(directive.Namespace, 'Test/Replication');
      assert.equal(typeof d._aws.Timestamp, 'number');
      // Every declared dimension and metric has its value at the top level, as CloudWatch requires.
      for (const dim of directive.Dimensions[0]) assert.equal(typeof d[dim], 'string', dim);
      for (const m of directive.Metrics) assert.ok(typeof d[m.Name] === 'number' || Array.isArray(d[m.Name]), m.Name);
    }
    const eu = docs.filter((d) => d.TargetRegion === EU);
    assert.deepEqual(eu[0]!._aws.CloudWatchMetrics[0].Dimensions, [['Table', 'TargetRegion']]);
    assert.equal(eu[0]!.Table, h.spec.name);
    const value = (name: string) => eu.find((d) => name in d)?.[name];
    assert.deepEqual([value('RecordsReplicated'), value('StaleRecordsSkipped'), value('Conflicts'), value('FailedRecords')], [3, 0, 0, 0]);
    const latency = eu.find((d) => 'ReplicationLatency' in d)!;
    assert.deepEqual(latency._aws.CloudWatchMetrics[0].Metrics, [{ Name: 'ReplicationLatency', Unit: 'Milliseconds' }]);
    assert.equal(latency.ReplicationLatency.length, 3, 'one value per replicated record, for the p99 alarm');
    const link = docs.find((d) => d.SourceRegion !== undefined)!;
    assert.deepEqual([link._aws.CloudWatchMetrics[0].Dimensions, link.EchoRecordsSkipped, link.RecordsForReview], [[['Table', 'SourceRegion']], 0, 0]);
    // No item value reaches a metric line.
    assert.ok(!lines.some((l) => l.includes('"m1"') || l.includes('"m2"')));
    h.close();
  });

  it('keeps at most 100 latency values in one EMF document', () => {
    const counts = { ...emptyCounts(), replicated: 250, latenciesMs: Array.from({ length: 250 }, (_, i) => i + 0.4) };
    const docs = buildMetricDocuments('Ns', 'T', 'us-east-1', new Map([[EU, counts]]), { echoes: 0, review: 0 }, 0).filter((d) => 'ReplicationLatency' in d);
    assert.deepEqual(docs.map((d) => (d.ReplicationLatency as number[]).length), [100, 100, 50]);
    assert.deepEqual((docs[2]!.ReplicationLatency as number[]).slice(0, 2), [200, 201]);
  });

  it('throws only for errors no retry can fix: bad configuration and events that are not stream batches', async () => {
    const h = await harness();
    await assert.rejects(h.handler({} as never), EventError);
    await h.put({ pk: 'v', v: 1 });
    const { Records } = await h.tap.event();
    const keysOnly = { ...Records[0]!, dynamodb: { ...Records[0]!.dynamodb, StreamViewType: 'KEYS_ONLY' as const } };
    await assert.rejects(h.handler({ Records: [keysOnly] }), (e: Error) => e instanceof ConfigError && /needs NEW_AND_OLD_IMAGES/.test(e.message));
    const noSeq = { ...Records[0]!, dynamodb: { ...Records[0]!.dynamodb, SequenceNumber: 'abc' } };
    await assert.rejects(h.handler({ Records: [noSeq] }), /SequenceNumber "abc": expected 1-40 digits/);
    h.close();
  });

  it('reports items it has no time left to write instead of running into the Lambda timeout', async () => {
    const h = await harness({ spec: { replicaRegions: [EU] } });
    await h.put({ pk: 't1', v: 1 });
    await h.put({ pk: 't2', v: 1 });
    const event = await h.tap.event();
    let left = 10_000;
    // The first item is written with time to spare; then the clock runs out.
    const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => (left -= 7_000) };
    const response = await h.handler(event, context);
    assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: event.Records[1]!.dynamodb!.SequenceNumber }]);
    assert.equal((await h.get(EU, { pk: 't1' }))?.v, 1);
    assert.equal(await h.getRaw(EU, { pk: 't2' }), undefined);
    assert.match(String(h.logs.find((l) => l.msg === 'apply failed')?.error), /about to time out/);
    h.close();
  });

  it('is configured from the environment when deployed', async () => {
    const h = await harness({ spec: { replicaRegions: [EU] } });
    const saved = { ...process.env };
    try {
      process.env.REPLICA_TARGETS = JSON.stringify([{ region: EU, tableName: h.spec.name }]);
      process.env.STATE_TABLE = stateTableName(h.spec.name);
      process.env.AWS_REGION = h.spec.primaryRegion;
      await h.put({ pk: 'env', v: 1 });
      const quiet = console.log;
      console.log = () => undefined;
      try {
        assert.deepEqual(await envHandler(await h.tap.event()), { batchItemFailures: [] });
      } finally {
        console.log = quiet;
      }
      assert.equal((await h.get(EU, { pk: 'env' }))?.v, 1);
    } finally {
      process.env = saved;
      h.close();
    }
  });
});
