import { strict as assert } from 'node:assert';
import { DeleteItemCommand, DescribeTableCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { startLocalReplication } from '../../local/pipeline';
import { METADATA } from '../../handlers/contract';
import { client, diffTables, StreamTap, tableSpec } from '../support/ddb';

type Op = { kind: 'put' | 'update'; key: number; value: number } | { kind: 'delete'; key: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: fc.nat(2), value: fc.nat(1000) }),
  fc.record({ kind: fc.constant('update' as const), key: fc.nat(2), value: fc.nat(1000) }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.nat(2) }),
);

/** How Lambda may deliver: re-sends, failures after partial work, spurious rewinds, bisection. */
const chaos = fc.record({
  seed: fc.integer(),
  batchSize: fc.integer({ min: 1, max: 8 }),
  bisect: fc.boolean(),
  throwBefore: fc.double({ min: 0, max: 0.3, noNaN: true }),
  throwAfter: fc.double({ min: 0, max: 0.5, noNaN: true }),
  spuriousRewind: fc.double({ min: 0, max: 0.3, noNaN: true }),
  duplicate: fc.double({ min: 0, max: 0.3, noNaN: true }),
});

function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RUNS = process.env.CI ? 200 : Number(process.env.PROPERTY_RUNS ?? 60);

describe('convergence under duplicates, rewinds and bisection (property, DynamoDB Local)', function () {
  this.timeout(RUNS * 5_000);

  it(`every replica equals the source after any history and delivery (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), chaos, async (history, c) => {
        const spec = tableSpec({ replicaRegions: ['eu-west-1', 'ap-southeast-2'] });
        const random = mulberry32(c.seed);
        const replication = await startLocalReplication({
          table: spec,
          clientFor: client,
          mapping: { batchSize: c.batchSize, bisectBatchOnFunctionError: c.bisect, maximumRetryAttempts: -1, maximumRecordAgeInSeconds: -1 },
          emulator: { pollIntervalMs: 10, discoveryIntervalMs: 30, retryDelayMs: 0, log: () => undefined },
          handlerDeps: { log: () => undefined },
          wrapInvoke: (invoke) => async (event: DynamoDBStreamEvent) => {
            if (random() < c.throwBefore) throw new Error('injected: failed before any write');
            if (random() < c.duplicate) await invoke(event);
            const response = (await invoke(event)) as DynamoDBBatchResponse;
            if (random() < c.throwAfter) throw new Error('injected: failed after writing');
            if (random() < c.spuriousRewind && response.batchItemFailures.length === 0) {
              const r = event.Records[Math.floor(random() * event.Records.length)]!;
              return { batchItemFailures: [{ itemIdentifier: r.dynamodb!.SequenceNumber! }] };
            }
            return response;
          },
        });
        try {
          await applyHistory(spec.name, history);
          await replication.emulator.waitForIdle(60_000);
          for (const region of spec.replicaRegions) {
            assert.deepEqual(await diffTables(spec, region), { missing: [], extra: [], different: [] }, `replica ${region} equals the source`);
            await assertNeverWentBack(spec.name, region);
          }
          assert.equal(replication.onFailure.messages.length, 0);
        } finally {
          await replication.stop();
        }
      }),
      { numRuns: RUNS },
    );
  });
});

async function applyHistory(table: string, history: Op[]): Promise<void> {
  const source = client('us-east-1');
  for (const o of history) {
    const Key = { pk: { S: `k${o.key}` } };
    if (o.kind === 'put') await source.send(new PutItemCommand({ TableName: table, Item: { ...Key, v: { N: String(o.value) }, tag: { SS: ['a', `t${o.value % 3}`] } } }));
    else if (o.kind === 'update') {
      await source.send(new UpdateItemCommand({ TableName: table, Key, UpdateExpression: 'SET u = :u', ExpressionAttributeValues: { ':u': { N: String(o.value) } } }));
    } else await source.send(new DeleteItemCommand({ TableName: table, Key }));
  }
}

/**
 * Reads the replica's own stream: every version replication wrote to an item must be newer than
 * the one before. An older record applied after a newer one (a stale write) would show here, even
 * when a later replay repaired the end state.
 */
async function assertNeverWentBack(table: string, region: string): Promise<void> {
  const { Table } = await client(region).send(new DescribeTableCommand({ TableName: table }));
  const tap = new StreamTap(Table!.LatestStreamArn!, region);
  try {
    const last = new Map<string, string>();
    for (const r of await tap.next()) {
      const seq = r.dynamodb!.NewImage?.[METADATA.seq]?.S;
      if (!seq) continue;
      const key = r.dynamodb!.Keys!.pk!.S!;
      const before = last.get(key);
      assert.ok(before === undefined || seq > before, `replica ${region} item ${key} went from version ${before} back to ${seq}`);
      last.set(key, seq);
    }
  } finally {
    tap.close();
  }
}
