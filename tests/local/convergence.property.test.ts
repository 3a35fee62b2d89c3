import { strict as assert } from 'node:assert';
import { DeleteItemCommand, DescribeTableCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { startLocalReplication } from '../../local/pipeline';
import { provisionTables } from '../../local/tables';
import { METADATA } from '../../handlers/contract';
import type { ConflictPolicy } from '../../handlers/contract';
import { encodeVersion } from '../../handlers/versions';
import { client, diffTables, StreamTap, tableSpec } from '../support/ddb';
import { chaosSettings, mulberry32, propertyRuns } from '../support/chaos';
import { freshDynamoDbLocal } from '../support/setup';

const REPLICAS = ['eu-west-1', 'ap-southeast-2'];

type Op =
  | { kind: 'put' | 'update'; key: number; value: number }
  | { kind: 'delete'; key: number }
  /** A write to a replica outside replication, with a marker no source state has. */
  | { kind: 'oob-put' | 'oob-update'; key: number; region: number };

const sourceOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: fc.nat(2), value: fc.nat(1000) }),
  fc.record({ kind: fc.constant('update' as const), key: fc.nat(2), value: fc.nat(1000) }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.nat(2) }),
);
const outOfBandOp: fc.Arbitrary<Op> = fc.record({ kind: fc.constantFrom('oob-put' as const, 'oob-update' as const), key: fc.nat(2), region: fc.nat(REPLICAS.length - 1) });

/** Half the histories have no out-of-band writes at all: then not one conflict may be reported. */
const history = fc.oneof(
  fc.array(sourceOp, { minLength: 1, maxLength: 30 }),
  fc.array(fc.oneof({ arbitrary: sourceOp, weight: 4 }, { arbitrary: outOfBandOp, weight: 1 }), { minLength: 1, maxLength: 30 }),
);

const RUNS = propertyRuns(500, 60);

