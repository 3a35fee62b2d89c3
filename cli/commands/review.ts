import type { Command } from 'commander';
import { CommonOptions, prose, Session, tableAction, tableCommand } from '../command';
import { renderReview, review, reviewFields } from '../review';

export function reviewCommand(parent: Command, session: Session): void {
  tableCommand(parent, 'review')
    .summary('writes replication did not carry (a former primary\'s tail), by key and version')
    .description(
      prose(`Lists what replication did not carry, from every region's state table, by key (DynamoDB JSON, to
paste into aws dynamodb get-item --key) and version, never values: writes a former primary took
after a failover (fenced, stray, old-term), items a replica held newer than the new primary, and
items a returning region held differently. Exit code 1 while there are entries, 2 when a region did not answer.`),
    )
    .option('--clear', 'delete the entries listed (after you handled them)')
    .action(
      tableAction(
        session,
        'review',
        async (ctx, opts: CommonOptions & { clear?: boolean }) => {
          const report = await review(ctx, !!opts.clear);
          // A region that did not answer may hold entries: that is not "nothing to review".
          const exitCode = report.entries.length && !opts.clear ? 1 : report.unreachable.length ? 2 : 0;
          return { exitCode, text: renderReview(report), fields: reviewFields(report) };
        },
        true,
      ),
    );
}
