import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { backfill } from './backfill';
import { CliError, replicaRegionsOf, tableContext } from './context';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import { reconcile } from './reconcile';
import { redrive, RedriveResult } from './redrive';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { cloudStatus, localStatus, renderStatus } from './status';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DEFAULTS } from '../handlers/contract';
import { atCurrentPrimary } from './context';
import { failover, FailoverReport } from './failover';
import { lambdaMappings } from './mappings';
import { rejoin, RejoinReport } from './rejoin';
import { renderReview, review } from './review';
import { renderVerify, verify, verifyJson } from './verify';

const COMMON = `  --stack NAME       stack whose Pulumi.NAME.yaml to read (default dev)
  --table NAME       table of the stack (default: its only table)
  --endpoint URL     send every request to this endpoint (for example DynamoDB Local);
                     otherwise AWS, or the AWS SDK's standard variables (AWS_ENDPOINT_URL_DYNAMODB)
  --segments N       parallel scan segments (default 4)
  --dir PATH         the Pulumi project holding the stack files (default: this project)`;

const HELP: Record<string, string> = {
  main: `Usage: ddb-replicator <command> [options]

Operations for replicated tables, reading the same stack config as pulumi up:
  backfill --to REGION   copy existing source items into a replica (resumable)
  verify                 compare the source with its replicas
  reconcile              verify, then repair every difference from the source's current state
  redrive                repair the batches in the on-failure DLQs, then delete their messages
  status                 iterator age, DLQ depth and alarm states per replication link
  failover --to REGION   move the primary to another region, losing nothing (--unplanned when it is down)
  rejoin --region REGION bring back a region that missed a failover: report, then reconcile it
  review                 writes replication did not carry (a former primary's tail), by key and version

Run ddb-replicator <command> --help for its options.`,
  backfill: `Usage: ddb-replicator backfill --to REGION [options]

Copies the source's existing items into the replica in REGION with a parallel scan and the same
conditional apply as replication: an item replication already wrote is never overwritten, so it is
safe beside live replication. Checkpointed after every page: rerun the same command to resume.

${COMMON}
  --to REGION        replica region to fill (required)
  --read-units N     read capacity units per second to use at most (default: no limit)
  --write-units N    write capacity units per second to use at most (default: no limit)
  --page-size N      items per scan page; progress is checkpointed after each page (default: 1 MB pages)
  --checkpoint FILE  where progress is kept (default .ddb-replicator/backfill-TABLE-REGION.json)`,
  verify: `Usage: ddb-replicator verify [options]

Scans the source and its replicas and compares them, replication metadata ignored. Reports
missing, extra and different items (counts and a sample of keys, never values). Exit code 0 only
when every replica is in sync, 1 otherwise.

${COMMON}
  --region REGION    check only this replica region
  --json             machine-readable report`,
  reconcile: `Usage: ddb-replicator reconcile [options]

Verifies, then repairs each difference from the source item re-read with a strongly consistent
read, through the same conditional apply as replication (a change replicated during the run is
never overwritten). Reports what it repaired.

${COMMON}
  --region REGION    repair only this replica region
  --json             machine-readable report`,
  redrive: `Usage: ddb-replicator redrive [options]

Reads the on-failure messages in the table's DLQs (they hold batch coordinates, not records),
re-reads each batch's records from the stream while it still has them (24 h), and re-syncs every
affected item on every replica from the source's current state. A message is deleted only after
its batch is repaired; for a batch past retention it says so and points to reconcile.

${COMMON}
  --queue-url URL    a DLQ to drain (repeatable; default: the DLQs of the primary region's links)
  --sqs-endpoint URL send SQS requests here (for example a local SQS server)
  --dry-run          show what would be repaired; change and delete nothing
  --json             machine-readable report`,
  status: `Usage: ddb-replicator status [options]

Per replication link of the table: iterator age (CloudWatch), DLQ depth (SQS) and alarm states,
found through the alarms the stack creates. With --endpoint (a local run), the emulator's own
figures, which \`npm start -- --watch\` keeps in .ddb-replicator/ of its working directory.

${COMMON}
  --sqs-endpoint URL send SQS requests here
  --json             machine-readable report`,
};

