import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { ChildProcess, fork, spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startDynamoDbLocal, useLocalEndpoint } from '../local/dynamodb-local';
import { EventSourceMappingEmulator } from '../local/esm/emulator';
import { StreamClock } from '../local/esm/stream-clock';
import { PacedStream } from './paced-stream';
import { PROJECT_MAPPING } from '../local/pipeline';
import { percentile } from '../local/replication-stats';
import { createRegionalTable, ensureStateTable } from '../local/tables';
import { stateTableName } from '../config/names';
import { cpuQuota, CpuQuota, FULL_VCPU_MB, lambdaCpuShare } from './cpu-quota';
import { clientsFor } from './engine';
import { BenchClient, InvokeMessage, InvokeReply } from './lambda-runtime';
import { lambdaCost } from './lambda-cost';
import { Workload, writeWorkload } from './workloads';

export const SOURCE = 'us-east-1';
/** Two replica regions, as the target asks. */
export const REPLICAS = ['eu-west-1', 'ap-southeast-2'] as const;

export interface LambdaShapedRow {
  client: BenchClient;
  /** null: a full core, no quota. */
  memoryMb: number | null;
  cpuShare: number;
  /** 'cgroup' when the run was held to the share; otherwise why not (then `projectedRecordsPerSecond` is the figure). */
  quota: string;
  records: number;
  recordsPerSecond: number;
  /** Where no quota could be set: the full-core rate, capped by what the share's CPU allows at the measured CPU per record. */
  projectedRecordsPerSecond: number | null;
  cpuMsPerRecord: number;
  cpuMsPerReplicaWrite: number;
  /** Average handler duration in the function, ms: Lambda bills it (rounded up to 1 ms) at the configured memory. */
  invocationMs: number;
  /** The same as the mapping saw it, the event's transfer into the process included. */
  mappingMs: number;
  recordsPerInvocation: number;
  throttledMs: number;
  cost: ReturnType<typeof lambdaCost> | null;
}

/** The handler in its own process, under the CPU quota of `memoryMb` (none for null). */
class FunctionInstance {
  private readonly pending = new Map<number, (r: InvokeReply) => void>();
  private next = 0;
  cpuMicros = 0;
  private constructor(
    private readonly child: ChildProcess,
    readonly quota: CpuQuota | undefined,
  ) {
    child.on('message', (r: InvokeReply) => {
      this.cpuMicros = r.cpuMicros;
      this.pending.get(r.id)?.(r);
      this.pending.delete(r.id);
    });
  }

