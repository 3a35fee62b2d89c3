import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { CommonOptions, prose, Session, tableAction, tableCommand, urlOption } from '../command';
import { cloudStatusReport, localStatus, renderLocalStatus, renderStatus } from '../status';

interface StatusFlags extends CommonOptions {
  sqsEndpoint?: string;
}

export function statusCommand(parent: Command, session: Session): void {
  tableCommand(parent, 'status')
    .summary('iterator age, DLQ depth and alarm states per replication link')
    .description(
      prose(`Per replication link of the table: iterator age (CloudWatch), DLQ depth (SQS) and alarm states,
found through the alarms the stack creates. With --endpoint (a local run), the live figures the
local pipeline running there (npm start) publishes into the table's replication state table; when
its heartbeat is older than 5 s it says the pipeline is not running and shows the last figures
with their age. Exit code 1 when an alarm is firing, discarded records wait in a DLQ, or the local
pipeline failed recently or is not running; 0 otherwise.`),
    )
    .addOption(urlOption('--sqs-endpoint <url>', 'send SQS requests here (AWS path; a local pipeline publishes its DLQ depth itself)'))
    .action(
      tableAction(session, 'status', async (ctx, opts: StatusFlags) => {
        if (opts.endpoint) {
          const report = await localStatus(ctx, opts.endpoint);
          return { exitCode: report.problems.length ? 1 : 0, text: renderLocalStatus(ctx.table.name, report), fields: { ...report } };
        }
        const region = ctx.table.primaryRegion;
        const cloudwatch = new CloudWatchClient({ region });
        const sqs = new SQSClient({ region, ...(opts.sqsEndpoint && { endpoint: opts.sqsEndpoint }) });
        try {
          const report = await cloudStatusReport(ctx.table, { cloudwatch, sqs });
          return { exitCode: report.problems.length ? 1 : 0, text: renderStatus(ctx.table.name, report.links, report.problems), fields: { ...report } };
        } finally {
          cloudwatch.destroy();
          sqs.destroy();
        }
      }),
    );
}