HELP.failover = `Usage: ddb-replicator failover --to REGION [--unplanned] [options]

Moves the table's primary to REGION with fences: every region's fence gets a new term, which starts
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
(\`rejoin\`).

${COMMON}
  --to REGION                 the new primary (required)
  --unplanned                 the primary is down (see above)
  --lambda-endpoint URL       send Lambda API requests here: an endpoint serving ListEventSourceMappings
                              and UpdateEventSourceMapping, such as local/lambda-api.ts over a local
                              deployment (local/deployment.ts), as the tests run it; npm start serves none
  --sqs-endpoint URL          send SQS requests here (the DLQ check)
  --fence-cache-seconds N     how long links trust a cached fence (default 10, as deployed)
  --clock-margin-seconds N    allowance for clock differences (default 5)
  --drain-wait-seconds N      planned: how long to wait for the replicas after the term starts (default 60)
  --json                      machine-readable report`;

HELP.rejoin = `Usage: ddb-replicator rejoin --region REGION [options]

Brings back a region that missed a failover (the old primary after an outage, or an unreachable
replica): records every item it holds differently from the primary in the review report (its
unreplicated writes among them), raises its fence so the primary's links write into it again, then
reconciles it from the primary. Only then can it be promoted again.

${COMMON}
  --region REGION    the returning region (required)
  --json             machine-readable report`;

HELP.review = `Usage: ddb-replicator review [--clear] [options]

Lists what replication did not carry, from every region's state table, by key (DynamoDB JSON, to
paste into aws dynamodb get-item --key) and version, never values: writes a former primary took
after a failover (fenced, stray, old-term), items a replica held newer than the new primary, and
items a returning region held differently. Exit code 1 while there are entries.

${COMMON}
  --clear            delete the entries listed (after you handled them)
  --json             machine-readable report`;

export interface CliIo {
  out(text: string): void;
  signal?: AbortSignal;
  projectDir?: string;
  /** No progress bar (tests, pipes that only want the report). */
  quiet?: boolean;
}

