import { strict as assert } from 'node:assert';
import { DeleteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { ConflictPolicy } from '../../handlers/contract';
import { client, StreamTap } from '../support/ddb';
import { harness } from '../support/handler-harness';
import { makeHandler } from '../../handlers/replicate';

const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
const POLICIES: ConflictPolicy[] = ['source-wins', 'keep-replica'];
const TTL_DELETE = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };

/** Counts of the last batch in one region, summed the way the metrics are. */
const counts = (h: Awaited<ReturnType<typeof harness>>, region = EU) => h.lastBatch().targets[region]!;

describe('true counts: replays, values and TTL (DynamoDB Local)', () => {
  for (const conflictPolicy of POLICIES) {
    describe(conflictPolicy, () => {
      it('counts a REMOVE delivered again after a rewind as a duplicate, not a conflict', async () => {
        const h = await harness({ spec: { replicaRegions: [EU] }, config: { conflictPolicy } });
        await h.put({ pk: 'a', v: 1 });
        await h.put({ pk: 'b', v: 1 });
        await h.remove({ pk: 'a' });
        await h.put({ pk: 'b', v: 2 });
        const { Records } = await h.tap.event();
        await h.handler({ Records });
        // Lambda rewinds to b's first record (another item failed there): a's REMOVE comes again.
        await h.handler({ Records: Records.slice(1) });
        assert.deepEqual([counts(h).conflicts, counts(h).duplicates], [0, 2]);
        assert.ok(!h.logs.some((l) => l.msg === 'conflict'), JSON.stringify(h.logs.filter((l) => l.msg === 'conflict')));
        h.close();
      });

      it('skips older records replayed after a REMOVE (the first half of a bisected batch): the item never reappears', async () => {
        const h = await harness({ spec: { replicaRegions: [EU] }, config: { conflictPolicy } });
        await h.put({ pk: 'gone', v: 1 });
        await h.handler(await h.tap.event());
        await h.update({ pk: 'gone' }, { v: 2 });
        await h.update({ pk: 'gone' }, { v: 3 });
        await h.remove({ pk: 'gone' });
        const { Records } = await h.tap.event();
        const replicaStream = new StreamTap((await h.replicaStreamArn(EU))!, EU);
        await replicaStream.next();
        await h.handler({ Records });
        // A function error after the writes: Lambda bisects and replays the first half alone.
        await h.handler({ Records: Records.slice(0, 2) });
        assert.equal(await h.getRaw(EU, { pk: 'gone' }), undefined);
        assert.deepEqual([counts(h).staleSkipped, counts(h).conflicts, counts(h).writes], [2, 0, 0]);
        await h.handler({ Records: Records.slice(2) });
        assert.deepEqual([counts(h).duplicates, counts(h).conflicts], [1, 0]);
        // The replica's own stream: one REMOVE, and nothing written after it.
        assert.deepEqual((await replicaStream.next()).map((r) => r.eventName), ['REMOVE']);
        replicaStream.close();
        h.close();
      });

      it('keeps each link\'s deletions apart: a lagging second link of the same source sees no conflict and deletes the item', async () => {
        // Two links of one source (slots 0 and 1), each serving one region: link A is ahead of link B.
        const h = await harness({ spec: { replicaRegions: [EU, AP] }, config: (spec) => ({ conflictPolicy, targets: [{ region: EU, tableName: spec.name }] }) });
        const linkB = makeHandler({ ...h.config, targets: [{ region: AP, tableName: h.spec.name }] }, { log: (l) => h.logs.push({ ...l, link: 'B' }) });
        await h.put({ pk: 'x', v: 1 });
        const first = await h.tap.event();
        await h.handler(first);
        await linkB(first);
        await h.remove({ pk: 'x' });
        await h.put({ pk: 'x', v: 3 });
        await h.remove({ pk: 'x' });
        const { Records } = await h.tap.event();
        await h.handler({ Records });
        // Link B delivers the same records one batch at a time.
        for (const r of Records) await linkB({ Records: [r] });
        const b = h.logs.filter((l) => l.msg === 'batch' && l.link === 'B').map((l) => (l as { targets: Record<string, Record<string, number>> }).targets[AP]!);
        assert.deepEqual(b.map((c) => c.conflicts), [0, 0, 0, 0], JSON.stringify(h.logs.filter((l) => l.msg === 'conflict')));
        assert.equal(await h.getRaw(AP, { pk: 'x' }), undefined);
        assert.equal(await h.getRaw(EU, { pk: 'x' }), undefined);
        h.close();
      });

      it('reports a replica item deleted outside replication when the source changes it; not when the source deletes it too', async () => {
        const h = await harness({ spec: { replicaRegions: [EU] }, config: { conflictPolicy } });
        await h.put({ pk: 'm', v: 1 });
        await h.put({ pk: 'r', v: 1 });
        await h.handler(await h.tap.event());
        await client(EU).send(new DeleteItemCommand({ TableName: h.spec.name, Key: { pk: { S: 'm' } } }));
        await client(EU).send(new DeleteItemCommand({ TableName: h.spec.name, Key: { pk: { S: 'r' } } }));
        await h.update({ pk: 'm' }, { v: 2 });
        await h.remove({ pk: 'r' });
        await h.handler(await h.tap.event());
        // The replica already holds what the REMOVE produces: that state is explained by the item's history.
        assert.equal(counts(h).conflicts, 1);
        assert.deepEqual(h.logs.filter((l) => l.msg === 'conflict').map((l) => l.key), [{ pk: { S: 'm' } }], 'keys as DynamoDB JSON, as aws dynamodb get-item --key takes them');
        assert.equal((await h.get(EU, { pk: 'm' }))?.v, conflictPolicy === 'source-wins' ? 2 : undefined);
        h.close();
      });

      it('compares numbers by value: 7.00 written by UpdateItem equals the 7 PutItem stores on the replica', async () => {
        const h = await harness({ spec: { replicaRegions: [EU] }, config: { conflictPolicy } });
        await h.put({ pk: 'n', v: 1 });
        const update = (expr: string, values: Record<string, unknown>) =>
          client('us-east-1').send(new UpdateItemCommand({ TableName: h.spec.name, Key: { pk: { S: 'n' } }, UpdateExpression: expr, ExpressionAttributeValues: values as never }));
        // DynamoDB Local keeps these spellings on the source; the replica's PutItem normalises them.
        await update('SET a = :a, b = :b, m = :m', { ':a': { N: '7.00' }, ':b': { NS: ['5E-1', '10'] }, ':m': { M: { x: { N: '0.50' }, l: { L: [{ N: '7E0' }] } } } });
        await h.handler(await h.tap.event());
        await update('SET c = :c', { ':c': { S: 'next' } });
        await h.handler(await h.tap.event());
        assert.equal(counts(h).conflicts, 0);
        assert.equal((await h.get(EU, { pk: 'n' }))?.c, 'next');
        assert.deepEqual(await h.diff(EU), { missing: [], extra: [], different: [] });
        h.close();
      });

      it('treats an item removed by the replica\'s own TTL as absent: the next change brings it back without a conflict', async () => {
        const h = await harness({ spec: { replicaRegions: [EU], ttlAttribute: 'expiresAt' }, config: { conflictPolicy } });
        const past = Math.floor(Date.now() / 1000) - 60;
        await h.put({ pk: 's', expiresAt: past });
        await h.handler(await h.tap.event());
        // The replica's TTL removed it (DynamoDB Local runs no TTL: delete it as TTL would).
        await client(EU).send(new DeleteItemCommand({ TableName: h.spec.name, Key: { pk: { S: 's' } } }));
        await h.update({ pk: 's' }, { expiresAt: past + 3600 * 24 * 365 });
        await h.handler(await h.tap.event());
        assert.equal(counts(h).conflicts, 0);
        assert.equal((await h.get(EU, { pk: 's' }))?.expiresAt, past + 3600 * 24 * 365);
        h.close();
      });

      it('with REPLICATE_TTL_DELETES false, re-creating an item the source TTL removed is no conflict on the replica that kept it', async () => {
        const h = await harness({ spec: { replicaRegions: [EU], ttlAttribute: 'expiresAt' }, config: { conflictPolicy, replicateTtlDeletes: false } });
        const past = Math.floor(Date.now() / 1000) - 60;
        await h.put({ pk: 't', expiresAt: past });
        await h.handler(await h.tap.event());
        await h.remove({ pk: 't' });
        const [removal] = (await h.tap.event()).Records;
        await h.handler({ Records: [{ ...removal!, userIdentity: TTL_DELETE } as DynamoDBRecord] });
        assert.ok(await h.getRaw(EU, { pk: 't' }), 'the TTL deletion is not mirrored');
        // Converged: an expired item counts as absent on both sides.
        assert.deepEqual(await h.diff(EU), { missing: [], extra: [], different: [] });
        await h.put({ pk: 't', v: 'again' });
        await h.handler(await h.tap.event());
        assert.equal(counts(h).conflicts, 0);
        assert.equal((await h.get(EU, { pk: 't' }))?.v, 'again');
        h.close();
      });
    });
  }

  it('reports only the record whose value it cannot read; the rest of the batch is applied', async () => {
    const h = await harness({ spec: { replicaRegions: [EU] } });
    await h.put({ pk: 'ok', v: 1 });
    await h.put({ pk: 'odd', v: 1 });
    const { Records } = await h.tap.event();
    const odd = Records[1]!;
    odd.dynamodb!.NewImage!.broken = {} as never; // no type: nothing Lambda delivers, but it must not sink the batch
    const response = await h.handler({ Records });
    assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: odd.dynamodb!.SequenceNumber }]);
    assert.equal((await h.get(EU, { pk: 'ok' }))?.v, 1);
    assert.match(String(h.logs.find((l) => l.msg === 'record rejected')?.reason), /cannot be read/);
    h.close();
  });
});
