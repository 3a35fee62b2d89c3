import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { backfill, backfillExitCode, renderBackfill } from '../backfill';
import { CommonOptions, intOption, prose, Session, tableAction, tableCommand } from '../command';
import { CliError, replicaRegionsOf } from '../context';

interface BackfillFlags extends CommonOptions {
  to?: string;
  readUnits?: number;
  writeUnits?: number;
  pageSize?: number;
  checkpoint?: string;
  restart?: boolean;
}

export function backfillCommand(parent: Command, session: Session): void {
  tableCommand(parent, 'backfill')
    .summary('copy existing source items into a replica (resumable)')
    .usage('--to REGION [options]')
    .description(
      prose(`Copies the source's existing items into the replica in REGION with a parallel scan and the same
conditional apply as replication: an item replication already wrote is never overwritten, so it is
safe beside live replication. Progress is checkpointed per item: after a crash or Ctrl-C (which
starts nothing new and waits only for the writes in flight), rerun the same command to resume; it
also retries the items that failed. It reports complete only when every item is copied.`),
    )
    .option('--to <region>', 'replica region to fill (required)')
    .addOption(intOption('--read-units <n>', 'read capacity units per second to use at most (default: no limit)', 1, 1_000_000))
    .addOption(intOption('--write-units <n>', 'write capacity units per second to use at most (default: no limit)', 1, 1_000_000))
    .addOption(intOption('--page-size <n>', 'items per scan page (default: 1 MB pages)', 1, 100_000))
    .option('--checkpoint <file>', 'where progress is kept (default .ddb-replicator/backfill-TABLE-REGION.json)')
    .option('--restart', 'forget the checkpoint and start over')
    .action(
      tableAction(session, 'backfill', async (ctx, opts: BackfillFlags) => {
        if (!opts.to) throw new CliError(`backfill needs --to REGION: one of ${ctx.table.replicaRegions.join(', ')}`);
        const [region] = replicaRegionsOf(ctx.table, opts.to, '--to');
        const checkpointFile = opts.checkpoint ?? resolve(`.ddb-replicator/backfill-${ctx.table.name}-${region}.json`);
        mkdirSync(dirname(checkpointFile), { recursive: true });
        const report = await backfill(ctx, {
          region: region!,
          segments: opts.segments,
          readUnitsPerSecond: opts.readUnits,
          writeUnitsPerSecond: opts.writeUnits,
          pageSize: opts.pageSize,
          checkpointFile,
          restart: opts.restart,
          signal: session.io.signal,
          quiet: session.io.quiet || opts.json,
        });
        const { table: _t, failedItems, ...fields } = report;
        return { exitCode: backfillExitCode(report), text: renderBackfill(report), fields, failures: failedItems.map((f) => ({ region: region!, ...f })) };
      }),
    );
}
