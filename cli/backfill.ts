import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { SdkItem } from '../handlers/attribute-values';
import { mapLimit } from '../handlers/concurrency';
import { syncItem } from '../handlers/repair';
import { CliError, TableContext } from './context';
import { Progress } from './progress';
import { RateLimiter, readUnits, writeUnits } from './rate-limit';
import { countSync, readSourceItem } from './reconcile';
import { parallelScan } from './scan';

export interface BackfillOptions {
  readonly region: string;
  readonly segments: number;
  /** Read and write capacity units per second this run may use; undefined for no limit. */
  readonly readUnitsPerSecond?: number;
  readonly writeUnitsPerSecond?: number;
  /** Items per scan page, so checkpoints (one per page) come more often; default 1 MB pages. */
  readonly pageSize?: number;
  readonly checkpointFile: string;
  readonly signal?: AbortSignal;
  readonly quiet?: boolean;
}

interface Checkpoint {
  table: string;
  region: string;
  segments: number;
  /** Per segment: the last key done, or true when the segment is finished. */
  positions: (SdkItem | true | null)[];
  copied: number;
  skipped: number;
  undone: number;
  failed: number;
}

export type BackfillReport = Omit<Checkpoint, 'positions'> & { resumed: boolean; completed: boolean };

/**
 * Copies the source's existing items into a replica with a parallel scan, through the same
 * conditional apply as replication: an item that replication already wrote is never overwritten,
 * and a backfilled item is superseded by any later change. Progress is checkpointed after every
 * page, so a crash or Ctrl-C resumes where it stopped.
 */
export async function backfill(ctx: TableContext, opts: BackfillOptions): Promise<BackfillReport> {
  const checkpoint = loadCheckpoint(opts, ctx.table.name);
  const resumed = checkpoint.positions.some((p) => p !== null);
  const generation = await ctx.generation();
  const source = ctx.client(ctx.table.primaryRegion);
  const replica = ctx.client(opts.region);
  const reads = new RateLimiter(opts.readUnitsPerSecond);
  const writes = new RateLimiter(opts.writeUnitsPerSecond);
  const { Table } = await source.send(new DescribeTableCommand({ TableName: ctx.table.name }));
  const progress = new Progress(`backfill ${ctx.table.name} -> ${opts.region}:`, Table?.ItemCount, process.stderr, opts.quiet);
  progress.add(checkpoint.copied + checkpoint.skipped + checkpoint.undone + checkpoint.failed);

  await parallelScan(
    source,
    ctx.table.name,
    opts.segments,
    async (page) => {
      if (opts.signal?.aborted) throw new Aborted();
      await reads.take(readUnits(page.bytes));
      await mapLimit(page.items, 16, async (item) => {
        const keys = Object.fromEntries(ctx.keyNames.map((k) => [k, item[k]!]));
        await writes.take(writeUnits(Buffer.byteLength(JSON.stringify(item))));
        const result = await syncItem({
          mode: 'backfill',
          replica,
          target: { region: opts.region, tableName: ctx.table.name },
          keys,
          scanned: item,
          readSource: () => readSourceItem(ctx, keys),
          generation,
          rules: ctx.rules(),
        });
        const counts = { repaired: 0, skipped: 0, undone: 0, failed: 0 };
        countSync(counts, result);
        checkpoint.copied += counts.repaired;
        checkpoint.skipped += counts.skipped;
        checkpoint.undone += counts.undone;
        checkpoint.failed += counts.failed;
      });
      checkpoint.positions[page.segment] = page.lastKey ?? true;
      saveCheckpoint(opts.checkpointFile, checkpoint);
      progress.add(page.items.length);
    },
    (segment) => {
      const p = checkpoint.positions[segment];
      return p === true ? 'done' : (p ?? undefined);
    },
    opts.pageSize,
  ).catch((err) => {
    if (!(err instanceof Aborted)) throw err;
  });
  progress.finish();
  const { positions, ...counts } = checkpoint;
  return { ...counts, resumed, completed: positions.every((p) => p === true) };
}

class Aborted extends Error {}

function loadCheckpoint(opts: BackfillOptions, table: string): Checkpoint {
  const fresh: Checkpoint = { table, region: opts.region, segments: opts.segments, positions: Array(opts.segments).fill(null), copied: 0, skipped: 0, undone: 0, failed: 0 };
  if (!existsSync(opts.checkpointFile)) return fresh;
  let saved: Checkpoint;
  try {
    saved = JSON.parse(readFileSync(opts.checkpointFile, 'utf8'), (_k, v) => (v && typeof v === 'object' && '$binary' in v ? Buffer.from(v.$binary, 'base64') : v));
  } catch (err) {
    throw new CliError(`checkpoint ${opts.checkpointFile} is unreadable (${(err as Error).message}): delete it to start over`);
  }
  if (saved.table !== table || saved.region !== opts.region || saved.segments !== opts.segments) {
    throw new CliError(
      `checkpoint ${opts.checkpointFile} is for ${saved.table} -> ${saved.region} with ${saved.segments} segments: resume with the same --table, --to and --segments, or use another --checkpoint`,
    );
  }
  return saved;
}

/** Write then rename, so a crash never leaves half a checkpoint. */
function saveCheckpoint(path: string, c: Checkpoint): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(c, (_k, v) => (v instanceof Uint8Array ? { $binary: Buffer.from(v).toString('base64') } : v)));
  renameSync(`${path}.tmp`, path);
}