describe('convergence and true counts under duplicates, rewinds and bisection (property, DynamoDB Local)', function () {
  this.timeout(RUNS * 5_000);

  // On DynamoDB Local as the tests before left it, every run is slower (see freshDynamoDbLocal).
  before(async function () {
    this.timeout(120_000);
    await freshDynamoDbLocal();
  });

  it(`replicas converge, versions never go back, no conflict is invented and none is missed (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(history, chaosSettings, fc.constantFrom<ConflictPolicy>('source-wins', 'keep-replica'), async (ops, c, conflictPolicy) => {
        const spec = tableSpec({ replicaRegions: REPLICAS });
        const random = mulberry32(c.seed);
        const conflicts = new Set<string>();
        /** Per region and key, the versions replication wrote, deletions included, in the order they landed. */
        const applied = new Map<string, string[]>();
        const existingStreamArn = c.catchUp ? await provisionTables(spec, client) : undefined;
        if (c.catchUp) await applyHistory(spec.name, ops);
        const replication = await startLocalReplication({
          table: spec,
          existingStreamArn,
          clientFor: client,
          mapping: { batchSize: c.batchSize, bisectBatchOnFunctionError: c.bisect, parallelizationFactor: c.parallelizationFactor, maximumRetryAttempts: -1, maximumRecordAgeInSeconds: -1 },
          emulator: { pollIntervalMs: 10, discoveryIntervalMs: 30, retryDelayMs: 0, log: () => undefined },
          handler: { conflictPolicy },
          handlerDeps: {
            log: () => undefined,
            onApplied: ({ target, plan, outcome }) => {
              const at = `${target.region} ${plan.key}`;
              if ((outcome.status === 'applied' && outcome.conflict) || outcome.status === 'kept') conflicts.add(at);
              if (outcome.status === 'applied') applied.set(at, [...(applied.get(at) ?? []), encodeVersion(plan.version)]);
            },
          },
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
        const t0 = Date.now();
        try {
          if (!c.catchUp) await applyHistory(spec.name, ops);
          await replication.emulator.waitForIdle(60_000);
          assert.equal(replication.onFailure.messages.length, 0);

          // Counts: a conflict exactly where an out-of-band write was later met by a change of that item.
          const touched = new Set(ops.filter((o) => o.kind.startsWith('oob')).map((o) => `${REPLICAS[(o as { region: number }).region]} {"pk":S"k${o.key}"}`));
          for (const at of conflicts) assert.ok(touched.has(at), `conflict reported at ${at}, where no out-of-band write happened`);
          const changes = sourceChanges(ops);
          ops.forEach((o, i) => {
            if (!o.kind.startsWith('oob')) return;
            const at = `${REPLICAS[(o as { region: number }).region]} {"pk":S"k${o.key}"}`;
            if (changes.some((j) => j > i && ops[j]!.key === o.key)) assert.ok(conflicts.has(at), `out-of-band write #${i} at ${at} was never reported`);
          });

          // Convergence: every item replication owns equals the source.
          for (const region of REPLICAS) {
            const diff = await diffTables(spec, region);
            const owned = (key: string) => !ownedByOutOfBand(ops, region, key, conflictPolicy);
            const mismatched = [...diff.missing, ...diff.extra, ...diff.different].filter(owned);
            assert.deepEqual(mismatched, [], `replica ${region} equals the source`);
          }
          // Versions never go back: not in what replication wrote (deletions included), nor on the replica's own stream.
          const outOfBand = ops.some((o) => o.kind.startsWith('oob'));
          // (An out-of-band PutItem erases the replica's version: a replay may then land once more.)
          for (const [at, versions] of applied) {
            if (!touched.has(at)) versions.forEach((v, i) => i > 0 && assert.ok(v > versions[i - 1]!, `${at}: wrote ${v} after ${versions[i - 1]}`));
          }
          if (!outOfBand) for (const region of REPLICAS) await assertNeverWentBack(spec.name, region);
        } finally {
          await replication.stop();
          if (process.env.TIMING) console.error(`run ${++runCount}: ${Date.now() - t0} ms`);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

/**
 * Whether an out-of-band write may leave this replica item different at the end: under keep-replica
 * always (the replica's change is kept); under source-wins when no source change came after it.
 */
function ownedByOutOfBand(ops: Op[], region: string, keyText: string, policy: ConflictPolicy): boolean {
  let last = -1;
  ops.forEach((o, i) => {
    if (o.kind.startsWith('oob') && REPLICAS[(o as { region: number }).region] === region && `{"pk":S"k${o.key}"}` === keyText) last = i;
  });
  if (last < 0) return false;
  if (policy === 'keep-replica') return true;
  const key = (ops[last] as { key: number }).key;
  return !sourceChanges(ops).some((j) => j > last && ops[j]!.key === key);
}

/** Indexes of the source operations that change their item (a write that changes nothing makes no stream record). */
function sourceChanges(ops: Op[]): number[] {
  const items = new Map<number, { v?: number; u?: number }>();
  const out: number[] = [];
  ops.forEach((o, i) => {
    const before = items.get(o.key);
    let after = before;
    if (o.kind === 'put') after = { v: o.value };
    else if (o.kind === 'update') after = { ...before, u: o.value };
    else if (o.kind === 'delete') after = undefined;
    else return;
    if (JSON.stringify(before) !== JSON.stringify(after)) out.push(i);
    if (after) items.set(o.key, after);
    else items.delete(o.key);
  });
  return out;
}

let marker = 0;
let runCount = 0;

async function applyHistory(table: string, history: Op[]): Promise<void> {
  const source = client('us-east-1');
  for (const o of history) {
    const Key = { pk: { S: `k${o.key}` } };
    if (o.kind === 'put') await source.send(new PutItemCommand({ TableName: table, Item: { ...Key, v: { N: String(o.value) }, tag: { SS: ['a', `t${o.value % 3}`] } } }));
    else if (o.kind === 'update') {
      // Other spellings of the same number: DynamoDB Local keeps them as UpdateItem wrote them.
      const spelling = [String(o.value), `${o.value}.00`, `${o.value}E0`][o.value % 3]!;
      await source.send(new UpdateItemCommand({ TableName: table, Key, UpdateExpression: 'SET u = :u', ExpressionAttributeValues: { ':u': { N: spelling } } }));
    } else if (o.kind === 'delete') await source.send(new DeleteItemCommand({ TableName: table, Key }));
    else if (o.kind === 'oob-put' || o.kind === 'oob-update') {
      const replica = client(REPLICAS[o.region]!);
      const oob = { S: `oob-${++marker}` };
      if (o.kind === 'oob-put') await replica.send(new PutItemCommand({ TableName: table, Item: { ...Key, oob } }));
      else await replica.send(new UpdateItemCommand({ TableName: table, Key, UpdateExpression: 'SET oob = :o', ExpressionAttributeValues: { ':o': oob } }));
    }
  }
}

/**
 * Reads the replica's own stream: every version replication wrote to an item must be newer than the
 * one before, across deletions too (a REMOVE leaves a tombstone that older records cannot pass). An
 * older record applied over a newer one shows here even when a later replay repaired the end state.
 */
async function assertNeverWentBack(table: string, region: string): Promise<void> {
  const { Table } = await client(region).send(new DescribeTableCommand({ TableName: table }));
  const tap = new StreamTap(Table!.LatestStreamArn!, region);
  try {
    const last = new Map<string, string>();
    for (const r of await tap.next()) {
      if (r.eventName === 'REMOVE') continue;
      const key = r.dynamodb!.Keys!.pk!.S!;
      const version = r.dynamodb!.NewImage![METADATA.version]!.S!;
      const before = last.get(key);
      assert.ok(before === undefined || version > before, `replica ${region} item ${key} went from version ${before} back to ${version}`);
      last.set(key, version);
    }
  } finally {
    tap.close();
  }
}