/** Runs one command; returns the exit code (2 for usage errors). */
export async function cli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    io.out(HELP.main!);
    return command ? 0 : 2;
  }
  if (!HELP[command] || command === 'main') throw new CliError(`unknown command ${JSON.stringify(command)}\n\n${HELP.main}`);
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        help: { type: 'boolean' }, dir: { type: 'string' }, stack: { type: 'string' }, table: { type: 'string' }, endpoint: { type: 'string' }, segments: { type: 'string' },
        region: { type: 'string' }, json: { type: 'boolean' }, to: { type: 'string' }, 'read-units': { type: 'string' }, 'write-units': { type: 'string' }, 'page-size': { type: 'string' }, checkpoint: { type: 'string' },
        'queue-url': { type: 'string', multiple: true }, 'sqs-endpoint': { type: 'string' }, 'dry-run': { type: 'boolean' },
        unplanned: { type: 'boolean' }, 'lambda-endpoint': { type: 'string' }, 'fence-cache-seconds': { type: 'string' }, 'clock-margin-seconds': { type: 'string' }, 'drain-wait-seconds': { type: 'string' }, clear: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${HELP[command]}`);
  }
  if (values.help) {
    io.out(HELP[command]!);
    return 0;
  }
  const allowed: Record<string, string[]> = {
    backfill: ['to', 'read-units', 'write-units', 'page-size', 'checkpoint'],
    verify: ['region', 'json'],
    reconcile: ['region', 'json'],
    redrive: ['queue-url', 'sqs-endpoint', 'dry-run', 'json'],
    status: ['sqs-endpoint', 'json'],
    failover: ['to', 'unplanned', 'lambda-endpoint', 'sqs-endpoint', 'fence-cache-seconds', 'clock-margin-seconds', 'drain-wait-seconds', 'json'],
    rejoin: ['region', 'json'],
    review: ['clear', 'json'],
  };
  for (const k of Object.keys(values).filter((k) => !['help', 'dir', 'stack', 'table', 'endpoint', 'segments'].includes(k))) {
    if (values[k as keyof typeof values] !== undefined && !allowed[command]!.includes(k)) throw new CliError(`--${k} is not an option of ${command}\n\n${HELP[command]}`);
  }
  const number = (name: string, raw: string | undefined, fallback: number | undefined, min: number, max: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`--${name} is ${JSON.stringify(raw)}: use a whole number from ${min} to ${max}`);
    return n;
  };
  for (const flag of ['endpoint', 'sqs-endpoint', 'lambda-endpoint'] as const) {
    const v = values[flag];
    if (v !== undefined && !/^https?:\/\/[^/]+/.test(v)) throw new CliError(`--${flag} is ${JSON.stringify(v)}: use a URL such as http://127.0.0.1:8000`);
  }
  const segments = number('segments', values.segments, 4, 1, 1000)!;
  const configured = tableContext({ stack: values.stack ?? 'dev', table: values.table, endpoint: values.endpoint, projectDir: values.dir ? resolve(values.dir) : (io.projectDir ?? resolve(__dirname, '..')) });
  let ctx = configured;
  try {
    // Nothing may write into the current primary: repairs take it from the fences, not from a config that may lag a failover.
    if (!['failover', 'rejoin', 'review'].includes(command)) {
      const current = await atCurrentPrimary(configured);
      ctx = current.ctx;
      if (current.note && !io.quiet) process.stderr.write(`${current.note}\n`);
    }
    if (command === 'failover') {
      if (!values.to) throw new CliError(`failover needs --to REGION: one of ${[ctx.table.primaryRegion, ...ctx.table.replicaRegions].join(', ')}`);
      const endpoint = (e?: string) => (e ? { endpoint: e } : {});
      const lambdas = new Map<string, LambdaClient>();
      const report = await failover(
        ctx,
        {
          to: values.to,
          unplanned: !!values.unplanned,
          fenceCacheSeconds: number('fence-cache-seconds', values['fence-cache-seconds'], DEFAULTS.fenceCacheSeconds, 0, 300)!,
          clockMarginSeconds: number('clock-margin-seconds', values['clock-margin-seconds'], 5, 0, 300)!,
          drainWaitSeconds: number('drain-wait-seconds', values['drain-wait-seconds'], 60, 0, 3600)!,
          segments,
        },
        {
          streams: (region) => new DynamoDBStreamsClient({ region, ...endpoint(values.endpoint) }),
          sqs: (region) => new SQSClient({ region, ...endpoint(values['sqs-endpoint']) }),
          mappings: lambdaMappings((region) => lambdas.get(region) ?? lambdas.set(region, new LambdaClient({ region, ...endpoint(values['lambda-endpoint']) })).get(region)!),
          progress: io.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
        },
      ).finally(() => lambdas.forEach((c) => c.destroy()));
      io.out(values.json ? JSON.stringify(report, null, 2) : renderFailover(report));
      return report.ok ? 0 : 1;
    }
    if (command === 'rejoin') {
      if (!values.region) throw new CliError(`rejoin needs --region REGION: one of ${ctx.table.replicaRegions.join(', ')}`);
      const { ctx: current, fence, note } = await atCurrentPrimary(ctx);
      if (note && !io.quiet) process.stderr.write(`${note}\n`);
      const streams = new DynamoDBStreamsClient({ region: values.region, ...(values.endpoint && { endpoint: values.endpoint }) });
      const report = await rejoin(current, fence, values.region, segments, streams).finally(() => streams.destroy());
      io.out(values.json ? JSON.stringify(report, null, 2) : renderRejoin(report));
      return report.reconciled.failed === 0 ? 0 : 1;
    }
    if (command === 'review') {
      const report = await review(ctx, !!values.clear);
      io.out(values.json ? JSON.stringify(report, null, 2) : renderReview(report));
      return report.entries.length === 0 || values.clear ? 0 : 1;
    }
    if (command === 'verify') {
      const { reports } = await verify(ctx, replicaRegionsOf(ctx.table, values.region), segments, !!values.json || !!io.quiet);
      io.out(values.json ? verifyJson(ctx.table.name, reports) : renderVerify(ctx.table.name, reports));
      return reports.every((r) => r.inSync) ? 0 : 1;
    }
    if (command === 'reconcile') {
      const reports = await reconcile(ctx, replicaRegionsOf(ctx.table, values.region), segments, !!values.json || !!io.quiet);
      io.out(values.json ? JSON.stringify({ table: ctx.table.name, regions: reports }, null, 2) : reports.map((r) => `${r.region}: repaired ${r.repaired}, left to live replication ${r.skipped}, deletions kept ${r.undone}, failed ${r.failed}`).join('\n'));
      return reports.every((r) => r.failed === 0) ? 0 : 1;
    }
    if (command === 'status') {
      if (values.endpoint) {
        io.out(localStatus(process.cwd(), ctx.table.name));
        return 0;
      }
      const region = ctx.table.primaryRegion;
      const cloudwatch = new CloudWatchClient({ region });
      const sqs = new SQSClient({ region, ...(values['sqs-endpoint'] && { endpoint: values['sqs-endpoint'] }) });
      try {
        const links = await cloudStatus(ctx.table, { cloudwatch, sqs });
        io.out(values.json ? JSON.stringify({ table: ctx.table.name, links }, null, 2) : renderStatus(ctx.table.name, links));
        return links.every((l) => l.alarms.every((a) => a.state === 'OK')) ? 0 : 1;
      } finally {
        cloudwatch.destroy();
        sqs.destroy();
      }
    }
    if (command === 'redrive') {
      const region = ctx.table.primaryRegion;
      const sqs = new SQSClient({ region, ...(values['sqs-endpoint'] && { endpoint: values['sqs-endpoint'] }) });
      const streams = new DynamoDBStreamsClient({ region, ...(values.endpoint && { endpoint: values.endpoint }) });
      try {
        const results = await redrive(ctx, { sqs, streams, queueUrls: values['queue-url'], dryRun: !!values['dry-run'] });
        io.out(values.json ? JSON.stringify({ table: ctx.table.name, messages: results }, null, 2) : renderRedrive(results));
        return results.every((r) => r.outcome === 'repaired' || r.outcome === 'would-repair') ? 0 : 1;
      } finally {
        sqs.destroy();
        streams.destroy();
      }
    }
    if (!values.to) throw new CliError(`backfill needs --to REGION: one of ${ctx.table.replicaRegions.join(', ')}`);
    const [region] = replicaRegionsOf(ctx.table, values.to);
    const report = await backfill(ctx, {
      region: region!,
      segments,
      readUnitsPerSecond: number('read-units', values['read-units'], undefined, 1, 1_000_000),
      writeUnitsPerSecond: number('write-units', values['write-units'], undefined, 1, 1_000_000),
      pageSize: number('page-size', values['page-size'], undefined, 1, 100_000),
      checkpointFile: values.checkpoint ?? resolve(`.ddb-replicator/backfill-${ctx.table.name}-${region}.json`),
      signal: io.signal,
      quiet: io.quiet,
    });
    io.out(`${report.completed ? 'backfill complete' : 'backfill stopped; rerun the same command to resume'}${report.resumed ? ' (resumed)' : ''}: copied ${report.copied}, already replicated ${report.skipped}, deletions kept ${report.undone}, failed ${report.failed}`);
    return report.completed && report.failed === 0 ? 0 : 1;
  } finally {
    ctx.close();
  }
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

