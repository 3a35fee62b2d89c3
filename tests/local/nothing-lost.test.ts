import { strict as assert } from 'node:assert';
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { keyText } from '../../handlers/attribute-values';
import { liteDynamo } from '../../handlers/dynamo-lite';
import { FaultProxy, startFaultProxy } from '../../local/fault-proxy';
import { LocalReplication, startLocalReplication } from '../../local/pipeline';
import { client, diffTables, StreamTap, tableSpec } from '../support/ddb';

const REPLICAS = ['eu-west-1', 'ap-southeast-2'];

/** ~300 writes over 40 keys: puts, updates, deletes and re-inserts. */
async function workload(table: string): Promise<void> {
  const source = client('us-east-1');
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 300; i++) {
    const Key = { pk: { S: `k${Math.floor(random() * 40)}` } };
    const r = random();
    if (r < 0.5) await source.send(new PutItemCommand({ TableName: table, Item: { ...Key, v: { N: String(i) }, blob: { B: new Uint8Array([i % 256]) } } }));
    else if (r < 0.85) await source.send(new UpdateItemCommand({ TableName: table, Key, UpdateExpression: 'SET u = :u', ExpressionAttributeValues: { ':u': { N: String(i) } } }));
    else await source.send(new DeleteItemCommand({ TableName: table, Key }));
  }
}

describe('fault injection: nothing is lost (DynamoDB Local behind a faulty proxy)', function () {
  this.timeout(120_000);
  let proxy: FaultProxy | undefined;
  let replication: LocalReplication | undefined;
  afterEach(async () => {
    await replication?.stop();
    await proxy?.close();
  });

  async function start(maximumRetryAttempts: number, parallelizationFactor = 1) {
    proxy = await startFaultProxy({ target: process.env.AWS_ENDPOINT_URL_DYNAMODB!, throttleRate: 0.1, serverErrorRate: 0.1, dropRate: 0.05, dropAfterForwardRate: 0.05, seed: 7 });
    const spec = tableSpec({ replicaRegions: REPLICAS });
    const logs: Record<string, unknown>[] = [];
    // Replica writes go through the proxy with the deployed client (aws-lite), one retry; the emulator reads the source stream directly.
    const viaProxy = (region: string) => liteDynamo(region, { endpoint: proxy!.endpoint, retries: 1 });
    replication = await startLocalReplication({
      table: spec,
      clientFor: client,
      mapping: { batchSize: 20, maximumRetryAttempts, bisectBatchOnFunctionError: true, reportBatchItemFailures: true, parallelizationFactor },
      emulator: { pollIntervalMs: 20, discoveryIntervalMs: 100, retryDelayMs: 5, log: () => undefined },
      handlerDeps: { dynamo: viaProxy, log: (l) => logs.push(l) },
    });
    return { spec, logs, replication };
  }

  it('every change reaches the replicas or its batch is in the on-failure destination, and the counts add up', async () => {
    const { spec, logs, replication } = await start(2);
    await workload(spec.name);
    await replication.emulator.waitForIdle(90_000);

    const tap = new StreamTap(replication.streamArn);
    const records = await tap.next();
    tap.close();
    const { stats } = replication.emulator;
    const messages = replication.onFailure.messages;
    assert.equal(stats.recordsCommitted + stats.recordsDiscarded, records.length, 'every stream record was committed or discarded');
    assert.equal(messages.reduce((n, m) => n + m.DDBStreamBatchInfo.batchSize, 0), stats.recordsDiscarded, 'every discarded record is in an on-failure message');

    const inFailedBatch = (r: DynamoDBRecord) =>
      messages.some((m) => {
        const seq = BigInt(r.dynamodb!.SequenceNumber!);
        return seq >= BigInt(m.DDBStreamBatchInfo.startSequenceNumber) && seq <= BigInt(m.DDBStreamBatchInfo.endSequenceNumber);
      });
    const keysWithDiscardedChanges = new Set(records.filter(inFailedBatch).map((r) => keyText(r.dynamodb!.Keys!)));
    let equalKeys = 0;
    for (const region of REPLICAS) {
      const diff = await diffTables(spec, region);
      for (const key of [...diff.missing, ...diff.extra, ...diff.different]) {
        assert.ok(keysWithDiscardedChanges.has(key), `${region}: ${key} differs from the source, but none of its changes is in the on-failure destination`);
      }
      equalKeys += 40 - diff.missing.length - diff.extra.length - diff.different.length;
    }
    assert.ok(equalKeys > 40, 'most items replicated despite the faults');
    assert.ok(proxy!.stats.throttled > 0 && proxy!.stats.serverErrors > 0 && proxy!.stats.dropped > 0 && proxy!.stats.droppedAfterForward > 0, JSON.stringify(proxy!.stats));

    // Per invocation and target, each record is counted once: replicated, stale, duplicate or failed.
    for (const line of logs.filter((l) => l.msg === 'batch') as { records: number; targets: Record<string, Record<string, number>> }[]) {
      for (const region of REPLICAS) {
        const c = line.targets[region]!;
        assert.equal(c.replicated! + c.staleSkipped! + c.duplicates! + c.failures!, line.records, JSON.stringify(line));
      }
    }
  });

  for (const parallelizationFactor of [1, 3]) it(`with retries until success, transient faults neither lose nor corrupt anything (ParallelizationFactor ${parallelizationFactor})`, async () => {
    const { spec, replication } = await start(-1, parallelizationFactor);
    await workload(spec.name);
    proxy!.setFaults({ throttleRate: 0, serverErrorRate: 0, dropRate: 0, dropAfterForwardRate: 0 });
    await replication.emulator.waitForIdle(90_000);
    for (const region of REPLICAS) assert.deepEqual(await diffTables(spec, region), { missing: [], extra: [], different: [] });
    assert.equal(replication.onFailure.messages.length, 0);
  });
});
