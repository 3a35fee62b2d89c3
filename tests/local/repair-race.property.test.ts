import { strict as assert } from 'node:assert';
import { DeleteItemCommand, DescribeTableCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import type { DynamoDBRecord } from 'aws-lambda';
import { stateTableName } from '../../config/names';
import { METADATA } from '../../handlers/contract';
import type { SdkItem } from '../../handlers/attribute-values';
import { syncItem, SyncResult } from '../../handlers/repair';
import { makeHandler } from '../../handlers/replicate';
import { decodeVersion, encodeVersion } from '../../handlers/versions';
import { provisionTables } from '../../local/tables';
import { client, StreamTap, tableSpec } from '../support/ddb';
import { propertyRuns } from '../support/chaos';
import { freshDynamoDbLocal } from '../support/setup';

const EU = 'eu-west-1';
const STEPS = ['replica read', 'source read', 'write', 'source re-read', 'undo'] as const;

type SourceOp = { kind: 'put' | 'update' | 'delete'; key: number };
type Action =
  | SourceOp
  /** The replica drifts: a write outside replication. */
  | { kind: 'drift-put' | 'drift-delete'; key: number }
  /** Replication catches up: the handler gets every record written so far. */
  | { kind: 'replicate' }
  /** A repair of one item (reconcile and redrive) or a backfill of it, with source changes landing at one step of it. */
  | { kind: 'repair'; key: number; mode: 'repair' | 'backfill'; raceAt: (typeof STEPS)[number]; race: SourceOp[]; replicateInRace: boolean };

const sourceOp: fc.Arbitrary<SourceOp> = fc.record({ kind: fc.constantFrom('put' as const, 'update' as const, 'delete' as const), key: fc.nat(2) });
const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: sourceOp, weight: 4 },
  { arbitrary: fc.record({ kind: fc.constantFrom('drift-put' as const, 'drift-delete' as const), key: fc.nat(2) }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'replicate' as const }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('repair' as const),
      key: fc.nat(2),
      mode: fc.constantFrom('repair' as const, 'backfill' as const),
      raceAt: fc.constantFrom(...STEPS),
      race: fc.array(sourceOp.map((o) => ({ ...o, key: -1 })), { minLength: 0, maxLength: 3 }),
      replicateInRace: fc.boolean(),
    }),
    weight: 4,
  },
);

const RUNS = propertyRuns(300, 60);

