import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { CommonOptions, prose, requireSqsEndpoint, Session, tableAction, tableCommand, urlOption } from '../command';
import { redrive, RedriveResult } from '../redrive';

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
its batch is repaired; for a batch past retention it says so and points to reconcile.`),
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
          const messages = await redrive(ctx, { sqs, streams, queueUrls: opts.queueUrl, dryRun: !!opts.dryRun });
          return { exitCode: messages.every((r) => r.outcome === 'repaired' || r.outcome === 'would-repair') ? 0 : 1, text: renderRedrive(messages), fields: { messages } };
        } finally {
          sqs.destroy();
          streams.destroy();
        }
      }),
    );
}

function renderRedrive(results: RedriveResult[]): string {
  if (results.length === 0) return 'no messages: nothing to redrive';
  const count = (o: RedriveResult['outcome']) => results.filter((r) => r.outcome === o).length;
  const lines = results.map((r) => `${r.messageId}: ${r.outcome}${r.items ? ` (${r.items} item(s))` : ''}${r.detail ? ` - ${r.detail}` : ''}`);
  lines.push(`${results.length} message(s): ${count('repaired')} repaired and deleted, ${count('would-repair')} would be repaired, ${count('past-retention')} past retention, ${count('unreadable')} unreadable, ${count('failed')} failed`);
  return lines.join('\n');
}
