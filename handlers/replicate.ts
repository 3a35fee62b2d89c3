import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ApplyOutcome, applyPlan } from './apply';
import { keyText } from './attribute-values';
import { limiter } from './concurrency';
import { parseConfig, ReplicaTarget, ReplicatorConfig } from './config';
import type { Dynamo } from './dynamo';
import { dynamoEndpoint, liteDynamo } from './dynamo-lite';
import { buildMetricDocuments, emptyCounts, TargetCounts, writeStdoutLine } from './metrics';
import { EventError, ItemPlan, planBatch } from './plan';
import { currentTerm, Fence, FenceView } from './fence';
import { ReviewEntry, writeReviewEntries } from './review';
import { classify } from './terms';
import { readTombstones, TombstoneWrite, writeTombstone } from './tombstones';
import { encodeVersion, isNewer, sameVersion } from './versions';

export interface AppliedEvent {
  readonly target: ReplicaTarget;
  readonly plan: ItemPlan;
  readonly outcome: LinkOutcome;
  readonly atMs: number;
}

export interface HandlerDeps {
  /** DynamoDB per region; default aws-lite, at the endpoint the SDK's standard variables name (AWS_ENDPOINT_URL_DYNAMODB). */
  readonly dynamo?: (region: string) => Dynamo;
  /** Where the metrics' EMF lines go; default stdout, which Lambda sends to CloudWatch Logs. */
  readonly metricLine?: (line: string) => void;
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
  const clients = new Map<string, Dynamo>();
  // Read once: a bad endpoint variable makes the handler throw, naming it.
  const endpoint = deps.dynamo ? undefined : dynamoEndpoint();
  const clientFor = deps.dynamo ?? ((region: string) => liteDynamo(region, { endpoint }));
  const dynamo = (region: string) => clients.get(region) ?? clients.set(region, clientFor(region)).get(region)!;
  const log = deps.log ?? jsonLog;
  const now = deps.now ?? Date.now;
  const fences = new FenceView(dynamo, config.state.tableName, config.fenceCacheMs, now);
  const source = config.state.region;
  const metricLine = deps.metricLine ?? writeStdoutLine;

