import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { linkSlot } from '../../config/links';
import { backfillWorkerNames } from '../../config/names';
import { backfill, BackfillReport, backfillExitCode, renderBackfill } from '../backfill';
import { backfillWithWorkers, inProcessInvoker, lambdaInvoker } from '../backfill-workers';
import { CommonOptions, intOption, prose, Session, tableAction, tableCommand, urlOption } from '../command';
import { CliError, replicaRegionsOf } from '../context';

interface BackfillFlags extends CommonOptions {
  to?: string;
  readUnits?: number;
  writeUnits?: number;
  pageSize?: number;
  checkpoint?: string;
  restart?: boolean;
  workers?: number;
  lambdaEndpoint?: string;
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
    .addOption(intOption('--workers <n>', 'run N segments as concurrent invocations of the backfill worker deployed with the replication link, checkpointed in the state table (--segments and --checkpoint do not apply); with --endpoint and no --lambda-endpoint, in this process', 1, 1000))
    .addOption(urlOption('--lambda-endpoint <url>', 'send the workers\' Lambda Invoke requests here (a local Lambda API)'))
    .action(
      tableAction(session, 'backfill', async (ctx, opts: BackfillFlags) => {
        if (!opts.to) throw new CliError(`backfill needs --to REGION: one of ${ctx.table.replicaRegions.join(', ')}`);
        const [region] = replicaRegionsOf(ctx.table, opts.to, '--to');
        const limits = { region: region!, readUnitsPerSecond: opts.readUnits, writeUnitsPerSecond: opts.writeUnits, pageSize: opts.pageSize, restart: opts.restart, signal: session.io.signal, quiet: session.io.quiet || opts.json };
        let report: BackfillReport;
        if (opts.workers) {
          if (opts.checkpoint) throw new CliError('--workers keeps its checkpoints in the state table: drop --checkpoint');
          let lambda: LambdaClient | undefined;
          if (!opts.endpoint || opts.lambdaEndpoint) {
            // Synchronous invocations last up to the worker's 15 minutes; retries are the run's own (it resumes segments).
            lambda = new LambdaClient({ region: ctx.table.primaryRegion, maxAttempts: 1, requestHandler: { requestTimeout: 16 * 60_000 }, ...(opts.lambdaEndpoint && { endpoint: opts.lambdaEndpoint }) });
          }
          const worker = backfillWorkerNames(ctx.table.name, ctx.table.primaryRegion, linkSlot(region!, ctx.table.linkSlots)).functionName;
          const invoke = lambda ? lambdaInvoker(lambda, worker) : inProcessInvoker(ctx, region!);
          report = await backfillWithWorkers(ctx, { ...limits, workers: opts.workers, invoke }).finally(() => lambda?.destroy());
        } else {
          const checkpointFile = opts.checkpoint ?? resolve(`.ddb-replicator/backfill-${ctx.table.name}-${region}.json`);
          mkdirSync(dirname(checkpointFile), { recursive: true });
          report = await backfill(ctx, { ...limits, segments: opts.segments, checkpointFile });
        }
        const { table: _t, failedItems, ...fields } = report;
        return { exitCode: backfillExitCode(report), text: renderBackfill(report), fields, failures: failedItems.map((f) => ({ region: region!, ...f })) };
      }),
    );
}
