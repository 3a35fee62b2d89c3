import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mapLimit } from '../handlers/concurrency';
import { startDynamoDbLocal, useLocalEndpoint } from '../local/dynamodb-local';
import { EventSourceMappingEmulator } from '../local/esm/emulator';
import { startFaultProxy } from '../local/fault-proxy';
import { PROJECT_MAPPING, startLocalReplication } from '../local/pipeline';
import { percentile } from '../local/replication-stats';
import { createRegionalTable, provisionTables } from '../local/tables';
import { planProgram } from '../preview/run-program';
import { baselineHandler } from './baseline';
import { startProxyThread } from './proxy-worker';
import { renderChart } from './chart';
import { workloads, writeWorkload } from './workloads';

const ROOT = resolve(__dirname, '..');

async function main() {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, rtt: { type: 'string' }, jitter: { type: 'string' } }, strict: true });
  const quick = !!values.quick;
  const rtt = Number(values.rtt ?? 70);
  const jitter = Number(values.jitter ?? 0);
  if (!(rtt >= 0) || !(jitter >= 0)) throw new Error('--rtt and --jitter are milliseconds: use numbers of at least 0');
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const ddb = await startDynamoDbLocal();
  useLocalEndpoint(ddb.endpoint);
  const proxy = await startFaultProxy({ target: ddb.endpoint, latencyMs: rtt, jitterMs: jitter });
  const direct = (region: string) => new DynamoDBClient({ region, requestHandler: { httpAgent: { maxSockets: 256 } } });
  const viaProxy = (region: string) => new DynamoDBClient({ region, endpoint: proxy.endpoint, requestHandler: { httpAgent: { maxSockets: 256 } } });
  const log = () => undefined;
  const results: Record<string, unknown>[] = [];
  const say = (s: string) => console.log(s);
  say(`Benchmark: ${quick ? 'quick' : 'full'}, cross-region round trip ${rtt} ms${jitter ? ` +0..${jitter} ms` : ''}, batch size ${PROJECT_MAPPING.batchSize}`);

  const ceiling = await engineCeiling(direct('eu-west-1'));
  say(`DynamoDB Local's own ceiling on this machine: ${ceiling.toFixed(0)} unconditional writes/s (no added latency)`);

  let i = 0;
  for (const w of workloads(quick ? 0.3 : 1)) {
    const spec = { name: `bench-${++i}-${process.pid}`, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] };
    const streamArn = await provisionTables(spec, direct);
    await createRegionalTable(direct('eu-west-1'), { ...spec, name: `${spec.name}-baseline` });
    await writeWorkload(direct('us-east-1'), spec.name, w);

    let writes = 0;
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    const started = Date.now();
    const ours = await startLocalReplication({
      table: spec,
      clientFor: direct,
      existingStreamArn: streamArn,
      handler: { maxConcurrency: 128 },
      handlerDeps: { dynamo: viaProxy, log, onApplied: (e) => (writes += e.outcome.status === 'applied' ? 1 : 0) },
      emulator: { log },
    });
    await ours.emulator.waitForIdle(600_000);
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    await ours.stop();
    const records = ours.emulator.stats.recordsCommitted;

    const baselineRecords = Math.min(records, quick ? 120 : 400);
    const counter = { writes: 0 };
    const streams = new DynamoDBStreamsClient({ region: 'us-east-1' });
    const baseline = new EventSourceMappingEmulator({ ...PROJECT_MAPPING, streamArn, region: 'us-east-1', streams, invoke: baselineHandler(viaProxy('eu-west-1'), `${spec.name}-baseline`, counter), log }).start();
    const baseStart = Date.now();
    while (counter.writes < baselineRecords) await new Promise((r) => setTimeout(r, 20));
    const baseRate = counter.writes / ((Date.now() - baseStart) / 1000);
    await baseline.stop();
    streams.destroy();

    const rate = records / seconds;
    const row = {
      workload: w.name,
      records,
      recordsPerSecond: Math.round(rate),
      writesPerRecord: +(writes / records).toFixed(3),
      baselineRecordsPerSecond: +baseRate.toFixed(1),
      baselineMeasuredOn: baselineRecords,
      ratioToBaseline: +(rate / baseRate).toFixed(1),
      peakRssMb: Math.round(peakRss / 2 ** 20),
    };
    results.push(row);
    say(`${w.name}: ${row.recordsPerSecond} records/s (${row.ratioToBaseline}x baseline ${row.baselineRecordsPerSecond}/s), ${row.writesPerRecord} writes/record, peak RSS ${row.peakRssMb} MB`);
  }

  const synthetic = await handlerCeiling(workloads(quick ? 0.3 : 1)[0]!, rtt, jitter, ddb.endpoint, direct);
  results.push(synthetic);
  say(`${synthetic.workload}: ${synthetic.recordsPerSecond} records/s (${synthetic.ratioToBaseline}x baseline), ${synthetic.writesPerRecord} writes/record`);

  // Each live record costs a source write, a stream read and a replica write on the same engine:
  // offer well below what it takes, or the lag measures the engine's backlog.
  const lagRate = Math.min(500, Math.floor(ceiling / 4));
  const lag = await lagAt(lagRate, quick ? 5 : 15, direct, viaProxy);
  if (lagRate < 500) say(`(500 records/s is more than DynamoDB Local takes here with source and replica on one engine; measured at ${lagRate}/s)`);
  say(`lag at ${lag.offeredPerSecond} records/s offered (${lag.achievedPerSecond} written): p50 ${lag.p50} ms, p99 ${lag.p99} ms`);
  const infra = await infraScaling(quick ? [1, 5, 20] : [1, 5, 10, 20]);
  for (const r of infra) say(`offline preview of ${r.tables} table(s) x 4 replica regions: ${r.resources} resources, ${r.seconds} s, +${r.heapMb} MB heap`);

  await proxy.close();
  await ddb.stop();
  const report = {
    at: new Date().toISOString(),
    note: 'Where recordsPerSecond is near engineCeilingWritesPerSecond, DynamoDB Local (one JVM on this machine), not the handler, is the limit.',     quick,
    rttMs: rtt,
    jitterMs: jitter,
    batchSize: PROJECT_MAPPING.batchSize,
    engineCeilingWritesPerSecond: Math.round(ceiling),
    workloads: results,
    lag,
    infra,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(ROOT, 'bench/results/latest.svg'), renderChart(results as never));
  say('Wrote bench/results/latest.json and bench/results/latest.svg');
}