  return async (event, context) => {
    const started = now();
    if (!Array.isArray(event?.Records)) {
      throw new EventError('event has no Records array: this function must be triggered by a DynamoDB stream event source mapping');
    }
    const rules = { ttlAttribute: config.ttlAttribute, nowSeconds: Math.floor(started / 1000) };
    // The tombstone read stands before every write that is not a deletion: it starts now, for every
    // key of the batch in every target region, runs while the fences are read and the batch is
    // planned, and each item waits only for its own chunk of it.
    const state = dynamo(config.state.region);
    const tombstones = readTombstones(state, config.state, config.targets.map((t) => t.region), batchKeys(event.Records));
    // Without its own region's fence a link cannot tell the application's writes from echoes: fail the batch, Lambda retries.
    const sourceFence = await fences.source(source);
    const sorted = sortRecords(event.Records, source, sourceFence);
    const plan = planBatch(sorted.changes, { replicateTtlDeletes: config.replicateTtlDeletes, generation: currentTerm(sourceFence).gen, rules });
    const byRegion = new Map(config.targets.map((t) => [t.region, emptyCounts()]));
    const failedSeqs = new Set(plan.rejected.map((r) => r.seq));
    for (const r of plan.rejected) log({ level: 'error', msg: 'record rejected', seq: r.seq, reason: r.reason });
    const review = [...sorted.review];

    const remaining = context?.getRemainingTimeInMillis?.bind(context);
    const outOfTime = () => !!remaining && remaining() < DEADLINE_RESERVE_MS;
    const limit = limiter(config.maxConcurrency);
    const record = (item: ItemPlan, target: ReplicaTarget, outcome: LinkOutcome) => {
      const atMs = now();
      count(byRegion.get(target.region)!, item, outcome, atMs);
      if (outcome.status === 'failed') {
        failedSeqs.add(item.changes[0]!.seq);
        log({ level: 'warn', msg: 'apply failed', region: target.region, table: target.tableName, key: item.keys, seq: item.changes[0]!.seq, error: outcome.error });
      }
      if (outcome.status === 'fenced') {
        for (const ch of item.changes) review.push({ seq: ch.seq, entry: { kind: 'fenced', key: item.keys, region: source, target: target.region, version: encodeVersion(ch.version), writtenAt: Math.floor(ch.createdAtMs / 1000) } });
      }
      if ((outcome.status === 'applied' && outcome.conflict) || outcome.status === 'kept') {
        log({
          level: 'warn',
          msg: 'conflict',
          resolution: outcome.status === 'kept' ? 'kept-replica' : 'source-wins',
          region: target.region,
          table: target.tableName,
          key: item.keys, // DynamoDB JSON, pasteable into aws dynamodb get-item --key
          seq: item.changes[0]!.seq,
          replicaDigest: outcome.previousDigest,
          expectedDigests: [...item.expectedBefore],
        });
      }
      deps.onApplied?.({ target, plan: item, outcome, atMs });
    };

    // Each target region's fence decides whether this link may write there now.
    // A region whose fence cannot be read now is not written this time: its items fail and are retried.
    const admission = new Map(
      await Promise.all(
        config.targets.map(async (t) => {
          const decision: LinkOutcome | 'write' = await fences.target(t.region, source, sourceFence).then(
            (f) => {
              const d = admit(f, source, sourceFence);
              return d === 'write' ? d : { status: d };
            },
            (err: Error) => ({ status: 'failed', error: `fence not read: ${err.name}: ${err.message}` }),
          );
          return [t.region, decision] as const;
        }),
      ),
    );
    const writable = config.targets.filter((t) => admission.get(t.region) === 'write');

    /** One item to one region: its tombstone there decides what an absence means and which records are stale. */
    const replicateTo = async (item: ItemPlan, target: ReplicaTarget): Promise<LinkOutcome> => {
      let removeReplay = false;
      if (item.final) {
        let deletedAt;
        try {
          deletedAt = await tombstones.get(target.region, item.key);
        } catch (err) {
          return { status: 'failed', error: `tombstones not read: ${(err as Error).name}: ${(err as Error).message}` };
        }
        if (deletedAt && !isNewer(item.version, deletedAt)) return { status: 'skipped', stored: deletedAt };
      } else {
        if (outOfTime()) return NOT_ATTEMPTED;
        let written: TombstoneWrite;
        try {
          written = await limit(() => writeTombstone(state, config.state, target.region, item.key, item.version, rules.nowSeconds));
        } catch (err) {
          return { status: 'failed', error: `tombstone not written: ${(err as Error).name}: ${(err as Error).message}` };
        }
        if (written === 'stale') return { status: 'skipped', stored: undefined };
        removeReplay = written === 'replay';
      }
      if (outOfTime()) return NOT_ATTEMPTED;
      return limit(() => applyPlan(dynamo(target.region), target, item, config.conflictPolicy, { rules, removeReplay }));
    };

    const replicateItem = async (item: ItemPlan) => {
      for (const t of config.targets) {
        const decision = admission.get(t.region)!;
        if (decision !== 'write') record(item, t, decision);
      }
      await Promise.all(writable.map(async (target) => record(item, target, await replicateTo(item, target))));
    };
    // A few items at a time onto the network: their requests leave before the next ones are
    // prepared, so the round trip overlaps the CPU of the rest instead of following all of it.
    const inFlight: Promise<void>[] = [];
    for (const [i, item] of plan.items.entries()) {
      inFlight.push(replicateItem(item));
      if (i % ITEMS_PER_TURN === ITEMS_PER_TURN - 1) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await Promise.all(inFlight);

    // A write that replication will not carry is only done once it is in the review report.
    if (review.length > 0) {
      try {
        await writeReviewEntries(state, config.state.tableName, review.map((r) => r.entry), rules.nowSeconds);
      } catch (err) {
        for (const r of review) failedSeqs.add(r.seq);
        log({ level: 'error', msg: 'review entries not written', error: `${(err as Error).name}: ${(err as Error).message}` });
      }
    }

    const table = sourceTableName(event.Records[0]?.eventSourceARN);
    const linkCounts = { echoes: sorted.echoes, review: review.length };
    if (config.metricsNamespace && event.Records.length > 0) {
      for (const doc of buildMetricDocuments(config.metricsNamespace, table, source, byRegion, linkCounts, now())) metricLine(JSON.stringify(doc));
    }

    const batchItemFailures = [...failedSeqs].map((itemIdentifier) => ({ itemIdentifier }));
    log({
      level: 'info',
      msg: 'batch',
      requestId: context?.awsRequestId,
      table,
      generation: sourceFence.generation,
      records: event.Records.length,
      items: plan.items.length,
      echoes: sorted.echoes,
      forReview: review.length,
      ttlSkipped: plan.ttlSkipped,
      rejected: plan.rejected.length,
      failedItems: batchItemFailures.length,
      durationMs: now() - started,
      targets: Object.fromEntries([...byRegion].map(([region, c]) => [region, summarize(c)])),
    });
    return { batchItemFailures };
  };
}

/** What the link does for one item and target: apply it, or not write there (see `admit`). */
export type LinkOutcome = ApplyOutcome | { readonly status: 'fenced' } | { readonly status: 'not-admitted' };

/**
 * Whether this link may write into a region now: only if the region's fence names the link's source
 * as the primary of the same generation the source's own fence holds. A region whose fence is
 * older (it missed a failover, or is a returning primary) is not written until `ddb-replicator
 * rejoin` has compared and reconciled it; a newer fence, or another primary, means this source is a
 * former primary: its changes are fenced out and go to the review report.
 */
function admit(target: Fence | undefined, source: string, sourceFence: Fence): 'write' | 'fenced' | 'not-admitted' {
  if (!target || target.generation < sourceFence.generation) return 'not-admitted';
  return target.generation === sourceFence.generation && target.primary === source && sourceFence.primary === source ? 'write' : 'fenced';
}

/** The item keys of a batch's records, as tombstones name them; a record whose keys cannot be read is left to planning to reject. */
function batchKeys(records: readonly DynamoDBRecord[]): string[] {
  const keys = new Set<string>();
  for (const r of records) {
    try {
      if (r?.dynamodb?.Keys && Object.keys(r.dynamodb.Keys).length > 0) keys.add(keyText(r.dynamodb.Keys as never));
    } catch {
      // rejected by planBatch, with the reason
    }
  }
  return [...keys];
}

/** Splits a batch into the application's changes of the current term, echoes, and writes for review. */
function sortRecords(records: readonly DynamoDBRecord[], source: string, fence: Fence) {
  const changes: DynamoDBRecord[] = [];
  const review: { seq: string; entry: ReviewEntry }[] = [];
  let echoes = 0;
  for (const r of records) {
    const k = classify(r, source, fence);
    if (k.kind === 'change') changes.push(r);
    else if (k.kind === 'echo') echoes++;
    else {
      const seq = r.dynamodb?.SequenceNumber ?? '';
      review.push({ seq, entry: { kind: k.kind, key: r.dynamodb?.Keys ?? {}, region: source, version: seq, writtenAt: Math.floor(r.dynamodb?.ApproximateCreationDateTime ?? 0) } });
    }
  }
  return { changes, echoes, review };
}

/** Items started per turn of the event loop (each writes to every target region). */
const ITEMS_PER_TURN = 4;

const NOT_ATTEMPTED: ApplyOutcome = { status: 'failed', error: 'not attempted: the invocation is about to time out' };

function count(c: TargetCounts, item: ItemPlan, outcome: LinkOutcome, atMs: number): void {
  const n = item.changes.length;
  switch (outcome.status) {
    case 'fenced':
      c.fenced += n;
      break;
    case 'not-admitted':
      c.notAdmitted += n;
      break;
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
