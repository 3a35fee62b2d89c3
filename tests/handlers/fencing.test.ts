import { strict as assert } from 'node:assert';
import { DeleteItemCommand, DescribeTableCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { stateTableName } from '../../config/names';
import { METADATA } from '../../handlers/contract';
import { Fence, initialFence, markRejoined, nextFence, raiseFence, readFence } from '../../handlers/fence';
import { makeHandler } from '../../handlers/replicate';
import { readReviewEntries } from '../../handlers/review';
import { provisionTables } from '../../local/tables';
import { client, StreamTap, tableSpec } from '../support/ddb';
import { sdkDynamo } from '../../handlers/dynamo-sdk';

const A = 'us-east-1';
const B = 'eu-west-1';
const C = 'ap-southeast-2';
const REGIONS = [A, B, C];

/** One table in three regions, and a link from any region to the two others, as deployed. */
async function threeRegions() {
  const spec = tableSpec({ primaryRegion: A, replicaRegions: [B, C] });
  await provisionTables(spec, client);
  const state = stateTableName(spec.name);
  const taps = new Map<string, StreamTap>();
  for (const r of REGIONS) {
    const { Table } = await client(r).send(new DescribeTableCommand({ TableName: spec.name }));
    taps.set(r, new StreamTap(Table!.LatestStreamArn!, r));
  }
  const logs: Record<string, unknown>[] = [];
  const link = (source: string) =>
    makeHandler(
      {
        targets: REGIONS.filter((r) => r !== source).map((region) => ({ region, tableName: spec.name })),
        state: { region: source, tableName: state },
        fenceCacheMs: 0,
        conflictPolicy: 'source-wins',
        replicateTtlDeletes: true,
        maxConcurrency: 8,
      },
      { log: (l) => logs.push(l) },
    );
  const links = new Map(REGIONS.map((r) => [r, link(r)]));
  return {
    spec,
    logs,
    /** The records written to a region's stream since the last call. */
    records: async (region: string) => (await taps.get(region)!.event()).Records,
    run: (source: string, records: DynamoDBRecord[]) => links.get(source)!({ Records: records }),
    put: (region: string, item: Record<string, unknown>) => client(region).send(new PutItemCommand({ TableName: spec.name, Item: marshall(item) })),
    update: (region: string, pk: string, v: unknown) =>
      client(region).send(new UpdateItemCommand({ TableName: spec.name, Key: { pk: { S: pk } }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: marshall({ ':v': v }) })),
    get: async (region: string, pk: string) => {
      const item = (await client(region).send(new GetItemCommand({ TableName: spec.name, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item;
      return item && unmarshall(item);
    },
    fence: (region: string) => readFence(sdkDynamo(client(region)), state),
    raise: (region: string, f: Fence) => raiseFence(sdkDynamo(client(region)), state, f),
    review: (region: string) => readReviewEntries(sdkDynamo(client(region)), state),
    lastBatch: () => logs.filter((l) => l.msg === 'batch').at(-1) as { targets: Record<string, Record<string, number>>; echoes: number; forReview: number },
    close: () => taps.forEach((t) => t.close()),
  };
}

/** The records as stamped in the given second (DynamoDB Local stamps whole minutes). */
const at = (records: DynamoDBRecord[], seconds: number) => records.map((r) => ({ ...r, dynamodb: { ...r.dynamodb!, ApproximateCreationDateTime: seconds } }));

describe('fencing and terms (DynamoDB Local, three regions)', () => {
  it('creates the first term where no fence exists, and copies it into a region the primary writes to', async () => {
    const t = await threeRegions();
    await t.put(A, { pk: 'a', v: 1 });
    await t.run(A, await t.records(A));
    for (const r of REGIONS) assert.deepEqual(await t.fence(r), initialFence(A), `${r} holds the first term`);
    assert.equal((await t.get(B, 'a'))?.v, 1);
    t.close();
  });

  it('after a failover, replicates the new primary\'s changes and skips every echo of replication: no loop', async () => {
    const t = await threeRegions();
    await t.put(A, { pk: 'k', v: 1 });
    await t.run(A, at(await t.records(A), 1000));
    const second = nextFence(initialFence(A), B, 2000);
    for (const r of REGIONS) await t.raise(r, second);

    // B's stream holds the echo of A's replication (before its term) and the application's writes in it.
    const echo = await t.records(B);
    await t.update(B, 'k', 2); // an application UpdateItem keeps the stale __rep_v A's link wrote
    await t.put(B, { pk: 'n', v: 1 }); // a PutItem carries no version at all
    const changes = await t.records(B);
    assert.equal(changes[0]!.dynamodb!.NewImage![METADATA.version]!.S, changes[0]!.dynamodb!.OldImage![METADATA.version]!.S);
    await t.run(B, [...at(echo, 1500), ...at(changes, 2001)]);
    assert.equal(t.lastBatch().echoes, echo.length);
    assert.deepEqual([(await t.get(A, 'k'))?.v, (await t.get(C, 'k'))?.v, (await t.get(C, 'n'))?.v], [2, 2, 1]);

    // What B's link wrote into A and C is echoed on their streams; were their links running, they skip it.
    for (const region of [A, C]) {
      const echoes = await t.records(region);
      assert.ok(echoes.length > 0);
      await t.run(region, at(echoes, 2002));
      assert.deepEqual([t.lastBatch().echoes, t.lastBatch().forReview], [echoes.length, 0]);
    }
    assert.deepEqual(await t.records(B), [], 'nothing came back to B: one application change, one write per replica');
    t.close();
  });

  it('never replicates again the REMOVE a replication delete leaves on a replica\'s stream, whoever wrote the item before', async () => {
    const t = await threeRegions();
    // A's application writes both items (A holds them without __rep_v); A's link puts them on B and C (with __rep_v).
    await t.put(A, { pk: 'r', v: 1 });
    await t.put(A, { pk: 'a', v: 1 });
    await t.run(A, at(await t.records(A), 1000));
    const second = nextFence(initialFence(A), B, 2000);
    for (const r of REGIONS) await t.raise(r, second);
    await t.records(B);
    await t.records(C); // the echoes of A's replication, skipped in the MODIFY/INSERT test

    // B, now primary, deletes both; its link deletes them on A and C.
    await client(B).send(new DeleteItemCommand({ TableName: t.spec.name, Key: { pk: { S: 'r' } } }));
    await client(B).send(new DeleteItemCommand({ TableName: t.spec.name, Key: { pk: { S: 'a' } } }));
    await t.run(B, at(await t.records(B), 2001));
    for (const r of [A, C]) assert.deepEqual([await t.get(r, 'r'), await t.get(r, 'a')], [undefined, undefined], `${r}: both deleted`);

    // A's and C's streams now hold those REMOVEs, with and without __rep_v in their old images. Were their links live (an
    // old mapping, one enabled by mistake), they skip every one: no write anywhere, nothing reported.
    await t.put(B, { pk: 'r', v: 2 }); // the primary writes the item again meanwhile: a replayed REMOVE must not delete it
    await t.run(B, at(await t.records(B), 2002));
    for (const region of [A, C]) {
      const removes = (await t.records(region)).filter((r) => r.eventName === 'REMOVE');
      assert.deepEqual(removes.map((r) => r.dynamodb!.Keys!.pk!.S).sort(), ['a', 'r'], `${region}'s stream holds both deletions`);
      await t.run(region, at(removes, 2003));
      const batch = t.lastBatch();
      assert.deepEqual([batch.echoes, batch.forReview], [removes.length, 0], `${region}: every REMOVE replication made is an echo, none a stray`);
      for (const target of Object.values(batch.targets)) assert.deepEqual([target.replicated, target.writes, target.fenced], [0, 0, 0]);
    }
    assert.equal((await t.get(B, 'r'))?.v, 2, 'the primary keeps its write');
    assert.deepEqual(await t.records(B), [], 'nothing came back to B');
    assert.deepEqual(await t.review(A), [], 'A took no write of its own while B was primary');
    t.close();
  });

  it('fences out a former primary: its late records write nowhere and are reported with keys and versions', async () => {
    const t = await threeRegions();
    await t.put(A, { pk: 'k', v: 1 });
    await t.run(A, at(await t.records(A), 1000));
    await t.put(A, { pk: 'k', v: 2 }); // acknowledged by A, not yet replicated
    const late = await t.records(A);
    // Unplanned failover: A was unreachable, so only B's and C's fences are raised.
    for (const r of [B, C]) await t.raise(r, nextFence(initialFence(A), B, 2000));
    await t.put(B, { pk: 'k', v: 3 });
    await t.run(A, at(late, 1001)); // A's link delivers its tail, late
    assert.deepEqual([(await t.get(B, 'k'))?.v, (await t.get(C, 'k'))?.v], [3, 1], 'the acknowledged write v3 stands; C still waits for B');
    assert.deepEqual([t.lastBatch().targets[B]!.fenced, t.lastBatch().targets[C]!.fenced], [1, 1]);
    const reported = await t.review(A);
    assert.deepEqual(reported.map((e) => [e.kind, e.key, e.target]).sort((x, y) => String(x[2]).localeCompare(String(y[2]))), [['fenced', { pk: { S: 'k' } }, C], ['fenced', { pk: { S: 'k' } }, B]]);
    assert.match(reported[0]!.version!, /^000001:\d{40}:0{13}$/);
    assert.ok(!JSON.stringify(reported).includes('"v"'), 'keys and versions, never values');
    t.close();
  });

  it('reports, and does not replicate, what a demoted region\'s stream holds from its old term or from outside replication', async () => {
    const t = await threeRegions();
    await t.put(A, { pk: 'tail', v: 1 }); // written in A's term, never replicated before the failover
    const tail = await t.records(A);
    for (const r of REGIONS) await t.raise(r, nextFence(initialFence(A), B, 2000));
    await t.put(A, { pk: 'stray', v: 1 }); // the application still writing to A after the failover
    const stray = await t.records(A);
    await t.run(A, [...at(tail, 1000), ...at(stray, 2500)]);
    assert.deepEqual((await t.review(A)).map((e) => [e.kind, e.key.pk!.S]).sort(), [['old-term', 'tail'], ['stray', 'stray']]);
    assert.deepEqual([await t.get(B, 'tail'), await t.get(C, 'stray')], [undefined, undefined]);
    t.close();
  });

  it('does not write into a region whose fence is behind until it rejoins, and never into the current primary', async () => {
    const t = await threeRegions();
    await t.raise(A, initialFence(A));
    const second = nextFence(initialFence(A), B, 2000);
    for (const r of [B, C]) await t.raise(r, second); // A missed the failover
    await t.put(B, { pk: 'k', v: 1 });
    await t.run(B, at(await t.records(B), 2001));
    assert.deepEqual([t.lastBatch().targets[A]!.notAdmitted, t.lastBatch().targets[C]!.replicated], [1, 1]);
    assert.equal(await t.get(A, 'k'), undefined);
    // C's link, enabled by mistake, must not write into B (the primary) either.
    await t.put(C, { pk: 'c', v: 1 });
    await t.run(C, at((await t.records(C)).filter((r) => r.dynamodb!.Keys!.pk!.S === 'c'), 2002));
    assert.equal(await t.get(B, 'c'), undefined);
    assert.equal(t.lastBatch().forReview, 1, 'a write to C while B is primary is reported, not replicated');
    t.close();
  });

  it('a rejoin mark stays with its region: raising a fence keeps the region\'s own and never copies the given fence\'s', async () => {
    const t = await threeRegions();
    const state = stateTableName(t.spec.name);
    const second = nextFence(initialFence(A), B, 2000);
    for (const r of [B, C]) await t.raise(r, second);
    await markRejoined(sdkDynamo(client(C)), state, second, 1990);
    const third = nextFence(second, C, 3000);
    // B's raise is given C's fence, mark included (as a copy of the primary's fence would be): B has rejoined nothing.
    const raisedB = await t.raise(B, { ...third, rejoined: 2, rejoinedAt: 1990 });
    const raisedC = await t.raise(C, third);
    const raisedA = await t.raise(A, { ...third, rejoined: 2, rejoinedAt: 1990 }); // A had no fence at all
    assert.deepEqual([raisedB.outcome, raisedC.outcome, raisedA.outcome], ['raised', 'raised', 'raised']);
    assert.deepEqual([await t.fence(A), await t.fence(B), await t.fence(C)], [third, third, { ...third, rejoined: 2, rejoinedAt: 1990 }]);
    assert.deepEqual([raisedB.fence, raisedC.fence], [third, { ...third, rejoined: 2, rejoinedAt: 1990 }], 'each raise answers with what its region holds');
    t.close();
  });
});
