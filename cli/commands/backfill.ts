import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { backfill } from '../backfill';
import { CommonOptions, intOption, prose, Session, tableAction, tableCommand } from '../command';
import { CliError, replicaRegionsOf } from '../context';

interface BackfillFlags extends CommonOptions {
  to?: string;
  readUnits?: number;
  writeUnits?: number;
  pageSize?: number;
  checkpoint?: string;
}

export function backfillCommand(parent: Command, session: Session): void {
  tableCommand(parent, 'backfill')
    .summary('copy existing source items into a replica (resumable)')
    .usage('--to REGION [options]')
    .description(
      prose(`Copies the source's existing items into the replica in REGION with a parallel scan and the same
conditional apply as replication: an item replication already wrote is never overwritten, so it is
safe beside live replication. Checkpointed after every page: rerun the same command to resume.`),
    )
    .option('--to <region>', 'replica region to fill (required)')
    .addOption(intOption('--read-units <n>', 'read capacity units per second to use at most (default: no limit)', 1, 1_000_000))
    .addOption(intOption('--write-units <n>', 'write capacity units per second to use at most (default: no limit)', 1, 1_000_000))
    .addOption(intOption('--page-size <n>', 'items per scan page; progress is checkpointed after each page (default: 1 MB pages)', 1, 100_000))
    .option('--checkpoint <file>', 'where progress is kept (default .ddb-replicator/backfill-TABLE-REGION.json)')
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
          signal: session.io.signal,
          quiet: session.io.quiet || opts.json,
        });
        const text = `${report.completed ? 'backfill complete' : 'backfill stopped; rerun the same command to resume'}${report.resumed ? ' (resumed)' : ''}: copied ${report.copied}, already replicated ${report.skipped}, deletions kept ${report.undone}, failed ${report.failed}`;
        const { table: _t, ...fields } = report;
        return { exitCode: report.completed && report.failed === 0 ? 0 : 1, text, fields: { ...fields, region } };
      }),
    );
}
