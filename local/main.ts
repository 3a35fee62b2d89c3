import { createWriteStream, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { diffSnapshots, inSync, scanSnapshot } from '../cli/snapshot';
import { JavaUnavailableError, RunningDynamoDbLocal, startDynamoDbLocal, useLocalEndpoint } from './dynamodb-local';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startStatusPublisher } from './status-publisher';
import { settingsFromModel, startLocalReplication } from './pipeline';
import { SqsDestination, startLocalSqs } from './sqs';
import { percentile, ReplicationStats } from './replication-stats';
import type { TableModel } from '../config/model';
import { loadStackModel } from '../config/stack-file';
import { StackConfigError } from '../config/parse';
import { linksFrom } from '../config/links';
import { linkNames } from '../config/names';
import { runWorkload } from './workload';
import { tableContext } from '../cli/context';
import { runDrill } from './drill';
import { WatchReporter, watchBanner, WatchTarget } from './watch';

const USAGE = `Usage: npm start -- [options]

Runs ddb-replicator locally: DynamoDB Local, a table of a stack (by default Users of the dev
stack: us-east-1 replicated to eu-west-1 and ap-southeast-2) replicated by the real handler behind
a Lambda event source mapping emulator, and a user-registration workload; then verifies every
replica equals the source.

Options:
  --stack NAME     read the table from Pulumi.NAME.yaml (default dev)
  --dir PATH       where the stack files are (default: this project)
  --table NAME     which table of the stack (default: its first)
  --operations N   writes the workload makes (default 2000)
  --seed N         workload seed (default 1); the same seed makes the same writes, writer by writer
  --watch          keep running after the check, so you can write with any DynamoDB client; prints
                   what is replicated, failed or discarded, and the redrive and status commands
  --drill          a disaster-recovery drill instead: the table in every region with its links,
                   live traffic, an outage of the primary with a backlog, an unplanned failover,
                   the old primary's return and rejoin, and a planned failback; exits 0 only if
                   nothing acknowledged was lost, nothing looped and every unreplicated write is
                   in the review report (--operations sets the traffic per phase, default 400)
  --endpoint URL   use a DynamoDB Local you already run instead of starting one
  --help           show this text

Exit codes: 0 every replica equals the source (and, with --drill, the drill passed), 1 they do not
(or records were discarded while watching), 2 a problem with the flags, the stack file, Java or the
endpoint (one line naming the fix), or an unexpected error (DEBUG=1 shows its stack trace).`;

/** The project directory: where Pulumi.<stack>.yaml files live. */
const PROJECT_DIR = resolve(__dirname, '..');

export interface MainOptions {
  stack: string;
  table?: string;
  /** Where the stack files are; default the project directory. */
  projectDir?: string;
  operations: number;
  seed: number;
  watch: boolean;
  drill?: boolean;
  endpoint?: string;
}

/** Parses flags; every bad flag gets a message that names it and the fix. */
export function parseFlags(argv: string[]): MainOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { stack: { type: 'string' }, dir: { type: 'string' }, table: { type: 'string' }, operations: { type: 'string' }, seed: { type: 'string' }, watch: { type: 'boolean' }, drill: { type: 'boolean' }, endpoint: { type: 'string' }, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('. ')[0]}: see npm start -- --help for the options`);
  }
  if (values.help) return 'help';
  const whole = (name: string, raw: string | undefined, fallback: number, min: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} is ${JSON.stringify(raw)}: use a whole number of at least ${min}`);
    return n;
  };
  if (values.endpoint !== undefined && !/^https?:\/\/[^/]+/.test(values.endpoint)) {
    throw new UsageError(`--endpoint is ${JSON.stringify(values.endpoint)}: use a URL such as http://127.0.0.1:8000`);
  }
  return {
    stack: values.stack ?? 'dev',
    table: values.table,
    ...(values.dir !== undefined && { projectDir: resolve(values.dir) }),
    operations: whole('operations', values.operations, values.drill ? 400 : 2000, 1),
    seed: whole('seed', values.seed, 1, 0),
    watch: !!values.watch,
    drill: !!values.drill,
    endpoint: values.endpoint,
  };
}

/** A problem the user fixes (flags, stack file, Java, endpoint): printed as one line, exit code 2. */
export class UsageError extends Error {}