  static async start(client: BenchClient, memoryMb: number | null, env: NodeJS.ProcessEnv): Promise<{ fn: FunctionInstance; quota: string }> {
    const child = fork(join(__dirname, 'lambda-runtime.ts'), [], { execArgv: ['--import', 'tsx'], env: { ...env, BENCH_CLIENT: client }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let quota: CpuQuota | undefined;
    let note = 'none (full core)';
    if (memoryMb !== null) {
      const q = cpuQuota(`ddb-replicator-bench-${process.pid}-${client}-${memoryMb}`, lambdaCpuShare(memoryMb));
      if ('unavailable' in q) note = q.unavailable;
      else {
        q.add(child.pid!);
        quota = q;
        note = 'cgroup';
      }
    }
    const fn = new FunctionInstance(child, quota);
    await new Promise<void>((resolve, reject) => {
      fn.pending.set(-1, () => resolve());
      child.once('exit', (code) => reject(new Error(`the handler process exited with code ${code} before it was ready`)));
    });
    return { fn, quota: note };
  }

  invoke(event: DynamoDBStreamEvent): Promise<InvokeReply> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.send({ id, event } satisfies InvokeMessage);
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.disconnect(); // it exits when its channel closes
    const timer = setTimeout(() => this.child.kill(), 5000);
    await exited;
    clearTimeout(timer);
    this.quota?.remove();
  }
}

export interface Pass {
  records: number;
  seconds: number;
  cpuMs: number;
  invocations: number;
  /** Average handler duration inside the function (what Lambda bills), and as the mapping saw it (plus the event's transfer). */
  invocationMs: number;
  mappingMs: number;
}

/**
 * The stream from its start through a fresh mapping into the function (DynamoDB Local's stream, or a
 * paced one started just before); timed from the first invocation to the end of the last.
 */
async function replay(streamArn: string, fn: FunctionInstance, paced?: { stream: PacedStream; onInvoked?: (event: DynamoDBStreamEvent, response: DynamoDBBatchResponse, atMs: number) => void }): Promise<Pass> {
  const own = paced ? undefined : new DynamoDBStreamsClient({ region: SOURCE });
  let first = 0;
  let last = 0;
  let busy = 0;
  let handlerMs = 0;
  const cpu0 = fn.cpuMicros;
  let cpuFirst = -1;
  const mapping = new EventSourceMappingEmulator({
    ...PROJECT_MAPPING,
    streamArn,
    region: SOURCE,
    streams: paced?.stream.client ?? own!,
    // A paced stream's records are stamped when the mapping first sees them, as they arrive.
    ...(paced && { streamClock: new StreamClock(streamArn, SOURCE) }),
    log: () => undefined,
    invoke: async (event) => {
      const t = performance.now();
      first ||= t;
      if (cpuFirst < 0) cpuFirst = fn.cpuMicros;
      const reply = await fn.invoke(event);
      last = performance.now();
      busy += last - t;
      handlerMs += reply.handlerMs;
      paced?.onInvoked?.(event, reply.response, Date.now());
      return reply.response;
    },
  }).start();
  try {
    // Idle before the last record is released is only a pause between arrivals.
    if (paced) while (Date.now() < paced.stream.releasedAt(paced.stream.records.length - 1)) await new Promise((r) => setTimeout(r, 20));
    await mapping.waitForIdle(600_000);
  } finally {
    await mapping.stop();
    own?.destroy();
  }
  const invocations = mapping.stats.invocations;
  return { records: mapping.stats.recordsCommitted, seconds: (last - first) / 1000, cpuMs: (fn.cpuMicros - (cpuFirst < 0 ? cpu0 : cpuFirst)) / 1000, invocations, invocationMs: handlerMs / Math.max(1, invocations), mappingMs: busy / Math.max(1, invocations) };
}

async function startAnswerServer(rttMs: number, target: string): Promise<{ endpoint: string; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'answer-server.ts'), String(rttMs), target], { stdio: ['ignore', 'pipe', 'inherit'] });
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d) => resolve(String(d).trim()));
    child.once('exit', (code) => reject(new Error(`the answer server exited with code ${code}`)));
  });
  return { endpoint, stop: () => void child.kill() };
}

async function createTables(name: string): Promise<string> {
  const direct = clientsFor();
  const spec = { name, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: SOURCE, replicaRegions: [...REPLICAS] };
  const streamArn = await createRegionalTable(direct(SOURCE), spec);
  await Promise.all([SOURCE, ...REPLICAS].map((r) => ensureStateTable(direct(r), name)));
  return streamArn;
}

export interface LambdaShapedOptions {
  readonly rttMs: number;
  readonly workload: Workload;
  readonly clients: readonly BenchClient[];
  readonly memories: readonly (number | null)[];
  /** The lag figure: records arriving a second, for how long, through which client and memory. */
  readonly lag: { readonly perSecond: number; readonly seconds: number; readonly client: BenchClient; readonly memoryMb: number };
  readonly say: (line: string) => void;
}

/**
 * The replication handler as a deployed function runs it: in its own process, under the CPU quota
 * Lambda gives the memory, batches of 100 from one shard (ParallelizationFactor 1) to two replica
 * regions behind the round trip (a stand-in per region, each in its own process, answers writes
 * itself and forwards the fence reads to DynamoDB Local), its own region's state table in-region.
 * The mapping reads the backlog from a paced stream holding all of it (bench/paced-stream.ts), so
 * the rate is the function's and the mapping's; once, the same through DynamoDB Local's stream.
 */
