import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { stateTableName } from '../config/names';
import { deleteRun, readRun, readSegments, setStop, startRun, WorkerEvent, WorkerResult } from '../handlers/backfill-state';
import { makeWorker } from '../handlers/backfill-worker';
import { BackfillReport, summarize } from './backfill';
import { CliError, TableContext } from './context';
import { Progress } from './progress';

/** Runs one worker invocation. `signal` is for in-process workers; deployed ones read the stop flag. */
export type Invoker = (event: WorkerEvent, signal: AbortSignal) => Promise<WorkerResult>;

export interface WorkersOptions {
  readonly region: string;
  /** Concurrent invocations, one segment each. */
  readonly workers: number;
  /** Capacity units per second for the whole run, shared evenly by the workers. */
  readonly readUnitsPerSecond?: number;
  readonly writeUnitsPerSecond?: number;
  readonly pageSize?: number;
  readonly restart?: boolean;
  /** Ctrl-C: the workers are asked to stop (no new page or item) and awaited. */
  readonly signal?: AbortSignal;
  readonly quiet?: boolean;
  readonly invoke: Invoker;
  /** Failed invocations of one segment in a row before the run gives up on it (default 5). */
  readonly maxFailures?: number;
  /** How often progress is read from the state table (default 2 s). */
  readonly pollMs?: number;
}

export type WorkersReport = BackfillReport & { readonly workers: number; readonly invocations: number };

/**
 * `backfill --workers N`: N segments of a parallel scan as concurrent worker invocations (Lambda, or
 * in-process locally), checkpointed in the source region's state table. A segment whose invocation
 * fails or runs out of time is invoked again and resumes from its checkpoint; progress and ETA are
 * read from the checkpoints, so they show what the workers did, wherever they run.
 */
export async function backfillWithWorkers(ctx: TableContext, opts: WorkersOptions): Promise<WorkersReport> {
  const { region, workers: total } = opts;
  const client = ctx.client(ctx.table.primaryRegion);
  const table = stateTableName(ctx.table.name);
  const run = await (async () => {
    if (opts.restart) await deleteRun(client, table, region);
    return readRun(client, table, region);
  })().catch((err: Error) => {
    if (err.name !== 'ResourceNotFoundException') throw err;
    throw new CliError(`the state table ${table} does not exist in ${ctx.table.primaryRegion}, where --workers keeps its checkpoints: deploy the stack first (pulumi up, or npm start locally)`);
  });
  if (run && run.total !== total) {
    throw new CliError(`a backfill to ${region} with ${run.total} workers is checkpointed in ${table}: resume with --workers ${run.total}, or start over with --restart`);
  }
  if (!run) await startRun(client, table, region, total);
  await setStop(client, table, region, total, false);
  const generation = await ctx.generation();
  const { Table } = await client.send(new DescribeTableCommand({ TableName: ctx.table.name }));
  const progress = new Progress(`backfill ${ctx.table.name} -> ${region} (${total} workers):`, Table?.ItemCount, process.stderr, opts.quiet);
  const processed = async () => (await readSegments(client, table, region, total)).reduce((n, s) => n + s.processed, 0);
  const before = await processed();
  let shown = before;
  progress.add(before);
  const poll = setInterval(() => {
    void processed().then(
      (n) => {
        progress.add(n - shown);
        shown = n;
      },
      () => undefined, // a missed poll shows up in the next one
    );
  }, opts.pollMs ?? 2000);

  const signal = opts.signal ?? new AbortController().signal;
  const askToStop = () => void setStop(client, table, region, total, true).catch(() => undefined);
  signal.addEventListener('abort', askToStop, { once: true });
  let invocations = 0;
  const share = (units?: number) => (units === undefined ? undefined : Math.max(1, Math.floor(units / total)));
  const problems: string[] = [];
  try {
    await Promise.all(
      Array.from({ length: total }, async (_, segment) => {
        const event: WorkerEvent = { targetRegion: region, segment, totalSegments: total, generation, readUnitsPerSecond: share(opts.readUnitsPerSecond), writeUnitsPerSecond: share(opts.writeUnitsPerSecond), pageSize: opts.pageSize };
        let failures = 0;
        let last = '';
        while (!signal.aborted) {
          invocations++;
          try {
            const r = await opts.invoke(event, signal);
            if (r.end === 'finished' || r.end === 'too-many-failures') return;
            // Out of time with progress made: invoke again. Anything else counts as a failure.
            failures = r.processed > 0 ? 0 : failures + 1;
            last = `ended ${r.end} after ${r.processed} items`;
          } catch (err) {
            failures++;
            last = `${(err as Error).name}: ${(err as Error).message}`;
          }
          if (failures >= (opts.maxFailures ?? 5)) {
            problems.push(`segment ${segment}: ${failures} invocations in a row made no progress (last: ${last.slice(0, 300)}): fix that, then rerun to resume`);
            return;
          }
          if (failures > 0) await sleep(Math.min(30_000, 250 * 2 ** failures), signal);
        }
      }),
    );
  } finally {
    signal.removeEventListener('abort', askToStop);
    clearInterval(poll);
  }
  const segments = await readSegments(client, table, region, total);
  const after = segments.reduce((n, s) => n + s.processed, 0);
  progress.add(after - shown);
  progress.finish();
  const crowded = segments.findIndex((s) => !s.finished && s.state.failures.length >= 500);
  if (crowded >= 0) problems.push(`segment ${crowded} stopped after ${segments[crowded]!.state.failures.length} failed items: fix their cause (the errors listed), then rerun`);
  const states = segments.map((s) => s.state);
  const report = summarize(ctx.table.name, region, states, {
    resumed: !!run,
    // Net change, as the workers count; failed items retried successfully are not counted twice.
    processedThisRun: after - before,
    stopped: states.some((s) => !s.finished),
    problem: problems.join('\n') || undefined,
  });
  return { ...report, workers: total, invocations };
}

/** Invokes the deployed worker (synchronously: the answer says whether the segment is done). */
export function lambdaInvoker(lambda: LambdaClient, functionName: string): Invoker {
  return async (event) => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: new TextEncoder().encode(JSON.stringify(event)) }));
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    if (out.FunctionError) {
      let body: { errorType?: string; errorMessage?: string } = {};
      try {
        body = JSON.parse(text);
      } catch {
        // the payload is not Lambda's error document
      }
      throw Object.assign(new Error(`${functionName}: ${body.errorMessage ?? text}`), { name: body.errorType ?? out.FunctionError });
    }
    return JSON.parse(text) as WorkerResult;
  };
}

/** The same worker code, run in this process against the context's clients (DynamoDB Local). */
export function inProcessInvoker(ctx: TableContext, region: string): Invoker {
  const primary = ctx.table.primaryRegion;
  const config = {
    source: { region: primary, tableName: ctx.table.name },
    targets: [{ region, tableName: ctx.table.name }],
    state: { region: primary, tableName: stateTableName(ctx.table.name) },
    keyNames: ctx.keyNames,
    ttlAttribute: ctx.table.ttlAttribute,
  };
  return (event, signal) => makeWorker({ config, clientFor: (r) => ctx.client(r), signal })(event);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