function renderRejoin(r: RejoinReport): string {
  return [
    `${r.table}: ${r.region} rejoined at generation ${r.generation} (primary ${r.primary}); fence ${r.fence}`,
    `  ${r.strays} write(s) it took while not primary, and ${r.differences} item(s) that differed from ${r.primary}: listed by \`ddb-replicator review\``,
    `  reconciled: repaired ${r.reconciled.repaired}, left to live replication ${r.reconciled.skipped}, deletions kept ${r.reconciled.undone}, failed ${r.reconciled.failed}`,
  ].join('\n');
}

function renderRedrive(results: RedriveResult[]): string {
  if (results.length === 0) return 'no messages: nothing to redrive';
  const count = (o: RedriveResult['outcome']) => results.filter((r) => r.outcome === o).length;
  const lines = results.map((r) => `${r.messageId}: ${r.outcome}${r.items ? ` (${r.items} item(s))` : ''}${r.detail ? ` - ${r.detail}` : ''}`);
  lines.push(`${results.length} message(s): ${count('repaired')} repaired and deleted, ${count('would-repair')} would be repaired, ${count('past-retention')} past retention, ${count('unreadable')} unreadable, ${count('failed')} failed`);
  return lines.join('\n');
}

/** The process entry point: wires Ctrl-C to a clean stop and errors to exit codes. */
export function runCli(argv: string[]): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  require('node:fs').mkdirSync('.ddb-replicator', { recursive: true });
  cli(argv, { out: (t) => console.log(t), signal: controller.signal }).then(
    (code) => (process.exitCode = code),
    (err) => {
      const usage = err instanceof CliError || (err as Error).name === 'StackConfigError';
      console.error(usage ? (err as Error).message : err);
      process.exitCode = usage ? 2 : 1;
    },
  );
}

if (require.main === module) runCli(process.argv.slice(2));