export async function lambdaShaped(o: LambdaShapedOptions) {
  const ddb = await startDynamoDbLocal();
  const restore = useLocalEndpoint(ddb.endpoint);
  // One stand-in per replica region, each in its own process, as two regions answer independently.
  const answers = await Promise.all(REPLICAS.map(() => startAnswerServer(o.rttMs, ddb.endpoint)));
  const envFor = (name: string): NodeJS.ProcessEnv => ({
    ...process.env,
    AWS_REGION: SOURCE,
    REPLICA_TARGETS: JSON.stringify(REPLICAS.map((region) => ({ region, tableName: name }))),
    STATE_TABLE: stateTableName(name),
    // As deployed: the invocation's metrics are EMF lines on stdout (ignored here, as Lambda ships them off).
    METRICS_NAMESPACE: 'DdbReplicator',
    BENCH_SOURCE_ENDPOINT: ddb.endpoint,
    BENCH_REMOTE_ENDPOINTS: JSON.stringify(Object.fromEntries(REPLICAS.map((r, i) => [r, answers[i]!.endpoint]))),
  });
  try {
    // The lag first, on the fresh engine: DynamoDB Local slows down as its streams grow.
    const lag = await pacedLag(o, envFor);
    o.say(
      `Lambda-shaped lag, ${o.lag.client} at ${o.lag.memoryMb} MB, records arriving at ${o.lag.perSecond}/s: p50 ${lag.p50} ms, p99 ${lag.p99} ms over ${lag.replicated} records (${lag.recordsPerInvocation} per invocation)`,
    );
    const name = `lambda-${process.pid}`;
    const streamArn = await createTables(name);
    await writeWorkload(clientsFor()(SOURCE), name, o.workload);
    const backlog = await backlogOf(streamArn, o.workload.records);
    const rows: LambdaShapedRow[] = [];
    let throughEngineStream: { memoryMb: number; recordsPerSecond: number } | undefined;
    for (const client of o.clients) {
      for (const memoryMb of o.memories) {
        const { fn, quota } = await FunctionInstance.start(client, memoryMb, envFor(name));
        try {
          await replay(streamArn, fn, { stream: backlog.start() }); // warms the JIT and the connections, as a busy function is
          const throttled0 = fn.quota?.throttledMs() ?? 0;
          const pass = await replay(streamArn, fn, { stream: backlog.start() });
          const row = toRow(client, memoryMb, quota, pass, (fn.quota?.throttledMs() ?? 0) - throttled0);
          rows.push(row);
          o.say(
            `Lambda-shaped, ${client} at ${memoryMb ?? 'a full core'}${memoryMb ? ' MB' : ''}: ${row.recordsPerSecond} records/s${row.projectedRecordsPerSecond !== null ? ` (projected ${row.projectedRecordsPerSecond}/s: ${quota})` : ''}, ${row.cpuMsPerRecord} ms CPU per record, ${row.cpuMsPerReplicaWrite} per replica write, ${row.invocationMs} ms per invocation (${row.mappingMs} as the mapping saw it)`,
          );
          if (client === o.lag.client && memoryMb === o.lag.memoryMb) {
            // The same through DynamoDB Local's own stream: its reads between batches count too.
            const viaEngine = await replay(streamArn, fn);
            throughEngineStream = { memoryMb, recordsPerSecond: Math.round(viaEngine.records / viaEngine.seconds) };
            o.say(`Lambda-shaped, ${client} at ${memoryMb} MB, reading DynamoDB Local's stream: ${throughEngineStream.recordsPerSecond} records/s`);
          }
        } finally {
          await fn.stop();
        }
      }
    }
    return { rows, lag: { ...o.lag, ...lag }, throughEngineStream };
  } finally {
    for (const a of answers) a.stop();
    await ddb.stop();
    restore();
  }
}

