import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { ApplyContext, ApplyOutcome, applyPlan } from './apply';
import { limiter } from './concurrency';
import { parseConfig, ReplicaTarget, ReplicatorConfig } from './config';
import { buildMetricData, emptyCounts, MetricsSender, publishMetrics, TargetCounts } from './metrics';
import { EventError, ItemPlan, planBatch } from './plan';
import { readTombstones, TombstoneWrite, writeTombstone } from './tombstones';
import { isNewer, sameVersion } from './versions';

export interface AppliedEvent {
  readonly target: ReplicaTarget;
  readonly plan: ItemPlan;
  readonly outcome: ApplyOutcome;
  readonly atMs: number;
}

export interface HandlerDeps {
  /** DynamoDB client per replica region; endpoints come from the SDK's standard settings. */
  readonly dynamo?: (region: string) => Pick<DynamoDBClient, 'send'>;
  /** Replaceable in tests only: no local CloudWatch exists. */
  readonly cloudwatch?: MetricsSender;
  readonly log?: (line: Record<string, unknown>) => void;
  readonly now?: () => number;
  /** Called once per item and target with what happened; the local runtime measures lag with it. */
  readonly onApplied?: (e: AppliedEvent) => void;
}

export type ReplicationHandler = (
  event: DynamoDBStreamEvent,
  context?: Partial<Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>>,
) => Promise<DynamoDBBatchResponse>;

/**
 * Items not yet started when this little time is left are reported as failures instead: a Lambda
 * timeout would fail (and bisect) the whole batch, including items already written.
 */
export const DEADLINE_RESERVE_MS = 3_000;

const jsonLog = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

export function makeHandler(config: ReplicatorConfig, deps: HandlerDeps = {}): ReplicationHandler {
  const clients = new Map<string, Pick<DynamoDBClient, 'send'>>();
  const clientFor =
    deps.dynamo ??
    ((region: string) => new DynamoDBClient({ region, requestHandler: { httpAgent: { maxSockets: config.maxConcurrency }, httpsAgent: { maxSockets: config.maxConcurrency } } }));
  const dynamo = (region: string) => clients.get(region) ?? clients.set(region, clientFor(region)).get(region)!;
  const log = deps.log ?? jsonLog;
  const now = deps.now ?? Date.now;
  let cloudwatch = deps.cloudwatch;

  return async (event, context) => {
    const started = now();
    if (!Array.isArray(event?.Records)) {
      throw new EventError('event has no Records array: this function must be triggered by a DynamoDB stream event source mapping');
    }
    const rules = { ttlAttribute: config.ttlAttribute, nowSeconds: Math.floor(started / 1000) };
    const plan = planBatch(event.Records, { replicateTtlDeletes: config.replicateTtlDeletes, generation: INITIAL_GENERATION, rules });
    const byRegion = new Map(config.targets.map((t) => [t.region, emptyCounts()]));
    const failedSeqs = new Set(plan.rejected.map((r) => r.seq));
    for (const r of plan.rejected) log({ level: 'error', msg: 'record rejected', seq: r.seq, reason: r.reason });

    const remaining = context?.getRemainingTimeInMillis?.bind(context);
    const outOfTime = () => !!remaining && remaining() < DEADLINE_RESERVE_MS;
    const limit = limiter(config.maxConcurrency);
    const record = (item: ItemPlan, target: ReplicaTarget, outcome: ApplyOutcome) => {
      const atMs = now();
      count(byRegion.get(target.region)!, item, outcome, atMs);
      if (outcome.status === 'failed') {
        failedSeqs.add(item.changes[0]!.seq);
        log({ level: 'warn', msg: 'apply failed', region: target.region, table: target.tableName, key: item.key, seq: item.changes[0]!.seq, error: outcome.error });
      }
      if ((outcome.status === 'applied' && outcome.conflict) || outcome.status === 'kept') {
        log({
          level: 'warn',
          msg: 'conflict',
          resolution: outcome.status === 'kept' ? 'kept-replica' : 'source-wins',
          region: target.region,
          table: target.tableName,
          key: item.key,
          seq: item.changes[0]!.seq,
          replicaDigest: outcome.previousDigest,
          expectedDigests: [...item.expectedBefore],
        });
      }
      deps.onApplied?.({ target, plan: item, outcome, atMs });
    };
    const everyTarget = (item: ItemPlan, outcome: ApplyOutcome) => config.targets.forEach((t) => record(item, t, outcome));

    const state = dynamo(config.state.region);
    const putKeys = plan.items.filter((i) => i.final).map((i) => i.key);
    const tombstones = await readTombstones(state, config.state, putKeys).catch((err: Error) => err);

    await Promise.all(
      plan.items.map(async (item) => {
        let removeReplay = false;
        if (item.final) {
          if (tombstones instanceof Error) return everyTarget(item, { status: 'failed', error: `tombstones not read: ${tombstones.name}: ${tombstones.message}` });
          const deletedAt = tombstones.get(item.key);
          if (deletedAt && !isNewer(item.version, deletedAt)) return everyTarget(item, { status: 'skipped', stored: deletedAt });
        } else {
          if (outOfTime()) return everyTarget(item, NOT_ATTEMPTED);
          let written: TombstoneWrite;
          try {
            written = await limit(() => writeTombstone(state, config.state, item.key, item.version, rules.nowSeconds));
          } catch (err) {
            return everyTarget(item, { status: 'failed', error: `tombstone not written: ${(err as Error).name}: ${(err as Error).message}` });
          }
          if (written === 'stale') return everyTarget(item, { status: 'skipped', stored: undefined });
          removeReplay = written === 'replay';
        }
        const ctx: ApplyContext = { rules, removeReplay };
        await Promise.all(
          config.targets.map(async (target) => {
            const outcome = outOfTime() ? NOT_ATTEMPTED : await limit(() => applyPlan(dynamo(target.region), target, item, config.conflictPolicy, ctx));
            record(item, target, outcome);
          }),
        );
      }),
    );

    const table = sourceTableName(event.Records[0]?.eventSourceARN);
    if (config.metricsNamespace && event.Records.length > 0) {
      cloudwatch ??= new CloudWatchClient({});
      try {
        await publishMetrics(cloudwatch, config.metricsNamespace, buildMetricData(table, byRegion, new Date(now())));
      } catch (err) {
        log({ level: 'warn', msg: 'metrics not published', error: `${(err as Error).name}: ${(err as Error).message}` });
      }
    }

    const batchItemFailures = [...failedSeqs].map((itemIdentifier) => ({ itemIdentifier }));
    log({
      level: 'info',
      msg: 'batch',
      requestId: context?.awsRequestId,
      table,
      records: event.Records.length,
      items: plan.items.length,
      ttlSkipped: plan.ttlSkipped,
      rejected: plan.rejected.length,
      failedItems: batchItemFailures.length,
      durationMs: now() - started,
      targets: Object.fromEntries([...byRegion].map(([region, c]) => [region, summarize(c)])),
    });
    return { batchItemFailures };
  };
}

