import type { Command } from 'commander';
import { CommonOptions, prose, Session, tableAction, tableCommand } from '../command';
import { replicaRegionsOf } from '../context';
import { Failures } from '../failures';
import { reconcile, renderReconcile } from '../reconcile';

export function reconcileCommand(parent: Command, session: Session): void {
  tableCommand(parent, 'reconcile')
    .summary('verify, then repair every difference from the source\'s current state')
    .description(
      prose(`Verifies, then repairs each difference from the source item re-read with a strongly consistent
read, through the same conditional apply as replication (a change replicated during the run is
never overwritten). Reports what it repaired, and each item it could not (key and error).`),
    )
    .option('--region <region>', 'repair only this replica region')
    .action(
      tableAction(session, 'reconcile', async (ctx, opts: CommonOptions & { region?: string }) => {
        const failures = new Failures();
        const regions = await reconcile(ctx, replicaRegionsOf(ctx.table, opts.region), opts.segments, !!opts.json || !!session.io.quiet, failures);
        return { exitCode: regions.every((r) => r.failed === 0) ? 0 : 1, text: renderReconcile(regions), fields: { regions }, failures: failures.list };
      }),
    );
}
