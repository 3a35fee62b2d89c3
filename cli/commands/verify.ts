import type { Command } from 'commander';
import { CommonOptions, prose, Session, tableAction, tableCommand } from '../command';
import { replicaRegionsOf } from '../context';
import { renderVerify, verify, verifyFields } from '../verify';

export function verifyCommand(parent: Command, session: Session): void {
  tableCommand(parent, 'verify')
    .summary('compare the source with its replicas')
    .description(
      prose(`Scans the source and its replicas and compares them, replication metadata ignored. Reports
missing, extra and different items (counts and a sample of keys, never values). Exit code 0 only
when every replica is in sync, 1 otherwise.`),
    )
    .option('--region <region>', 'check only this replica region')
    .action(
      tableAction(session, 'verify', async (ctx, opts: CommonOptions & { region?: string }) => {
        const { reports } = await verify(ctx, replicaRegionsOf(ctx.table, opts.region), opts.segments, !!opts.json || !!session.io.quiet);
        return { exitCode: reports.every((r) => r.inSync) ? 0 : 1, text: renderVerify(ctx.table.name, reports), fields: verifyFields(reports) };
      }),
    );
}
