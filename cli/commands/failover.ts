import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { DEFAULTS } from '../../handlers/contract';
import { CommonOptions, intOption, prose, requireSqsEndpoint, Session, stderrOf, tableAction, tableCommand, urlOption } from '../command';
import { CliError } from '../context';
import { failover, FailoverReport } from '../failover';
import { lambdaMappings } from '../mappings';

interface FailoverFlags extends CommonOptions {
  to?: string;
  unplanned?: boolean;
  lambdaEndpoint?: string;
  sqsEndpoint?: string;
  fenceCacheSeconds: number;
  clockMarginSeconds: number;
  drainWaitSeconds: number;
}

export function failoverCommand(parent: Command, session: Session): void {
  tableCommand(parent, 'failover')
    .summary('move the primary to another region, losing nothing (--unplanned when it is down)')
    .usage('--to REGION [--unplanned] [options]')
    .description(
      prose(`Moves the table's primary to REGION with fences: every region's fence gets a new term, which starts
only once no link can act on the old one (fence cache + function timeout + clock margin). Writes a
former primary takes after that are fenced out of replication and reported by \`review\`, never
applied over newer ones.

Planned (default): stop the application's writes to the primary first. Every region must answer and
the primary must be drained: its DLQs empty, every replica holding the last change of every item in
its stream; otherwise it refuses with the reason and changes nothing. Then it raises the fences,
enables REGION's mappings (Lambda API), waits for the new term, and checks again that every replica
holds each change the old primary took before the term (its links replicate them until shortly
before it); only then does it disable the old primary's mappings. If they do not within
--drain-wait-seconds it leaves them enabled, exits 1 and lists the items and what to do. Nothing is
lost.

--unplanned: the primary the reachable fences name (the stack config's where none exists yet) is
down and is not called: the reachable fences are raised, REGION's mappings enabled, and once the term
starts every reachable replica is reconciled from REGION, reporting items where it held a newer
version of the old term. The old primary's unreplicated writes are found when it comes back
(\`rejoin\`).`),
    )
    .option('--to <region>', 'the new primary (required)')
    .option('--unplanned', 'the primary is down (see above)')
    .addOption(urlOption('--lambda-endpoint <url>', 'send Lambda API requests here: an endpoint serving ListEventSourceMappings and UpdateEventSourceMapping, such as local/lambda-api.ts over a local deployment (local/deployment.ts); npm start serves none'))
    .addOption(urlOption('--sqs-endpoint <url>', 'send SQS requests here (the DLQ check)'))
    .addOption(intOption('--fence-cache-seconds <n>', 'how long links trust a cached fence, as deployed', 0, 300).default(DEFAULTS.fenceCacheSeconds))
    .addOption(intOption('--clock-margin-seconds <n>', 'allowance for clock differences', 0, 300).default(5))
    .addOption(intOption('--drain-wait-seconds <n>', 'planned: how long to wait for the replicas after the term starts', 0, 3600).default(60))
    .action(
      tableAction(
        session,
        'failover',
        async (ctx, opts: FailoverFlags) => {
          if (!opts.to) throw new CliError(`failover needs --to REGION: one of ${[ctx.table.primaryRegion, ...ctx.table.replicaRegions].join(', ')}`);
          const regions = [ctx.table.primaryRegion, ...ctx.table.replicaRegions];
          if (!regions.includes(opts.to)) throw new CliError(`--to ${opts.to} is not a region of ${ctx.table.name}: use one of ${regions.join(', ')}`);
          if (!opts.unplanned) requireSqsEndpoint(opts);
          const endpoint = (e?: string) => (e ? { endpoint: e } : {});
          const lambdas = new Map<string, LambdaClient>();
          const report = await failover(
            ctx,
            { to: opts.to, unplanned: !!opts.unplanned, fenceCacheSeconds: opts.fenceCacheSeconds, clockMarginSeconds: opts.clockMarginSeconds, drainWaitSeconds: opts.drainWaitSeconds, segments: opts.segments },
            {
              streams: (region) => new DynamoDBStreamsClient({ region, ...endpoint(opts.endpoint) }),
              sqs: (region) => new SQSClient({ region, ...endpoint(opts.sqsEndpoint) }),
              mappings: lambdaMappings((region) => lambdas.get(region) ?? lambdas.set(region, new LambdaClient({ region, ...endpoint(opts.lambdaEndpoint) })).get(region)!),
              progress: session.io.quiet ? undefined : (line) => stderrOf(session.io)(line),
            },
          ).finally(() => lambdas.forEach((c) => c.destroy()));
          const { table: _t, ok: _ok, ...fields } = report;
          return { exitCode: report.ok ? 0 : 1, text: renderFailover(report), fields };
        },
        true,
      ),
    );
}

function renderFailover(r: FailoverReport): string {
  const lines = [`${r.table}: ${r.mode} failover ${r.from} -> ${r.to}: ${r.ok ? 'done' : r.refused ? 'refused' : 'done, with problems'}`];
  for (const c of r.checks) lines.push(`  check ${c.check}: ${c.ok ? 'ok' : 'NOT OK'} - ${c.detail}`);
  if (r.refused) lines.push(`  ${r.refused}`);
  for (const f of r.fences) lines.push(`  fence ${f.region}: ${f.outcome}${f.generation ? ` (generation ${f.generation})` : ''}${f.detail ? ` - ${f.detail}` : ''}`);
  for (const m of r.mappings) lines.push(`  mapping ${m.functionName} (${m.region}): ${m.change}${m.detail ? ` - ${m.detail}` : ''}`);
  for (const c of r.reconciled ?? []) lines.push(`  reconciled ${c.region} from ${r.to}: repaired ${c.repaired}, ${c.newerOnReplica} item(s) newer on ${c.region} than on ${r.to} (see \`ddb-replicator review\`), failed ${c.failed}`);
  if (r.next.length) lines.push('Next:', ...r.next.map((n) => `  - ${n}`));
  return lines.join('\n');
}