const NOT_ATTEMPTED: ApplyOutcome = { status: 'failed', error: 'not attempted: the invocation is about to time out' };

/** Until failover terms exist, every record belongs to the first term. */
const INITIAL_GENERATION = 1;

function count(c: TargetCounts, item: ItemPlan, outcome: ApplyOutcome, atMs: number): void {
  const n = item.changes.length;
  switch (outcome.status) {
    case 'applied':
      c.replicated += n;
      c.writes++;
      if (outcome.conflict) c.conflicts++;
      for (const ch of item.changes) c.latenciesMs.push(Math.max(0, atMs - ch.createdAtMs));
      break;
    case 'skipped': {
      const dup = item.changes.filter((ch) => sameVersion(ch.version, outcome.stored)).length;
      c.duplicates += dup;
      c.staleSkipped += n - dup;
      break;
    }
    case 'kept':
      c.conflicts++;
      break;
    case 'failed':
      c.failures += n;
      break;
  }
}

function summarize(c: TargetCounts) {
  const sorted = [...c.latenciesMs].sort((a, b) => a - b);
  const { latenciesMs: _, ...counts } = c;
  return { ...counts, latencyP50Ms: sorted[Math.floor(sorted.length * 0.5)] ?? null, latencyMaxMs: sorted[sorted.length - 1] ?? null };
}

/** `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL` -> NAME. */
export function sourceTableName(streamArn: string | undefined): string {
  return streamArn?.split(':').slice(5).join(':').split('/')[1] ?? 'unknown';
}

let envHandler: ReplicationHandler | undefined;

/** The Lambda entry point: configured from environment variables on first use. */
export const handler: ReplicationHandler = (event, context) => {
  envHandler ??= makeHandler(parseConfig(process.env));
  return envHandler(event, context);
};