/** One row from a measured pass; exported for its test. */
export function toRow(client: BenchClient, memoryMb: number | null, quota: string, p: Pass, throttledMs: number): LambdaShapedRow {
  const share = memoryMb === null ? 1 : lambdaCpuShare(memoryMb);
  const rate = p.records / p.seconds;
  const cpuMsPerRecord = p.cpuMs / p.records;
  // Without a quota the run had a full core: what the share allows is at most share / CPU per record.
  const projected = memoryMb !== null && quota !== 'cgroup' ? Math.round(Math.min(rate, (share * 1000) / cpuMsPerRecord)) : null;
  const recordsPerInvocation = p.records / p.invocations;
  const invocationMs = projected !== null ? (p.invocationMs * rate) / projected : p.invocationMs;
  return {
    client,
    memoryMb,
    cpuShare: +share.toFixed(3),
    quota,
    records: p.records,
    recordsPerSecond: Math.round(rate),
    projectedRecordsPerSecond: projected,
    cpuMsPerRecord: +cpuMsPerRecord.toFixed(3),
    cpuMsPerReplicaWrite: +(cpuMsPerRecord / REPLICAS.length).toFixed(3),
    invocationMs: +invocationMs.toFixed(1),
    mappingMs: +p.mappingMs.toFixed(1),
    recordsPerInvocation: +recordsPerInvocation.toFixed(1),
    throttledMs: Math.round(throttledMs),
    cost: memoryMb === null ? null : lambdaCost(memoryMb, invocationMs, recordsPerInvocation),
  };
}

/** The stream of `count` records already written, as a paced stream holding all of them at once (not started). */
async function backlogOf(streamArn: string, count: number): Promise<PacedStream> {
  const streams = new DynamoDBStreamsClient({ region: SOURCE });
  try {
    return await PacedStream.load(streams, streamArn, count, Infinity);
  } finally {
    streams.destroy();
  }
}

/**
 * Lag at a fixed arrival rate: a backlog of the workload is written first, the function is warmed
 * on it, and then its records reach a fresh mapping at `perSecond` (bench/paced-stream.ts). Lag of
 * a record: the end of the invocation that carried it minus its arrival (the replica writes were
 * acknowledged before the invocation ended, so this errs high).
 */
async function pacedLag(o: LambdaShapedOptions, envFor: (name: string) => NodeJS.ProcessEnv) {
  const name = `lag-${process.pid}`;
  const streamArn = await createTables(name);
  const total = Math.round(o.lag.perSecond * o.lag.seconds);
  await writeWorkload(clientsFor()(SOURCE), name, { ...o.workload, records: total });
  const backlog = await backlogOf(streamArn, total);
  const stream = backlog.at(o.lag.perSecond);
  const arrival = new Map(stream.records.map((r, i) => [r.dynamodb!.SequenceNumber!, i]));
  const { fn } = await FunctionInstance.start(o.lag.client, o.lag.memoryMb, envFor(name));
  const lags: number[] = [];
  const seen = new Set<string>();
  let pass: Pass;
  try {
    await replay(streamArn, fn, { stream: backlog.start() }); // a function taking 1,000 records a second is warm
    stream.start();
    pass = await replay(streamArn, fn, {
      stream,
      onInvoked: (event, response, at) => {
        // A record counts at the invocation that carried it without failing it (the mapping retries from the first failure).
        const failed = new Set(response.batchItemFailures?.map((f) => f.itemIdentifier));
        for (const r of event.Records) {
          const seq = r.dynamodb!.SequenceNumber!;
          if (failed.has(seq)) break;
          if (seen.has(seq)) continue;
          seen.add(seq);
          lags.push(at - stream.releasedAt(arrival.get(seq)!));
        }
      },
    });
  } finally {
    await fn.stop();
  }
  return { records: total, replicated: lags.length, recordsPerInvocation: +(pass.records / pass.invocations).toFixed(1), p50: percentile(lags, 50) ?? null, p99: percentile(lags, 99) ?? null };
}

export { FULL_VCPU_MB };