/** The main job. Returns the exit code: 0 only when every replica converged to the source. */
export async function main(opts: MainOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const print = (line = '') => out.write(`${line}\n`);
  const cleanups: (() => unknown)[] = [];
  const table = chooseTable(opts);
  try {
    const ddb = opts.endpoint ? await reachable(opts.endpoint) : await startEmbedded();
    if (ddb) cleanups.push(() => ddb.stop());
    const endpoint = opts.endpoint ?? ddb!.endpoint;
    cleanups.push(useLocalEndpoint(endpoint));
    print(`DynamoDB Local: ${endpoint}${ddb ? ' (started for this run, in memory)' : ''}`);

    mkdirSync('.ddb-replicator', { recursive: true });
    const logFile = createWriteStream('.ddb-replicator/local.log');
    cleanups.push(() => new Promise((r) => logFile.end(r)));
    const log = (line: Record<string, unknown>) => logFile.write(`${JSON.stringify(line)}\n`);
    const clients = new Map<string, DynamoDBClient>();
    cleanups.push(() => clients.forEach((c) => c.destroy()));
    const clientFor = (region: string) => clients.get(region) ?? clients.set(region, new DynamoDBClient({ region })).get(region)!;
    const sqsServer = await startLocalSqs();
    cleanups.push(() => sqsServer.stop());
    const sqs = new SQSClient({ region: table.primaryRegion, endpoint: sqsServer.endpoint });
    cleanups.push(() => sqs.destroy());
    if (opts.drill) return (await drill(opts, table, endpoint, clientFor, sqs, log, print)) ? 0 : 1;
    // One local link writes to every replica; its DLQ takes the name of the primary's first link.
    const [firstLink] = linksFrom(table.primaryRegion, [table.primaryRegion, ...table.replicaRegions], table.linkSlots);
    const dlq = await SqsDestination.create(sqs, linkNames(table.name, table.primaryRegion, firstLink!.slot).queueName);
    const replication = await startReplication(table, endpoint, clientFor, log, dlq);
    cleanups.push(() => replication.stop());
    // Live figures for `ddb-replicator status --endpoint`, in the state table (local/status-publisher.ts).
    const status = startStatusPublisher({ client: clientFor(table.primaryRegion), table, slot: firstLink!.slot, emulator: replication.emulator, targets: replication.stats, dlq: { sqs, queueUrl: dlq.queueUrl, endpoint: sqsServer.endpoint }, log });
    cleanups.push(() => status.stop());
    print(`On-failure queue (local SQS): ${dlq.queueUrl}`);
    print(`Stack ${opts.stack}, table ${table.name}: ${table.primaryRegion} (source, stream NEW_AND_OLD_IMAGES) -> ${table.replicaRegions.join(', ')}`);
    print(`Handler and emulator logs: .ddb-replicator/local.log\n`);

    const converged = await runAndVerify(opts, table, replication, clientFor, out, cleanups);
    if (!opts.watch) return converged ? 0 : 1;
    const target = { stack: opts.stack, table: table.name, primaryRegion: table.primaryRegion, replicaRegion: table.replicaRegions[0]!, projectDir: opts.projectDir, endpoint, sqsEndpoint: sqsServer.endpoint, dlqUrl: dlq.queueUrl, accessKeyId: process.env.AWS_ACCESS_KEY_ID! };
    const discarded = await watch(target, replication, print);
    return converged && discarded === 0 ? 0 : 1;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

/** DynamoDB Local in this process's lifetime; a missing or old Java, or a failed start, is one line. */
async function startEmbedded(): Promise<RunningDynamoDbLocal> {
  try {
    return await startDynamoDbLocal();
  } catch (err) {
    if (err instanceof JavaUnavailableError) throw new UsageError(err.message);
    const why = (err as Error).message.split('\n')[0];
    throw new UsageError(`DynamoDB Local did not start (${why}): check that \`java -jar\` works here, or pass --endpoint URL to use a DynamoDB Local you run`);
  }
}

/** --endpoint: nothing is started; a DynamoDB Local that does not answer is one line, not a stack trace later. */
async function reachable(endpoint: string): Promise<undefined> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local', secretAccessKey: 'local' } });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
  } catch (err) {
    const e = err as Error & { code?: string; cause?: { code?: string } };
    throw new UsageError(`--endpoint ${endpoint} does not answer as DynamoDB (${e.code ?? e.cause?.code ?? e.name}): start DynamoDB Local there, or run without --endpoint to start one`);
  } finally {
    client.destroy();
  }
  return undefined;
}

