/**
 * CPU time and items per second of one backfill worker (handlers/backfill-worker.ts) copying 5,000
 * items of about 1 KB, on DynamoDB Local: `npx tsx bench/backfill-worker.ts [items]`. CPU is this
 * process's (the worker: SDK, JSON, hashing), not DynamoDB Local's, which runs in its own JVM.
 */
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { stateTableName } from '../config/names';
import { makeWorker } from '../handlers/backfill-worker';
import { startDynamoDbLocal, useLocalEndpoint } from '../local/dynamodb-local';
import { provisionTables } from '../local/tables';

async function main(): Promise<void> {
  const items = Number(process.argv[2] ?? 5_000);
  const ddb = await startDynamoDbLocal();
  useLocalEndpoint(ddb.endpoint);
  const clients = new Map<string, DynamoDBClient>();
  const clientFor = (region: string) => clients.get(region) ?? clients.set(region, new DynamoDBClient({ region })).get(region)!;
  try {
    const spec = { name: 'BackfillBench', partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] };
    await provisionTables(spec, clientFor);
    const payload = 'x'.repeat(1_000); // with the key and names: about 1 KB, one write unit
    for (let i = 0; i < items; i += 25) {
      const batch = Array.from({ length: Math.min(25, items - i) }, (_, j) => ({ PutRequest: { Item: { pk: { S: `item-${String(i + j).padStart(7, '0')}` }, payload: { S: payload }, n: { N: String(i + j) } } } }));
      let left: typeof batch | undefined = batch;
      while (left?.length) left = (await clientFor('us-east-1').send(new BatchWriteItemCommand({ RequestItems: { [spec.name]: left } }))).UnprocessedItems?.[spec.name] as typeof batch | undefined;
    }
    const worker = makeWorker({
      config: { source: { region: 'us-east-1', tableName: spec.name }, targets: [{ region: 'eu-west-1', tableName: spec.name }], state: { region: 'us-east-1', tableName: stateTableName(spec.name) }, keyNames: ['pk'] },
      clientFor,
    });
    const cpu = process.cpuUsage();
    const started = performance.now();
    const result = await worker({ targetRegion: 'eu-west-1', segment: 0, totalSegments: 1, generation: 1 });
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    console.log(JSON.stringify({ items: result.processed, end: result.end, seconds: +seconds.toFixed(2), itemsPerSecond: Math.round(result.processed / seconds), cpuSeconds: +cpuSeconds.toFixed(2), cpuMsPerItem: +((cpuSeconds * 1000) / result.processed).toFixed(3), cpuShare: +(cpuSeconds / seconds).toFixed(2) }));
  } finally {
    clients.forEach((c) => c.destroy());
    await ddb.stop();
  }
}

void main();
