import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { FailedItem, freshSegment, Persister, processedItems, runSegment, SegmentEnd, SegmentState } from '../handlers/backfill-segment';
import { RateLimiter } from '../handlers/rate-limit';
import { CliError, TableContext } from './context';
import { Progress } from './progress';

export interface BackfillOptions {
  readonly region: string;
  readonly segments: number;
  /** Read and write capacity units per second this run may use; undefined for no limit. */
  readonly readUnitsPerSecond?: number;
  readonly writeUnitsPerSecond?: number;
  /** Items per scan page; default DynamoDB's 1 MB pages. */
  readonly pageSize?: number;
  readonly checkpointFile: string;
  /** Forget the checkpoint and start over. */
  readonly restart?: boolean;
  /** Ctrl-C: no new page or item; returns once the writes in flight settle, checkpoint saved. */
  readonly signal?: AbortSignal;
  readonly quiet?: boolean;
}

interface Checkpoint {
  version: 2;
  table: string;
  region: string;
  segments: SegmentState[];
}

/** The one shape of `backfill --json` (README, "backfill"); `renderBackfill` prints the same facts. */
export interface BackfillReport {
  readonly table: string;
  readonly region: string;
  /** Every segment scanned to its end and no item failed. */
  readonly completed: boolean;
  /** Stopped before the end (Ctrl-C, or too many failed items in a segment); rerun to resume. */
  readonly stopped: boolean;
  readonly resumed: boolean;
  /** Totals since the checkpoint was started. */
  readonly copied: number;
  readonly skipped: number;
  readonly undone: number;
  readonly failed: number;
  /** Items this run dealt with (failed items retried included). */
  readonly processedThisRun: number;
  /** Keys (DynamoDB JSON) and errors of the items that failed; a rerun retries them. */
  readonly failedItems: FailedItem[];
  /** Set when a segment stopped because too many of its items failed. */
  readonly problem?: string;
}

/** Reports and checkpoints save every item; a file a few times a second is enough for a crash. */
const SAVE_EVERY_MS = 250;

/**
 * Copies the source's existing items into a replica with a parallel scan, through the same
 * conditional apply as replication (handlers/backfill-segment.ts): an item replication already
 * wrote is never overwritten. Progress is checkpointed per item, so a rerun after a crash or Ctrl-C
 * redoes nothing finished, and retries the items that failed.
 */
export async function backfill(ctx: TableContext, opts: BackfillOptions): Promise<BackfillReport> {
  if (opts.restart) rmSync(opts.checkpointFile, { force: true });
  const checkpoint = loadCheckpoint(opts, ctx.table.name);
  const resumed = checkpoint.segments.some((s) => s.finished || s.after || processedItems(s) > 0);
  const generation = await ctx.generation();
  const source = ctx.client(ctx.table.primaryRegion);
  const reads = new RateLimiter(opts.readUnitsPerSecond);
  const writes = new RateLimiter(opts.writeUnitsPerSecond);
  const { Table } = await source.send(new DescribeTableCommand({ TableName: ctx.table.name }));
  const progress = new Progress(`backfill ${ctx.table.name} -> ${opts.region}:`, Table?.ItemCount, process.stderr, opts.quiet);
  const before = checkpoint.segments.reduce((n, s) => n + processedItems(s), 0);
  progress.add(before);
  let processedThisRun = 0;
  const persister = new Persister(async () => saveCheckpoint(opts.checkpointFile, checkpoint), SAVE_EVERY_MS);
  // A segment that throws (the source unreachable) stops the others too, each at an item boundary.
  const failing = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, failing.signal]) : failing.signal;
  const runs = await Promise.allSettled(
    checkpoint.segments.map((state, segment) =>
      runSegment({
        source,
        replica: ctx.client(opts.region),
        tableName: ctx.table.name,
        target: { region: opts.region, tableName: ctx.table.name },
        keyNames: ctx.keyNames,
        segment,
        totalSegments: opts.segments,
        generation,
        rules: () => ctx.rules(),
        state,
        changed: persister.changed,
        signal,
        pageSize: opts.pageSize,
        reads,
        writes,
        onItem: () => {
          processedThisRun++;
          progress.add(1);
        },
      }).catch((err) => {
        failing.abort();
        throw err;
      }),
    ),
  );
  await persister.flush();
  progress.finish();
  const error = runs.find((r) => r.status === 'rejected');
  if (error) throw error.reason;
  const ends = runs.map((r) => (r as PromiseFulfilledResult<SegmentEnd>).value);
  const crowded = ends.findIndex((e) => e === 'too-many-failures');
  const problem = crowded >= 0 ? `segment ${crowded} stopped after ${checkpoint.segments[crowded]!.failures.length} failed items: fix their cause (the errors listed), then rerun` : undefined;
  return summarize(ctx.table.name, opts.region, checkpoint.segments, { resumed, processedThisRun, stopped: ends.some((e) => e !== 'finished'), problem });
}