/** `--drill`: the table laid out in every region, as deployed, through failovers (local/drill.ts). */
async function drill(opts: MainOptions, table: TableModel, endpoint: string, clientFor: (region: string) => DynamoDBClient, sqs: SQSClient, log: (l: Record<string, unknown>) => void, print: (l?: string) => void): Promise<boolean> {
  if (table.replicaRegions.length < 2) throw new UsageError(`the drill needs a table with at least two replica regions; ${table.name} has ${table.replicaRegions.length}`);
  // The links here are local functions: a "function timeout" of 1 s keeps the failover's wait short.
  const drilled: TableModel = { ...table, name: `${table.name}-drill-${Date.now().toString(36)}`, lambda: { ...table.lambda, timeoutSeconds: 1 } };
  const base = tableContext({ stack: opts.stack, table: table.name, endpoint, projectDir: opts.projectDir ?? PROJECT_DIR });
  const ctx = { ...base, table: drilled };
  print(`Drill: ${drilled.name} in ${[drilled.primaryRegion, ...drilled.replicaRegions].join(', ')}, every region with its links (only the primary's enabled), ${opts.operations} writes per phase`);
  try {
    return await runDrill({ table: drilled, clientFor, ctx, sqs: () => sqs, operations: opts.operations, seed: opts.seed, print, log });
  } finally {
    base.close();
  }
}

/** The stack's table the demo runs; its user-registration workload needs a `userId` (S) partition key. */
function chooseTable(opts: MainOptions): TableModel {
  const dir = opts.projectDir ?? PROJECT_DIR;
  let model;
  try {
    model = loadStackModel(opts.stack, dir);
  } catch (err) {
    if (!(err instanceof StackConfigError)) throw err;
    const [first] = err.problems;
    if (err.problems.length === 1 && first!.startsWith('no stack file')) throw new UsageError(`${first}; choose one with --stack${opts.projectDir ? '' : ' (or --dir PATH for another folder)'}`);
    // Each problem names the key, the value and what is allowed.
    throw new UsageError(`${opts.projectDir ? `${dir}/` : ''}Pulumi.${opts.stack}.yaml: ${err.problems.join('; ')}`);
  }
  const table = opts.table ? model.tables.find((t) => t.name === opts.table) : model.tables[0];
  if (!table) throw new UsageError(`--table ${opts.table}: stack ${opts.stack} has tables ${model.tables.map((t) => t.name).join(', ')}; choose one of them`);
  if (table.partitionKey.name !== 'userId' || table.partitionKey.type !== 'S' || table.sortKey) {
    throw new UsageError(
      `table ${table.name} is keyed by ${[table.partitionKey, table.sortKey].filter(Boolean).map((k) => `${k!.name} (${k!.type})`).join(' + ')}: ` +
        'the demo workload writes user records keyed by userId (S) alone; choose such a table with --table',
    );
  }
  return table;
}

async function startReplication(table: TableModel, endpoint: string, clientFor: (region: string) => DynamoDBClient, log: (line: Record<string, unknown>) => void, onFailure: SqsDestination) {
  const deletedAt = new Map<string, number>();
  const stats = new ReplicationStats(table.replicaRegions, (c) => (c.after ? Number(c.after.updatedAt?.N) || undefined : deletedAt.get(c.keys.userId?.S ?? '')));
  try {
    const replication = await startLocalReplication({ table, ...settingsFromModel(table), clientFor, onFailure, handlerDeps: { log, onApplied: stats.onApplied }, emulator: { log }, watchStream: true });
    return { ...replication, stats, deletedAt };
  } catch (err) {
    if ((err as Error).name === 'ResourceInUseException') {
      throw new UsageError(`table ${table.name} already exists at ${endpoint}: delete it there, or run without --endpoint to use a fresh DynamoDB Local`);
    }
    throw err;
  }
}

type Replication = Awaited<ReturnType<typeof startReplication>>;