/**
 * The handler's own ceiling: the same uniform records, with replica writes answered by the proxy
 * after the round trip instead of by DynamoDB Local (whose throughput is the limit above).
 */
async function handlerCeiling(w: ReturnType<typeof workloads>[number], rtt: number, jitter: number, engine: string, direct: (r: string) => DynamoDBClient) {
  const synthetic = await startProxyThread({ target: engine, latencyMs: rtt, jitterMs: jitter, answerLocally: ['PutItem', 'DeleteItem'] });
  const spec = { name: `ceiling-handler-${process.pid}`, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] };
  const streamArn = await provisionTables(spec, direct);
  await writeWorkload(direct('us-east-1'), spec.name, w);
  let writes = 0;
  const started = Date.now();
  const run = await startLocalReplication({
    table: spec,
    clientFor: direct,
    existingStreamArn: streamArn,
    handler: { maxConcurrency: 128 },
    handlerDeps: {
      dynamo: (region) => new DynamoDBClient({ region, endpoint: synthetic.endpoint, requestHandler: { httpAgent: { maxSockets: 256 } } }),
      log: () => undefined,
      onApplied: (e) => (writes += e.outcome.status === 'applied' ? 1 : 0),
    },
    emulator: { log: () => undefined },
  });
  await run.emulator.waitForIdle(600_000);
  const seconds = (Date.now() - started) / 1000;
  await run.stop();
  await synthetic.close();
  const records = run.emulator.stats.recordsCommitted;
  const baseline = 1000 / (rtt + jitter / 2);
  return {
    workload: `${w.name}, synthetic engine`,
    records,
    recordsPerSecond: Math.round(records / seconds),
    writesPerRecord: +(writes / records).toFixed(3),
    baselineRecordsPerSecond: +baseline.toFixed(1),
    baselineMeasuredOn: 0,
    ratioToBaseline: +(records / seconds / baseline).toFixed(1),
    peakRssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
}