describe('repairs racing live replication (property, DynamoDB Local)', function () {
  this.timeout(RUNS * 5_000);

  // On DynamoDB Local as the tests before left it, every run is slower (see freshDynamoDbLocal).
  before(async function () {
    this.timeout(120_000);
    await freshDynamoDbLocal();
  });

  it(`never leave a replica older than the source once drained, and report only repairs that happened (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 25 }), async (actions) => {
        const spec = tableSpec({ replicaRegions: [EU] });
        const streamArn = await provisionTables(spec, client);
        const tap = new StreamTap(streamArn);
        const { Table } = await client(EU).send(new DescribeTableCommand({ TableName: spec.name }));
        const replicaTap = new StreamTap(Table!.LatestStreamArn!, EU);
        const replicatedDeletes: string[] = [];
        const handler = makeHandler(
          { targets: [{ region: EU, tableName: spec.name }], fenceCacheMs: 10_000, state: { region: 'us-east-1', tableName: stateTableName(spec.name) }, conflictPolicy: 'source-wins', replicateTtlDeletes: true, maxConcurrency: 8 },
          // Deletions replication made (that removed an item), to tell its REMOVEs from the repair's.
          { log: () => undefined, onApplied: ({ plan, outcome }) => outcome.status === 'applied' && !plan.final && outcome.previousDigest !== 'absent' && replicatedDeletes.push(plan.key) },
        );
        const replicate = async () => handler(await tap.event());
        const source = client('us-east-1');
        let tag = 0;
        // When each key was last written on the source and last drifted, to tell drift from a lost write at the end.
        let step = 0;
        const lastSource = new Map<number, number>();
        const lastDrift = new Map<number, { step: number; kind: 'drift-put' | 'drift-delete' }>();
        const apply = async (o: SourceOp) => {
          const Key = { pk: { S: `k${o.key}` } };
          if (o.kind === 'put') await source.send(new PutItemCommand({ TableName: spec.name, Item: { ...Key, v: { N: String(++tag) } } }));
          else if (o.kind === 'update') await source.send(new UpdateItemCommand({ TableName: spec.name, Key, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: String(++tag) } } }));
          // Deleting an absent item changes nothing and leaves no stream record.
          else if (!(await source.send(new DeleteItemCommand({ TableName: spec.name, Key, ReturnValues: 'ALL_OLD' }))).Attributes) return;
          lastSource.set(o.key, ++step);
        };
        const readSource = async (Key: SdkItem) => (await source.send(new GetItemCommand({ TableName: spec.name, Key, ConsistentRead: true }))).Item;

        try {
          for (const a of actions) {
            if (a.kind === 'drift-put' || a.kind === 'drift-delete') lastDrift.set(a.key, { step: ++step, kind: a.kind });
            if (a.kind === 'replicate') await replicate();
            else if (a.kind === 'drift-put') await client(EU).send(new PutItemCommand({ TableName: spec.name, Item: { pk: { S: `k${a.key}` }, drift: { S: 'x' } } }));
            else if (a.kind === 'drift-delete') await client(EU).send(new DeleteItemCommand({ TableName: spec.name, Key: { pk: { S: `k${a.key}` } } }));
            else if (a.kind === 'repair') await raceOneRepair(a);
            else await apply(a as SourceOp);
          }
          // Drained: every record applied or skipped.
          for (let event = await tap.event(); event.Records.length > 0; event = await tap.event()) {
            assert.deepEqual((await handler(event)).batchItemFailures, [], 'the drain applies or skips every record');
          }
          for (let key = 0; key < 3; key++) await assertNotOlder(key);
        } finally {
          tap.close();
          replicaTap.close();
        }

        /** Runs one repair with the race injected at its step, then checks its report against the replica's own stream. */
        async function raceOneRepair(a: Extract<Action, { kind: 'repair' }>) {
          const keys = { pk: { S: `k${a.key}` } };
          await replicaTap.next(); // only what happens during this repair counts below
          replicatedDeletes.length = 0;
          let raced = false;
          const race = async (step: (typeof STEPS)[number]) => {
            if (raced || step !== a.raceAt) return;
            raced = true;
            for (const o of a.race) await apply({ ...o, key: a.key });
            if (a.replicateInRace) await replicate();
          };
          let sourceReads = 0;
          let replicaWrites = 0;
          const replica = {
            send: async (cmd: object) => {
              if (cmd instanceof GetItemCommand) await race('replica read');
              if (cmd instanceof PutItemCommand || cmd instanceof DeleteItemCommand) await race(replicaWrites++ === 0 ? 'write' : 'undo');
              return client(EU).send(cmd as never);
            },
          };
          const scanned = await readSource(keys); // what a scan saw before the backfill started
          const result: SyncResult = await syncItem({
            mode: a.mode,
            replica: replica as never,
            target: { region: EU, tableName: spec.name },
            keys,
            scanned,
            readSource: async () => {
              await race(sourceReads++ === 0 ? 'source read' : 'source re-read');
              return readSource(keys);
            },
            generation: 1,
            rules: { nowSeconds: Math.floor(Date.now() / 1000) },
          });
          const during = await replicaTap.next();
          assertReportTrue(a, result, during);
        }

        /** "Repaired" means a repair write is on the replica's stream; "left alone" means none is. */
        function assertReportTrue(a: Extract<Action, { kind: 'repair' }>, result: SyncResult, during: DynamoDBRecord[]) {
          const key = `k${a.key}`;
          const ofKey = during.filter((r) => r.dynamodb!.Keys!.pk!.S === key);
          const repairPuts = ofKey.filter((r) => r.eventName !== 'REMOVE' && (decodeVersion(r.dynamodb!.NewImage?.[METADATA.version]?.S)?.repair ?? 0) !== 0);
          const removes = ofKey.filter((r) => r.eventName === 'REMOVE').length - replicatedDeletes.filter((k) => k === `{"pk":S"${key}"}`).length;
          const what = JSON.stringify({ a, result, during: ofKey.map((r) => [r.eventName, r.dynamodb!.NewImage?.[METADATA.version]?.S]) });
          if (result.outcome.status === 'applied') {
            const wrote = result.written && encodeVersion(result.written);
            assert.ok(repairPuts.some((r) => r.dynamodb!.NewImage![METADATA.version]!.S === wrote) || removes > 0, `reported a repair that is not on the replica: ${what}`);
            if (result.undo === 'undone') assert.ok(removes > 0, `reported an undo that is not on the replica: ${what}`);
          } else {
            assert.equal(repairPuts.length, 0, `wrote while reporting ${result.outcome.status}: ${what}`);
            assert.ok(removes <= 0, `deleted while reporting ${result.outcome.status}: ${what}`);
          }
        }

        /** The replica holds the source's current item, or drift made after the source's last write, never an older or missing source item. */
        async function assertNotOlder(key: number) {
          const Key = { pk: { S: `k${key}` } };
          const [src, rep] = await Promise.all([readSource(Key), client(EU).send(new GetItemCommand({ TableName: spec.name, Key, ConsistentRead: true })).then((o) => o.Item)]);
          const repTag = rep?.v?.N;
          const drift = lastDrift.get(key);
          const driftedLast = (kind: 'drift-put' | 'drift-delete') => drift?.kind === kind && drift.step > (lastSource.get(key) ?? 0);
          if (!rep && src) assert.ok(driftedLast('drift-delete'), `replica k${key} is missing, the source holds v${src.v?.N} and no drift deleted it after that write`);
          if (rep && repTag === undefined) assert.ok(driftedLast('drift-put'), `replica k${key} holds drift that a later source write should have replaced`);
          if (repTag === undefined) return; // absent or drift, explained above
          assert.equal(repTag, src?.v?.N, `replica k${key} holds source state v${repTag}, the source holds ${src ? `v${src.v?.N}` : 'nothing'}`);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
