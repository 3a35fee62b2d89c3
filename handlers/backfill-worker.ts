import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Persister, runSegment } from './backfill-segment';
import { claimSegment, LeaseLost, saveSegment, segmentKey, WorkerEvent, WorkerResult } from './backfill-state';
import { WORKER_ENV } from './backfill-contract';
import { ConfigError, parseConfig, ReplicaTarget } from './config';
import { RateLimiter } from './rate-limit';

export interface WorkerConfig {
  readonly source: ReplicaTarget;
  readonly targets: readonly ReplicaTarget[];
  readonly state: ReplicaTarget;
  readonly keyNames: readonly string[];
  readonly ttlAttribute?: string;
}

export function parseWorkerConfig(env: Readonly<Record<string, string | undefined>>): WorkerConfig {
  const base = parseConfig(env);
  const table = env[WORKER_ENV.sourceTable]?.trim();
  if (!table) throw new ConfigError(`${WORKER_ENV.sourceTable} is not set: set it to the source table's name (the component sets it)`);
  let keyNames: unknown;
  try {
    keyNames = JSON.parse(env[WORKER_ENV.keyAttributes] ?? '');
  } catch {
    keyNames = undefined;
  }
  if (!Array.isArray(keyNames) || keyNames.length < 1 || keyNames.length > 2 || !keyNames.every((k) => typeof k === 'string' && k)) {
    throw new ConfigError(`${WORKER_ENV.keyAttributes} is ${JSON.stringify(env[WORKER_ENV.keyAttributes])}: set it to the key attribute names, for example ["userId"] or ["pk","sk"]`);
  }
  return { source: { region: base.state.region, tableName: table }, targets: base.targets, state: base.state, keyNames, ttlAttribute: base.ttlAttribute };
}

export interface WorkerDeps {
  readonly config: WorkerConfig;
  readonly clientFor: (region: string) => Pick<DynamoDBClient, 'send'>;
  /** Stop starting items this long before the invocation's time runs out (default 30 s). */
  readonly stopMarginMs?: number;
  /** How often progress is saved, and the stop flag read (default 500 ms). */
  readonly saveEveryMs?: number;
  /** In-process runs only: stops at once, as the stop flag does within one save. */
  readonly signal?: AbortSignal;
}

/** The part of Lambda's context the worker reads. */
export interface WorkerContext {
  getRemainingTimeInMillis(): number;
}

export type Worker = (event: WorkerEvent, context?: WorkerContext) => Promise<WorkerResult>;

/**
 * The backfill worker: one segment of a parallel scan, copied through the same segment code and
 * conditional apply as `ddb-replicator backfill` (handlers/backfill-segment.ts), checkpointed in the
 * state table. It returns when the segment is done, a stop is requested, or the invocation's time
 * runs low; the next invocation resumes from the checkpoint.
 */
export function makeWorker(deps: WorkerDeps): Worker {
  const { config } = deps;
  return async (event, context) => {
    const target = config.targets.find((t) => t.region === event.targetRegion);
    if (!target) throw new ConfigError(`targetRegion ${event.targetRegion} is not a target of this worker: use one of ${config.targets.map((t) => t.region).join(', ')}`);
    const stateClient = deps.clientFor(config.state.region);
    const key = segmentKey(event.targetRegion, event.segment, event.totalSegments);
    const claimed = await claimSegment(stateClient, config.state.tableName, key);
    if (claimed.finished && claimed.state.failures.length === 0) return { segment: event.segment, end: 'finished', processed: 0 };

    const stop = new AbortController();
    const signals = [stop.signal, ...(deps.signal ? [deps.signal] : [])];
    const remaining = context?.getRemainingTimeInMillis();
    const timer = remaining === undefined ? undefined : setTimeout(() => stop.abort(), Math.max(0, remaining - (deps.stopMarginMs ?? 30_000)));
    const { state } = claimed;
    let leaseLost = false;
    const persister = new Persister(async () => {
      try {
        if ((await saveSegment(stateClient, config.state.tableName, key, claimed.attempt, state)).stop) stop.abort();
      } catch (err) {
        if (err instanceof LeaseLost) {
          leaseLost = true;
          stop.abort();
          return;
        }
        throw err;
      }
    }, deps.saveEveryMs ?? 500);
    let processed = 0;
    try {
      const end = await runSegment({
        source: deps.clientFor(config.source.region),
        replica: deps.clientFor(target.region),
        tableName: config.source.tableName,
        target,
        keyNames: config.keyNames,
        segment: event.segment,
        totalSegments: event.totalSegments,
        generation: event.generation,
        rules: () => ({ ttlAttribute: config.ttlAttribute, nowSeconds: Math.floor(Date.now() / 1000) }),
        state,
        changed: persister.changed,
        signal: AbortSignal.any(signals),
        pageSize: event.pageSize,
        reads: new RateLimiter(event.readUnitsPerSecond),
        writes: new RateLimiter(event.writeUnitsPerSecond),
        onItem: () => processed++,
        maxFailures: 500,
      });
      await persister.flush();
      return { segment: event.segment, end: leaseLost ? 'lease-lost' : end, processed };
    } finally {
      clearTimeout(timer);
    }
  };
}

let worker: Worker | undefined;

/** The Lambda entry point. */
export const handler = async (event: WorkerEvent, context: WorkerContext): Promise<WorkerResult> => {
  worker ??= makeWorker({ config: parseWorkerConfig(process.env), clientFor: clientsByRegion() });
  return worker(event, context);
};

function clientsByRegion() {
  const clients = new Map<string, DynamoDBClient>();
  return (region: string) => clients.get(region) ?? clients.set(region, new DynamoDBClient({ region })).get(region)!;
}
