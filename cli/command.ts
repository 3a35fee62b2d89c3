import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { atCurrentPrimary, TableContext, tableContext } from './context';
import { CliError, EXIT, ErrorHints } from './errors';
import type { Failure } from './failures';

export interface CliIo {
  out(text: string): void;
  /** Error lines and notes; default stderr. */
  err?(text: string): void;
  signal?: AbortSignal;
  projectDir?: string;
  /** No progress bar (tests, pipes that only want the report). */
  quiet?: boolean;
}

/** Options every table command takes. */
export interface CommonOptions {
  stack: string;
  table?: string;
  endpoint?: string;
  segments: number;
  dir?: string;
  json?: boolean;
}

/** What a command found: its exit code, its text, its fields of the JSON envelope, the items that failed. */
export interface Outcome {
  readonly exitCode: number;
  readonly text: string;
  readonly fields: Record<string, unknown>;
  readonly failures?: readonly Failure[];
}

/** One cli() run: the action records what main.ts needs for the exit code and for errors. */
export interface Session {
  readonly io: CliIo;
  exitCode?: number;
  hints: ErrorHints;
}

export const stderrOf = (io: CliIo) => io.err ?? ((t: string) => process.stderr.write(`${t}\n`));

/** Help text written as wrapped lines: commander wraps it to the terminal, so keep only paragraph breaks. */
export const prose = (text: string) => text.replace(/(?<!\n)\n(?!\n)/g, ' ');

/** A whole-number option; a bad value names the range (a CliError passes through commander unchanged). */
export function intOption(flags: string, description: string, min: number, max: number): Option {
  const name = flags.split(' ')[0]!;
  return new Option(flags, description).argParser((raw: string) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < min || n > max) throw new CliError(`${name} is ${JSON.stringify(raw)}: use a whole number from ${min} to ${max}`);
    return n;
  });
}

export function urlOption(flags: string, description: string): Option {
  const name = flags.split(' ')[0]!;
  return new Option(flags, description).argParser((raw: string) => {
    if (!/^https?:\/\/[^/]+/.test(raw)) throw new CliError(`${name} is ${JSON.stringify(raw)}: use a URL such as http://127.0.0.1:8000`);
    return raw;
  });
}

/** A subcommand with the options every table command shares. */
export function tableCommand(parent: Command, name: string): Command {
  return parent
    .command(name)
    .option('--stack <name>', 'stack whose Pulumi.NAME.yaml to read', 'dev')
    .option('--table <name>', 'table of the stack (default: its only table)')
    .addOption(urlOption('--endpoint <url>', 'send every DynamoDB request here (for example DynamoDB Local); otherwise AWS, or the SDK\'s standard variables (AWS_ENDPOINT_URL_DYNAMODB)'))
    .addOption(intOption('--segments <n>', 'parallel scan segments', 1, 1000).default(4))
    .option('--dir <path>', 'the Pulumi project holding the stack files (default: this project)')
    .option('--json', 'print one JSON document (README "JSON output")');
}

/**
 * The action of a table command: loads the stack's table, takes the primary from the fences unless
 * `configured` (failover, rejoin and review read the fences themselves), runs `body`, and prints
 * its outcome as text or as the JSON envelope.
 */
export function tableAction<O extends CommonOptions>(session: Session, name: string, body: (ctx: TableContext, opts: O) => Promise<Outcome>, configured = false) {
  return async (opts: O) => {
    const { io } = session;
    session.hints = { ...session.hints, endpoint: opts.endpoint, ...endpointsOf(opts) };
    const ctx0 = tableContext({ stack: opts.stack, table: opts.table, endpoint: opts.endpoint, projectDir: opts.dir ? resolve(opts.dir) : (io.projectDir ?? resolve(__dirname, '..')) });
    session.hints.table = ctx0.table.name;
    let ctx = ctx0;
    try {
      if (!configured) {
        // Nothing may write into the current primary: take it from the fences, not from a config that may lag a failover.
        const current = await atCurrentPrimary(ctx0);
        ctx = current.ctx;
        if (current.note && !io.quiet) stderrOf(io)(current.note);
      }
      const outcome = await body(ctx, opts);
      io.out(opts.json ? JSON.stringify(envelope(name, ctx.table.name, outcome), null, 2) : withFailures(outcome));
      session.exitCode = outcome.exitCode;
    } finally {
      ctx0.close();
    }
  };
}

function endpointsOf(opts: object): ErrorHints {
  const o = opts as { sqsEndpoint?: string; lambdaEndpoint?: string };
  return { sqsEndpoint: o.sqsEndpoint, lambdaEndpoint: o.lambdaEndpoint };
}

/** The one JSON shape of every command (README "JSON output"). */
export function envelope(command: string, table: string, o: Outcome) {
  return { command, table, ok: o.exitCode === EXIT.ok, exitCode: o.exitCode, ...o.fields, failures: o.failures ?? [] };
}

export const errorEnvelope = (command: string | undefined, error: string, exitCode: number) => ({ command: command ?? null, ok: false, exitCode, error });

const SHOWN = 20;

/** The text, then the failed items by key and error (values never). */
function withFailures(o: Outcome): string {
  const f = o.failures ?? [];
  if (f.length === 0) return o.text;
  const lines = f.slice(0, SHOWN).map((x) => `  ${x.region} ${JSON.stringify(x.key)}: ${x.error}`);
  if (f.length > SHOWN) lines.push(`  (+${f.length - SHOWN} more: --json lists them)`);
  return [o.text, 'failed items (key, error):', ...lines].join('\n');
}

/** Commands that read DLQs: locally, SQS is not at the DynamoDB endpoint. */
export function requireSqsEndpoint(opts: { endpoint?: string; sqsEndpoint?: string }): void {
  if (opts.endpoint && !opts.sqsEndpoint) {
    throw new CliError(`--endpoint is a local run, whose DLQs are on a local SQS server: add --sqs-endpoint URL (npm start prints it)`);
  }
}