/** The report of a run from its segments' states (a checkpoint file's, or the state table's). */
export function summarize(table: string, region: string, segments: readonly SegmentState[], run: { resumed: boolean; processedThisRun: number; stopped: boolean; problem?: string }): BackfillReport {
  const failedItems = segments.flatMap((s) => s.failures);
  const sum = (f: (s: SegmentState) => number) => segments.reduce((n, s) => n + f(s), 0);
  return {
    table,
    region,
    completed: segments.every((s) => s.finished) && failedItems.length === 0,
    stopped: run.stopped,
    resumed: run.resumed,
    copied: sum((s) => s.copied),
    skipped: sum((s) => s.skipped),
    undone: sum((s) => s.undone),
    failed: failedItems.length,
    processedThisRun: run.processedThisRun,
    failedItems,
    ...(run.problem && { problem: run.problem }),
  };
}

/** Exit code: 0 only when complete; 1 while items failed or the run stopped early. */
export const backfillExitCode = (r: BackfillReport) => (r.completed ? 0 : 1);

/** The summary lines; the failed items are listed by the command frame (cli/command.ts), with their keys. */
export function renderBackfill(r: BackfillReport): string {
  const state = r.completed ? 'backfill complete' : r.stopped ? 'backfill stopped; rerun the same command to resume' : 'backfill incomplete: items failed; rerun the same command to retry them';
  const line = `${state}${r.resumed ? ' (resumed)' : ''}: copied ${r.copied}, already replicated ${r.skipped}, deletions kept ${r.undone}, failed ${r.failed}`;
  return r.problem ? `${line}\n${r.problem}` : line;
}

function loadCheckpoint(opts: BackfillOptions, table: string): Checkpoint {
  const fresh: Checkpoint = { version: 2, table, region: opts.region, segments: Array.from({ length: opts.segments }, freshSegment) };
  if (!existsSync(opts.checkpointFile)) return fresh;
  let saved: Checkpoint & { positions?: unknown[]; failed?: number };
  try {
    saved = JSON.parse(readFileSync(opts.checkpointFile, 'utf8'));
  } catch (err) {
    throw new CliError(`checkpoint ${opts.checkpointFile} is unreadable (${(err as Error).message}): rerun with --restart to start over`);
  }
  const count = saved.segments?.length ?? saved.positions?.length;
  if (saved.table !== table || saved.region !== opts.region || count !== opts.segments) {
    throw new CliError(
      `checkpoint ${opts.checkpointFile} is for ${saved.table} -> ${saved.region} with ${count} segments: resume with the same --table, --to and --segments, use another --checkpoint, or --restart`,
    );
  }
  if (saved.version !== 2) throw new CliError(`checkpoint ${opts.checkpointFile} was written by an older ddb-replicator that kept no failed keys: rerun with --restart`);
  return saved;
}

/** Write then rename, so a crash never leaves half a checkpoint. */
function saveCheckpoint(path: string, c: Checkpoint): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(c));
  renameSync(`${path}.tmp`, path);
}