/** Drives the workload with live progress, waits for replication, then compares every replica. */
async function runAndVerify(opts: MainOptions, table: TableModel, replication: Replication, clientFor: (region: string) => DynamoDBClient, out: NodeJS.WritableStream, cleanups: (() => unknown)[]): Promise<boolean> {
  const print = (line = '') => out.write(`${line}\n`);
  const { stats, emulator } = replication;
  const started = Date.now();
  let writes = 0;
  const progress = () => `writes ${writes}/${opts.operations}  ${replicationLine(stats)}`;
  const tty = (out as NodeJS.WriteStream).isTTY;
  const ticker = setInterval(() => (tty ? out.write(`\r${progress()}\x1b[K`) : print(progress())), tty ? 250 : 2000);
  cleanups.push(() => clearInterval(ticker));
  const counts = await runWorkload(clientFor(table.primaryRegion), {
    table: table.name,
    operations: opts.operations,
    concurrency: 8,
    seed: opts.seed,
    onWrite: (userId, kind, at) => {
      writes++;
      if (kind === 'delete') replication.deletedAt.set(userId, at);
    },
  });
  await emulator.waitForIdle(120_000);
  clearInterval(ticker);
  if (tty) out.write(`\r${progress()}\x1b[K\n`);
  print(`\nWorkload: ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const keys = [table.partitionKey.name];
  const rules = { ttlAttribute: table.ttlAttribute, nowSeconds: Math.floor(Date.now() / 1000) };
  const snapshot = (region: string) => scanSnapshot(clientFor(region), table.name, keys, { rules, segments: 4 });
  const source = await snapshot(table.primaryRegion);
  const rows = [['region', 'items', 'records applied', 'writes', 'stale skips', 'conflicts', 'on-failure', 'lag p50', 'lag p99', 'in sync']];
  rows.push([`${table.primaryRegion} (source)`, String(source.states.size), '', '', '', '', '', '', '', '']);
  let converged = true;
  for (const [region, s] of stats.regions) {
    const diff = diffSnapshots(source, await snapshot(region));
    converged &&= inSync(diff);
    rows.push([
      region,
      String(source.states.size - diff.missing.length + diff.extra.length),
      String(s.recordsApplied),
      String(s.writes),
      String(s.staleSkipped),
      String(s.conflicts),
      String(emulator.stats.recordsDiscarded),
      fmt(percentile(s.lagsMs, 50)),
      fmt(percentile(s.lagsMs, 99)),
      inSync(diff) ? 'yes' : `NO: ${diff.missing.length} missing, ${diff.extra.length} extra, ${diff.different.length} different`,
    ]);
  }
  print();
  print(textTable(rows));
  print(`\nStream records: ${emulator.stats.recordsCommitted} delivered in ${emulator.stats.invocations} invocations; max iterator age ${emulator.stats.maxIteratorAgeMs} ms`);
  print('(Iterator age counts from ApproximateCreationDateTime, in whole seconds as on AWS, stamped when the stream watcher first saw the record; lag is measured from the write times the workload records.)');
  print(converged ? 'Converged: every replica equals the source (replication metadata ignored).' : 'NOT converged: see the table above and .ddb-replicator/local.log');
  return converged;
}

function replicationLine(stats: ReplicationStats): string {
  const regions = [...stats.regions].map(([r, s]) => `${r} ${s.recordsApplied}`).join('  ');
  const lags = [...stats.regions.values()].flatMap((s) => s.lagsMs);
  return `replicated: ${regions}  lag p50 ${fmt(percentile(lags, 50))} p99 ${fmt(percentile(lags, 99))}`;
}

/** --watch: keep replicating until Ctrl-C, reporting what was replicated, failed or discarded; returns the records discarded meanwhile. */
async function watch(target: WatchTarget, replication: Replication, print: (line?: string) => void): Promise<number> {
  print();
  for (const line of watchBanner(target)) print(line);
  const discardedBefore = replication.emulator.stats.recordsDiscarded + replication.emulator.stats.recordsDropped;
  const reporter = new WatchReporter(replication.stats, replication.emulator.stats, target);
  const timer = setInterval(() => reporter.lines().forEach((l) => print(l)), 1000);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  clearInterval(timer);
  reporter.lines().forEach((l) => print(l));
  const discarded = replication.emulator.stats.recordsDiscarded + replication.emulator.stats.recordsDropped - discardedBefore;
  // The queue lived in this process: redrive had to run while it did.
  print(discarded ? `\nStopped. ${discarded} record(s) were discarded while watching (exit code 1); their queue stopped with this run.` : '\nStopped.');
  return discarded;
}

const fmt = (ms: number | undefined) => (ms === undefined ? '-' : `${Math.round(ms)} ms`);

function textTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

if (require.main === module) {
  // This machine runs Node.js 20; the SDK's notice about future versions needing 22 is not actionable here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let opts;
  try {
    opts = parseFlags(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  if (opts === 'help') {
    console.log(USAGE);
    process.exit(0);
  }
  main(opts).then(
    (code) => process.exit(code),
    (err) => {
      // One line, as the CLI does; DEBUG=1 adds the stack trace of an unexpected error (a bug).
      if (!(err instanceof UsageError) && process.env.DEBUG) console.error(err);
      const e = err as Error;
      console.error(err instanceof UsageError ? e.message.replace(/\s*\n\s*/g, ' ') : `unexpected error: ${e?.name}: ${String(e?.message).split('\n')[0]}; rerun with DEBUG=1 for details`);
      process.exit(2);
    },
  );
}
