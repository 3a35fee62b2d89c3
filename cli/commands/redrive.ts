import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { CommonOptions, prose, requireSqsEndpoint, Session, tableAction, tableCommand, urlOption } from '../command';
import { redrive, redriveExitCode, redriveFailures, renderRedrive } from '../redrive';

interface RedriveFlags extends CommonOptions {
  queueUrl?: string[];
  sqsEndpoint?: string;
  dryRun?: boolean;
}

export function redriveCommand(parent: Command, session: Session): void {
  tableCommand(parent, 'redrive')
    .summary('repair the batches in the on-failure DLQs, then delete their messages')
    .description(
      prose(`Reads the on-failure messages in the table's DLQs (they hold batch coordinates, not records),
re-reads each batch's records from the stream while it still has them (24 h), and re-syncs every
affected item on every replica from the source's current state. A message is deleted only after
its batch is repaired; every other message is made visible again before the command ends (after
an error or Ctrl-C too), so the next run sees it. Each message says why it was not repaired: the
item writes that failed (key, region, error), an unreadable message, or records the stream no
longer holds (then run reconcile). Exit code 1 while any message is not repaired.`),
    )
    .option('--queue-url <url>', 'a DLQ to drain (repeatable; default: the DLQs of the primary region\'s links)', (v: string, prev: string[] = []) => [...prev, v])
    .addOption(urlOption('--sqs-endpoint <url>', 'send SQS requests here (for example a local SQS server)'))
    .option('--dry-run', 'show what would be repaired; change and delete nothing')
    .action(
      tableAction(session, 'redrive', async (ctx, opts: RedriveFlags) => {
        requireSqsEndpoint(opts);
        const region = ctx.table.primaryRegion;
        const sqs = new SQSClient({ region, ...(opts.sqsEndpoint && { endpoint: opts.sqsEndpoint }) });
        const streams = new DynamoDBStreamsClient({ region, ...(opts.endpoint && { endpoint: opts.endpoint }) });
        try {
          const report = await redrive(ctx, { sqs, streams, queueUrls: opts.queueUrl, dryRun: !!opts.dryRun, signal: session.io.signal });
          const { dryRun, interrupted, messages } = report;
          return { exitCode: redriveExitCode(report), text: renderRedrive(report), fields: { dryRun, interrupted, messages }, failures: redriveFailures(report) };
        } finally {
          sqs.destroy();
          streams.destroy();
        }
      }),
    );
}