/** Unconditional 1 KB PutItems at concurrency 64, straight to DynamoDB Local: 2 s of warm-up, then 4 s measured. */
async function engineCeiling(client: DynamoDBClient): Promise<number> {
  const spec = { name: `ceiling-${process.pid}`, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: 'eu-west-1', replicaRegions: [] };
  await createRegionalTable(client, spec);
  let n = 0;
  const run = async (ms: number) => {
    const end = Date.now() + ms;
    await mapLimit(Array.from({ length: 64 }), 64, async () => {
      while (Date.now() < end) await client.send(new PutItemCommand({ TableName: spec.name, Item: { pk: { S: `k${n++}` }, payload: { S: 'x'.repeat(1024) } } }));
    });
  };
  await run(2000);
  n = 0;
  await run(4000);
  return n / 4;
}

/** Live writes at a fixed rate; lag = replica write time minus acknowledged source write time. */
async function lagAt(perSecond: number, seconds: number, direct: (r: string) => DynamoDBClient, viaProxy: (r: string) => DynamoDBClient) {
  const spec = { name: `lag-${process.pid}`, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] };
  const writtenAt = new Map<string, number>();
  const lags: number[] = [];
  const replication = await startLocalReplication({
    table: spec,
    clientFor: direct,
    handler: { maxConcurrency: 128 },
    handlerDeps: {
      dynamo: viaProxy,
      log: () => undefined,
      onApplied: (e) => {
        if (e.outcome.status !== 'applied') return;
        for (const c of e.plan.changes) {
          const t = writtenAt.get(c.keys.pk?.S ?? '');
          if (t !== undefined) lags.push(e.atMs - t);
        }
      },
    },
    emulator: { log: () => undefined },
  });
  const source = direct('us-east-1');
  const started = Date.now();
  let sent = 0;
  const pending: Promise<void>[] = [];
  while (Date.now() - started < seconds * 1000) {
    const due = Math.floor(((Date.now() - started) / 1000) * perSecond);
    for (; sent < due; sent++) {
      // Lag counts from when the write was sent: it includes the source write itself.
      writtenAt.set(`live-${sent}`, Date.now());
      pending.push(source.send(new PutItemCommand({ TableName: spec.name, Item: { pk: { S: `live-${sent}` }, payload: { S: 'x'.repeat(512) } } })).then(() => undefined));
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(pending);
  await replication.emulator.waitForIdle(120_000);
  await replication.stop();
  return { offeredPerSecond: perSecond, achievedPerSecond: Math.round(sent / seconds), samples: lags.length, p50: percentile(lags, 50) ?? null, p99: percentile(lags, 99) ?? null };
}

async function infraScaling(counts: number[]) {
  const out = [];
  for (const tables of counts) {
    const stack = `bench-${tables}`;
    const regions = ['eu-west-1', 'ap-southeast-2', 'us-west-2', 'eu-central-1'];
    const yaml = `config:\n  ddb-replicator:tables:\n${Array.from({ length: tables }, (_, t) => `    - name: Table${t}\n      partitionKey: { name: id, type: S }\n      primaryRegion: us-east-1\n      replicaRegions: [${regions.join(', ')}]\n`).join('')}`;
    const file = join(ROOT, `Pulumi.${stack}.yaml`);
    writeFileSync(file, yaml);
    try {
      global.gc?.();
      const heap = process.memoryUsage().heapUsed;
      const t0 = Date.now();
      const plan = await planProgram(ROOT, stack);
      out.push({ tables, resources: plan.resources.length, seconds: +((Date.now() - t0) / 1000).toFixed(2), heapMb: Math.max(0, Math.round((process.memoryUsage().heapUsed - heap) / 2 ** 20)) });
    } finally {
      rmSync(file, { force: true });
    }
  }
  return out;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
