import { strict as assert } from 'node:assert';
import { DescribeTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { stateTableName } from '../../config/names';
import { METADATA } from '../../handlers/contract';
import { Fence, inEffect, initialFence, nextFence, raiseFence } from '../../handlers/fence';
import { makeHandler } from '../../handlers/replicate';
import { readReviewEntries } from '../../handlers/review';
import { provisionTables } from '../../local/tables';
import { client, StreamTap, tableSpec } from '../support/ddb';
import { sdkDynamo } from '../../handlers/dynamo-sdk';

const A = 'us-east-1';
const B = 'eu-west-1';
const C = 'ap-southeast-2';
const REGIONS = [A, B, C];

/** One table in A, B and C with a link from each region to the two others; records stamped by the caller. */
async function threeRegions() {
  const spec = tableSpec({ primaryRegion: A, replicaRegions: [B, C] });
  await provisionTables(spec, client);
  const state = stateTableName(spec.name);
  const taps = new Map<string, StreamTap>();
  for (const r of REGIONS) taps.set(r, new StreamTap((await client(r).send(new DescribeTableCommand({ TableName: spec.name }))).Table!.LatestStreamArn!, r));
  const logs: Record<string, unknown>[] = [];
  const links = new Map(
    REGIONS.map((source) => [
      source,
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
      ),
    ]),
  );
  // DynamoDB Local stamps whole minutes: stamp each record with the second it was read here.
  const now = () => Math.floor(Date.now() / 1000);
  const records = async (region: string) => (await taps.get(region)!.event()).Records.map((r: DynamoDBRecord) => ({ ...r, dynamodb: { ...r.dynamodb!, ApproximateCreationDateTime: now() } }));
  const get = async (region: string, pk: string) => (await client(region).send(new GetItemCommand({ TableName: spec.name, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item;
  return {
    now,
    records,
    get,
    run: (source: string, rs: DynamoDBRecord[]) => links.get(source)!({ Records: rs }),
    put: (region: string, pk: string, v: number) => client(region).send(new PutItemCommand({ TableName: spec.name, Item: { pk: { S: pk }, v: { N: String(v) } } })),
    raiseEverywhere: async (f: Fence) => {
      for (const r of REGIONS) await raiseFence(sdkDynamo(client(r)), state, f);
    },
    review: (region: string) => readReviewEntries(sdkDynamo(client(region)), state),
    lastBatch: () => logs.filter((l) => l.msg === 'batch').at(-1) as { targets: Record<string, Record<string, number>>; echoes: number; forReview: number },
    close: () => taps.forEach((t) => t.close()),
  };
}

describe('failover handover: the old primary replicates its term until the new term is acted on', () => {
  it('inEffect leaves out only the terms whose handover is still ahead', () => {
    const second = nextFence(initialFence(A), B, 200, 150);
    assert.deepEqual(inEffect(second, 149), { generation: 1, primary: A, terms: [{ gen: 1, primary: A, start: 0 }] });
    assert.deepEqual(inEffect(second, 150), second);
    const legacy = nextFence(initialFence(A), B, 200); // raised before handovers existed: at once
    assert.deepEqual(inEffect(legacy, 0), legacy);
  });

  it('delivers a write the old primary took after the fences were raised, before the handover, to every replica, the new primary included', async () => {
    const t = await threeRegions();
    try {
      await t.put(A, 'k', 1);
      await t.run(A, await t.records(A));
      const start = t.now() + 120;
      await t.raiseEverywhere(nextFence(initialFence(A), B, start, start - 60));
      await t.put(A, 'k', 2); // acknowledged by A in its own term: it must not be lost
      await t.run(A, await t.records(A));
      assert.deepEqual([t.lastBatch().targets[B]!.replicated, t.lastBatch().targets[C]!.replicated, t.lastBatch().forReview], [1, 1, 0]);
      for (const r of [B, C]) {
        const item = await t.get(r, 'k');
        assert.equal(item?.v?.N, '2', `${r} holds A's last write`);
        assert.match(item![METADATA.version]!.S!, /^000001:/, 'versioned in A\'s term, below anything of B\'s term');
      }
      // On B's stream those writes are replication's echoes (written before B's term): B's link sends them nowhere.
      const onB = await t.records(B);
      await t.run(B, onB);
      assert.deepEqual([t.lastBatch().echoes, t.lastBatch().targets[A]!.replicated, t.lastBatch().targets[C]!.replicated], [onB.length, 0, 0]);
    } finally {
      t.close();
    }
  });

  it('after the handover, the old primary\'s link writes nowhere and reports what it still had', async () => {
    const t = await threeRegions();
    try {
      await t.put(A, 'k', 1);
      await t.run(A, await t.records(A));
      const start = t.now() + 60;
      await t.raiseEverywhere(nextFence(initialFence(A), B, start, t.now() - 1));
      await t.put(A, 'k', 2);
      await t.run(A, await t.records(A));
      assert.deepEqual([(await t.get(B, 'k'))?.v?.N, (await t.get(C, 'k'))?.v?.N], ['1', '1']);
      assert.deepEqual((await t.review(A)).map((e) => [e.kind, e.key.pk!.S]), [['old-term', 'k']]);
    } finally {
      t.close();
    }
  });
});
