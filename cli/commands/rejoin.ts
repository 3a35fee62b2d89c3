import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { Command } from 'commander';
import { CommonOptions, prose, Session, stderrOf, tableAction, tableCommand } from '../command';
import { atCurrentPrimary, CliError } from '../context';
import { rejoin, RejoinReport } from '../rejoin';

export function rejoinCommand(parent: Command, session: Session): void {
  tableCommand(parent, 'rejoin')
    .summary('bring back a region that missed a failover: report, then reconcile it')
    .usage('--region REGION [options]')
    .description(
      prose(`Brings back a region that missed a failover (the old primary after an outage, or an unreachable
replica): records every item it holds differently from the primary in the review report (its
unreplicated writes among them), raises its fence so the primary's links write into it again, then
reconciles it from the primary. Only then can it be promoted again.`),
    )
    .option('--region <region>', 'the returning region (required)')
    .action(
      tableAction(
        session,
        'rejoin',
        async (ctx, opts: CommonOptions & { region?: string }) => {
          if (!opts.region) throw new CliError(`rejoin needs --region REGION: one of ${ctx.table.replicaRegions.join(', ')}`);
          const { ctx: current, fence, note } = await atCurrentPrimary(ctx);
          if (note && !session.io.quiet) stderrOf(session.io)(note);
          const streams = new DynamoDBStreamsClient({ region: opts.region, ...(opts.endpoint && { endpoint: opts.endpoint }) });
          const report = await rejoin(current, fence, opts.region, opts.segments, streams).finally(() => streams.destroy());
          const { table: _t, ...fields } = report;
          return { exitCode: report.reconciled.failed === 0 ? 0 : 1, text: renderRejoin(report), fields };
        },
        true,
      ),
    );
}

function renderRejoin(r: RejoinReport): string {
  return [
    `${r.table}: ${r.region} rejoined at generation ${r.generation} (primary ${r.primary}); fence ${r.fence}`,
    `  ${r.strays} write(s) it took while not primary, and ${r.differences} item(s) that differed from ${r.primary}: listed by \`ddb-replicator review\``,
    `  reconciled: repaired ${r.reconciled.repaired}, left to live replication ${r.reconciled.skipped}, deletions kept ${r.reconciled.undone}, failed ${r.reconciled.failed}`,
  ].join('\n');
}
