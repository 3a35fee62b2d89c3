import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { CommonOptions, prose, Session, tableAction, tableCommand, urlOption } from '../command';
import { cloudStatus, localStatus, renderStatus } from '../status';

interface StatusFlags extends CommonOptions {
  sqsEndpoint?: string;
}

export function statusCommand(parent: Command, session: Session): void {
  tableCommand(parent, 'status')
    .summary('iterator age, DLQ depth and alarm states per replication link')
    .description(
      prose(`Per replication link of the table: iterator age (CloudWatch), DLQ depth (SQS) and alarm states,
found through the alarms the stack creates. With --endpoint (a local run), the emulator's own
figures, which \`npm start -- --watch\` keeps in .ddb-replicator/ of its working directory.`),
    )
    .addOption(urlOption('--sqs-endpoint <url>', 'send SQS requests here'))
    .action(
      tableAction(session, 'status', async (ctx, opts: StatusFlags) => {
        if (opts.endpoint) {
          const text = localStatus(process.cwd(), ctx.table.name);
          return { exitCode: 0, text, fields: { local: text } };
        }
        const region = ctx.table.primaryRegion;
        const cloudwatch = new CloudWatchClient({ region });
        const sqs = new SQSClient({ region, ...(opts.sqsEndpoint && { endpoint: opts.sqsEndpoint }) });
        try {
          const links = await cloudStatus(ctx.table, { cloudwatch, sqs });
          return { exitCode: links.every((l) => l.alarms.every((a) => a.state === 'OK')) ? 0 : 1, text: renderStatus(ctx.table.name, links), fields: { links } };
        } finally {
          cloudwatch.destroy();
          sqs.destroy();
        }
      }),
    );
}
