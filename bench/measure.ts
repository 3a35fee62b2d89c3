import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { performance } from 'node:perf_hooks';
import { keyText } from '../handlers/attribute-values';
import { EventSourceMappingEmulator } from '../local/esm/emulator';
import { PROJECT_MAPPING, startLocalReplication } from '../local/pipeline';
import { percentile } from '../local/replication-stats';
import { createRegionalTable, LocalTableSpec } from '../local/tables';
import { baselineHandler } from './baseline';
import { ClientFor, DynamoFor } from './engine';
import { opsOf, Workload, writeOp, writeWorkload } from './workloads';

export const benchSpec = (name: string): LocalTableSpec => ({ name, partitionKey: { name: 'pk', type: 'S' }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] });

/**
 * Source with its stream; replica without one, unlike a deployment: each stream record slows
 * DynamoDB Local's later writes, a cost real DynamoDB does not have.
 */
async function createTables(spec: LocalTableSpec, direct: ClientFor): Promise<string> {
  const [streamArn] = await Promise.all([createRegionalTable(direct('us-east-1'), spec), createRegionalTable(direct('eu-west-1'), spec, { stream: false })]);
  return streamArn;
}

export interface ReplicationRun {
  records: number;
  /** From the first invocation's start to the last one's end: the harness's start-up and idle detection are not counted. */
  seconds: number;
  writes: number;
  peakRssMb: number;
}

/**
 * Writes the workload into a fresh source table, then replicates the backlog with the real
 * handler through the emulator: a saturated shard, as after a burst.
 */
export async function replicateBacklog(name: string, w: Workload, direct: ClientFor, replica: DynamoFor, parallelizationFactor = 1): Promise<ReplicationRun & { streamArn: string }> {
  const spec = benchSpec(name);
  const streamArn = await createTables(spec, direct);
  await writeWorkload(direct('us-east-1'), spec.name, w);
  let writes = 0;
  let first = 0;
  let last = 0;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const run = await startLocalReplication({
    table: spec,
    clientFor: direct,
    existingStreamArn: streamArn,
    mapping: { parallelizationFactor },
    handlerDeps: { dynamo: replica, log: () => undefined, onApplied: (e) => (writes += e.outcome.status === 'applied' ? 1 : 0) },
    emulator: { log: () => undefined },
    wrapInvoke: (invoke) => async (event) => {
      first ||= performance.now();
      const response = await invoke(event);
      last = performance.now();
      return response;
    },
  });
  try {
    await run.emulator.waitForIdle(600_000);
  } finally {
    clearInterval(sampler);
    await run.stop();
  }
  return { streamArn, records: run.emulator.stats.recordsCommitted, seconds: (last - first) / 1000, writes, peakRssMb: Math.round(peakRss / 2 ** 20) };
}

/**
 * The usual example handler over the same stream records, through the emulator with the same
 * settings, into a table of its own; measured over its first `records` writes.
 */
export async function baselineRate(streamArn: string, table: string, direct: ClientFor, replica: ClientFor, records: number, parallelizationFactor = 1): Promise<number> {
  const spec = benchSpec(`${table}-baseline`);
  await createRegionalTable(direct('eu-west-1'), spec, { stream: false });
  const counter = { writes: 0 };
  const streams = new DynamoDBStreamsClient({ region: 'us-east-1' });
  const handler = baselineHandler(replica('eu-west-1'), spec.name, counter);
  let first = 0;
  const invoke = (event: Parameters<typeof handler>[0]) => ((first ||= performance.now()), handler(event));
  const mapping = new EventSourceMappingEmulator({ ...PROJECT_MAPPING, parallelizationFactor, streamArn, region: 'us-east-1', streams, invoke, log: () => undefined }).start();
  try {
    while (counter.writes < records) await new Promise((r) => setTimeout(r, 20));
    return counter.writes / ((performance.now() - first) / 1000);
  } finally {
    await mapping.stop();
    streams.destroy();
  }
}

/**
 * The workload as live traffic at a fixed rate, replicated as it arrives. Lag of a change: its
 * replica write acknowledged minus its source write acknowledged (from the moment the change
 * exists); `p99FromSend` also counts the source write itself, which on DynamoDB Local slows as its
 * stream grows. A coalesced change counts at the write that carried it.
 */
export async function liveLag(w: Workload, perSecond: number, seconds: number, direct: ClientFor, replica: DynamoFor) {
  const spec = benchSpec(`lag-${Math.random().toString(36).slice(2, 10)}`);
  const existingStreamArn = await createTables(spec, direct);
  // Per key, in stream order: when each change was sent and acknowledged, and when it was applied.
  const sent = new Map<string, number[]>();
  const acked = new Map<string, number[]>();
  const applied = new Map<string, number[]>();
  const seen = new Set<string>();
  const replication = await startLocalReplication({
    table: spec,
    clientFor: direct,
    existingStreamArn,
    handlerDeps: {
      dynamo: replica,
      log: () => undefined,
      onApplied: (e) => {
        if (e.outcome.status !== 'applied') return;
        for (const c of e.plan.changes) if (!seen.has(c.seq) && seen.add(c.seq)) push(applied, e.plan.key, e.atMs);
      },
    },
    emulator: { log: () => undefined },
  });
  const source = direct('us-east-1');
  const ops = opsOf(w, Math.round(perSecond * seconds));
  const payload = 'x'.repeat(w.itemBytes);
  // Writes to one key wait for the one before: the stream then has them in the order they were sent.
  const tails = new Map<string, Promise<void>>();
  const started = Date.now();
  let next = 0;
  try {
    while (next < ops.length) {
      const due = Math.min(ops.length, Math.floor(((Date.now() - started) / 1000) * perSecond));
      for (; next < due; next++) {
        const o = ops[next]!;
        const key = keyText({ pk: { S: o.key } });
        const write = async () => {
          const at = Date.now();
          if (!(await writeOp(source, spec.name, o, payload))) return; // a delete of nothing makes no record
          push(sent, key, at);
          push(acked, key, Date.now());
        };
        tails.set(key, (tails.get(key) ?? Promise.resolve()).then(write));
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    // Sent, not acknowledged: a source slower than the offered rate shows here.
    const sentPerSecond = ops.length / ((Date.now() - started) / 1000);
    await Promise.all(tails.values());
    await replication.emulator.waitForIdle(120_000);
    // Per key, the n-th write that made a record is the n-th change applied.
    const lags: number[] = [];
    const fromSend: number[] = [];
    for (const [key, times] of applied) {
      times.forEach((t, n) => {
        lags.push(Math.max(0, t - acked.get(key)![n]!));
        fromSend.push(t - sent.get(key)![n]!);
      });
    }
    return {
      offeredPerSecond: perSecond,
      sentPerSecond: Math.round(sentPerSecond),
      changes: [...sent.values()].reduce((n, l) => n + l.length, 0),
      replicated: lags.length,
      p50: percentile(lags, 50) ?? null,
      p99: percentile(lags, 99) ?? null,
      p99FromSend: percentile(fromSend, 99) ?? null,
    };
  } finally {
    await replication.stop();
    source.destroy();
  }
}

function push(m: Map<string, number[]>, key: string, value: number): void {
  const list = m.get(key);
  if (list) list.push(value);
  else m.set(key, [value]);
}
