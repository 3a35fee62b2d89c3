import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_MAPPING } from '../local/pipeline';
import { infraScaling } from './infra';
import { writeResults } from './results';
import type { Row } from './table';
import { Engine, freshEngine, writeFor } from './engine';
import { baselineRate, liveLag, replicateBacklog } from './measure';
import { Workload, workloads } from './workloads';
import { clientCost } from './client-cost';
import { FULL_VCPU_MB, lambdaShaped, REPLICAS } from './lambda-shaped';
import { clientCostTable, lambdaTable, pricesNote, renderLambdaChart } from './lambda-table';
import { PRICES, replicaWriteCost } from './lambda-cost';
import { itemSize, writeUnits } from '../handlers/item-size';
import { METADATA_BYTES } from '../handlers/contract';
import { loadavg, setPriority, getPriority } from 'node:os';

const ROOT = resolve(__dirname, '..');
const USAGE = 'usage: npm run bench -- [--quick] [--rtt MS] [--jitter MS] [--parallelization 1-10]';

function flags() {
  let values;
  try {
    ({ values } = parseArgs({ options: { quick: { type: 'boolean' }, rtt: { type: 'string' }, jitter: { type: 'string' }, parallelization: { type: 'string' } }, strict: true }));
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${USAGE}`);
  }
  const rtt = Number(values.rtt ?? 70);
  const jitter = Number(values.jitter ?? 0);
  const parallelization = Number(values.parallelization ?? 2);
  if (!(rtt >= 0) || !(jitter >= 0)) throw new Error(`--rtt and --jitter are milliseconds: use numbers of at least 0\n${USAGE}`);
  if (!Number.isInteger(parallelization) || parallelization < 1 || parallelization > 10) throw new Error(`--parallelization is Lambda's ParallelizationFactor: use a whole number from 1 to 10\n${USAGE}`);
  return { quick: !!values.quick, rtt, jitter, parallelization };
}

async function main() {
  const { quick, rtt, jitter, parallelization } = flags();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const say = (s: string) => console.log(s);
  const warm = quick ? 2 : 8;
  const scale = quick ? 0.3 : 1;
  const baselineRecords = quick ? 30 : 300;
  const onFreshEngine = async <T>(work: (e: Engine) => Promise<T>): Promise<T> => {
    const engine = await freshEngine(rtt, jitter, warm);
    try {
      return await work(engine);
    } finally {
      await engine.stop();
    }
  };
  say(`Benchmark: ${quick ? 'quick' : 'full'}, cross-region round trip ${rtt} ms${jitter ? ` +0..${jitter} ms` : ''}, batch size ${PROJECT_MAPPING.batchSize}`);

  const rows: Row[] = [];
  const liveSeconds = quick ? 3 : 10;
  /** Throughput on a backlog and, with `lag`, on another fresh engine, lag under live traffic of the same kind. */
  const measure = async (label: string, w: Workload, replica: 'remote' | 'synthetic', pf: number, lag: boolean, engine?: Engine) => {
    const name = `bench-${rows.length}-${process.pid}`;
    const backlog = async (e: Engine) => {
      const r = await replicateBacklog(name, w, e.direct, e.handlerDb[replica], pf);
      return { r, base: await baselineRate(r.streamArn, name, e.direct, e[replica], Math.min(r.records, baselineRecords), pf) };
    };
    const { r, base } = engine ? await backlog(engine) : await onFreshEngine(backlog);
    // Live lag on the synthetic replica: with both regions on one JVM, the engine would set it.
    const rate = w.itemBytes > 10_000 ? 100 : 500;
    const live = lag ? await onFreshEngine((e) => liveLag(w, rate, liveSeconds, e.direct, e.handlerDb.synthetic)) : undefined;
    const row = toRow(label, r, base, pf, live);
    rows.push(row);
    const lagText = live ? `, lag at ${live.offeredPerSecond}/s p50 ${live.p50} ms p99 ${live.p99} ms` : '';
    say(`${label}: ${row.recordsPerSecond} records/s (${row.ratioToBaseline}x baseline ${row.baselineRecordsPerSecond}/s), ${row.writesPerRecord} writes/record${lagText}, peak RSS ${row.peakRssMb} MB`);
  };

  // The handler's own speed first: replica writes never reach DynamoDB Local, so these runs can
  // share one engine, which is measured first.
  const uniform = workloads(scale)[0]!;
  const engine = await onFreshEngine(async (e) => {
    const plain = Math.round(await writeFor(e.direct('eu-west-1'), quick ? 1 : 4, false));
    const streamed = Math.round(await writeFor(e.direct('eu-west-1'), quick ? 1 : 4, true));
    say(`DynamoDB Local here (fresh, warm, AWS SDK client, no added latency): ${plain} writes/s to a table without a stream, ${streamed}/s with one`);
    await measure(`${uniform.name}, synthetic replica`, uniform, 'synthetic', 1, false, e);
    if (parallelization > 1) await measure(`${uniform.name}, synthetic replica, ParallelizationFactor ${parallelization}`, uniform, 'synthetic', parallelization, false, e);
    return { plainTableWritesPerSecond: plain, streamedTableWritesPerSecond: streamed };
  });
  for (const w of workloads(scale)) await measure(w.name, w, 'remote', 1, true);

  // With the replica on DynamoDB Local, 500 records/s is 500 streamed source writes plus 500
  // replica writes a second on one JVM, more than it takes, and half that rate (full run only).
  const engineLag = [];
  for (const rate of quick ? [] : [500, 250]) {
    const l = await onFreshEngine((e) => liveLag(uniform, rate, liveSeconds, e.direct, e.handlerDb.remote));
    engineLag.push(l);
    say(`lag at ${l.offeredPerSecond} records/s offered (${l.sentPerSecond} sent), replica on DynamoDB Local: p50 ${l.p50} ms, p99 ${l.p99} ms (p99 ${l.p99FromSend} ms counting the source write)`);
  }

  // The deployed shape: the handler in its own process under Lambda's CPU share of each memory size.
  const load = () => loadavg().map((l) => +l.toFixed(2));
  const lambdaLoadBefore = load();
  const costs = await clientCost(quick ? 10 : 30);
  for (const c of costs) say(`client cost: ${c.client}: ${c.cpuMsPerRequest} ms CPU per conditional PutItem`);
  // Other work on this shared machine would take the quota's CPU from the measured processes: they run at raised priority where allowed.
  const priority = getPriority();
  let raised = false;
  try {
    setPriority(priority - 10);
    raised = true;
  } catch {
    // not allowed here: the figures then share the machine as it is
  }
  const uniformItem = { pk: { S: 'u-1234' }, n: { N: '1234' }, payload: { S: 'x'.repeat(uniform.itemBytes) } };
  const replicaUnits = writeUnits(itemSize(uniformItem) + METADATA_BYTES);
  const replicaCost = replicaWriteCost(REPLICAS.length, replicaUnits);
  let lambda;
  try {
    lambda = await lambdaShaped({
      rttMs: rtt,
      workload: { ...uniform, records: quick ? 1500 : 5000 },
      clients: ['aws-lite', 'sdk-v3'],
      memories: [512, 1024, FULL_VCPU_MB, null],
      lag: { perSecond: 1000, seconds: quick ? 4 : 10, client: 'aws-lite', memoryMb: 1024 },
      say,
    });
  } finally {
    if (raised) setPriority(priority);
  }
  const lambdaLoadAfter = load();
  say(`machine load (1, 5, 15 min) before the Lambda-shaped runs ${lambdaLoadBefore.join(', ')}, after ${lambdaLoadAfter.join(', ')}`);

  const infra = await infraScaling(ROOT, quick ? [1, 20] : [1, 5, 10, 20]);
  for (const r of infra) say(`offline preview of ${r.tables} table(s) x 4 replica regions: ${r.resources} resources, ${r.seconds} s, +${r.heapMb} MB heap`);

  const report = {
    at: new Date().toISOString(),
    note:
      'recordsPerSecond: a backlog of the workload, from the first invocation to the end of the last. lag: the workload as live traffic at lagPerSecond, replica write acknowledged minus source write acknowledged, with the synthetic replica. Each run gets a fresh, warmed-up DynamoDB Local. "synthetic replica": the replica region answers writes itself after the round trip, so DynamoDB Local (source and replica share one JVM here) is not the limit.',
    quick,
    rttMs: rtt,
    jitterMs: jitter,
    batchSize: PROJECT_MAPPING.batchSize,
    engine,
    workloads: rows,
    lagWithReplicaOnDynamoDbLocal: engineLag,
    infra,
    clientCost: costs,
    lambdaShaped: {
      note: 'The handler in its own process, under a CPU quota of memory/1769 of a core (cgroup v1 cpu.cfs_quota_us), batches of 100 from one shard, ParallelizationFactor 1, to two replica regions behind the round trip (a stand-in in another process answers writes, and forwards fence reads to DynamoDB Local); its own state table in-region. The mapping reads the backlog from memory (bench/paced-stream.ts), so records/s is the function\'s and the mapping\'s; throughEngineStream is the same read from DynamoDB Local\'s stream. CPU is the handler process\'s user + system time over the measured pass (after a warm-up pass). Lag: a backlog written first, the function warmed on it, then its records released to a fresh mapping at the given rate (bench/paced-stream.ts: live writes at that rate load DynamoDB Local, on the same two cores, so they would measure the engine); lag = end of the invocation that carried the record minus its release.',
      raisedPriority: raised,
      machineLoad: { before: lambdaLoadBefore, after: lambdaLoadAfter },
      rows: lambda.rows,
      lag: lambda.lag,
      throughEngineStream: lambda.throughEngineStream ?? null,
      prices: PRICES,
      replicaWrites: { writeUnitsPerWrite: replicaUnits, ...replicaCost },
    },
  };
  const lambdaMd = [
    `Lambda-shaped (${rtt} ms round trip, batch 100, ParallelizationFactor 1, ${REPLICAS.length} replica regions; CPU quota: ${[...new Set(lambda.rows.map((r) => r.quota))].join('; ')}):`,
    '',
    lambdaTable(lambda.rows, replicaCost.usdPerMillionRecords),
    `Lag with records arriving at ${lambda.lag.perSecond}/s, ${lambda.lag.client} at ${lambda.lag.memoryMb} MB: p50 ${lambda.lag.p50} ms, p99 ${lambda.lag.p99} ms over ${lambda.lag.replicated} records (${lambda.lag.recordsPerInvocation} records per invocation).`,
    ...(lambda.throughEngineStream
      ? [
          '',
          `Read through DynamoDB Local's own stream instead (its GetRecords of up to 1,000 records between batches counted), ${lambda.lag.client} at ${lambda.throughEngineStream.memoryMb} MB: ${lambda.throughEngineStream.recordsPerSecond} records/s.`,
        ]
      : []),
    '',
    `Replica writes: ${replicaUnits} write units per 1 KB item with its version, ${REPLICAS.length} regions: $${replicaCost.usdPerMillionRecords} per million records.`,
    pricesNote(),
    'CPU per conditional PutItem by client (this process, a stand-in in another process answering at once):',
    '',
    clientCostTable(costs),
  ].join('\n');
  const written = writeResults(ROOT, quick, report, rows, { markdown: lambdaMd, svg: renderLambdaChart(lambda.rows) });
  say(`Wrote ${written.join(', ')}${quick ? ' (a quick run: the full run\'s latest.* that the README quotes are left as they are)' : ' (the README table)'}`);
}

function toRow(workload: string, r: Awaited<ReturnType<typeof replicateBacklog>>, baseline: number, parallelizationFactor: number, lag?: Awaited<ReturnType<typeof liveLag>>): Row {
  const rate = r.records / r.seconds;
  return {
    workload,
    parallelizationFactor,
    records: r.records,
    recordsPerSecond: Math.round(rate),
    writesPerRecord: +(r.writes / r.records).toFixed(3),
    baselineRecordsPerSecond: +baseline.toFixed(1),
    ratioToBaseline: +(rate / baseline).toFixed(1),
    lagPerSecond: lag?.sentPerSecond ?? null,
    lagP50Ms: lag?.p50 ?? null,
    lagP99Ms: lag?.p99 ?? null,
    peakRssMb: r.peakRssMb,
  };
}

main().catch((err) => {
  console.error(err instanceof Error && err.message.includes('usage:') ? err.message : err);
  process.exit(1);
});
