import { Command, CommanderError } from 'commander';
import { CliIo, errorEnvelope, Session, stderrOf } from './command';
import { backfillCommand } from './commands/backfill';
import { failoverCommand } from './commands/failover';
import { reconcileCommand } from './commands/reconcile';
import { redriveCommand } from './commands/redrive';
import { rejoinCommand } from './commands/rejoin';
import { reviewCommand } from './commands/review';
import { statusCommand } from './commands/status';
import { verifyCommand } from './commands/verify';
import { classify, EXIT } from './errors';

export type { CliIo } from './command';

/** Each registers one subcommand: its options and its action (cli/commands/). */
const COMMANDS = [backfillCommand, verifyCommand, reconcileCommand, redriveCommand, statusCommand, failoverCommand, rejoinCommand, reviewCommand];

const EXIT_CODES = `
Exit codes: 0 ok; 1 a difference, failed items, firing alarms or discarded records, or a refused
failover; 2 a usage, configuration or connection problem (one line naming the fix; DEBUG=1 adds
the stack trace). --json prints one JSON document in every case (README "JSON output").`;

function program(session: Session): Command {
  const trim = (t: string) => t.replace(/\n$/, '');
  const p = new Command('ddb-replicator')
    .usage('<command> [options]')
    .description('Operations for replicated tables, reading the same stack config as pulumi up.')
    .exitOverride()
    // Errors are printed once, by cli(), as one line or as the JSON envelope.
    .configureOutput({ writeOut: (t) => session.io.out(trim(t)), writeErr: (t) => stderrOf(session.io)(trim(t)), outputError: () => undefined })
    .showSuggestionAfterError()
    .addHelpText('afterAll', EXIT_CODES);
  for (const register of COMMANDS) register(p, session);
  return p;
}

/** Runs one command; returns its exit code (README "Exit codes"). Never throws for a command's error. */
export async function cli(argv: string[], io: CliIo): Promise<number> {
  const session: Session = { io, hints: {} };
  const p = program(session);
  const command = p.commands.find((c) => c.name() === argv[0])?.name();
  session.hints.command = command;
  try {
    await p.parseAsync(argv, { from: 'user' });
    return session.exitCode ?? EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError && (err.code === 'commander.helpDisplayed' || err.code === 'commander.help')) return err.exitCode === 0 ? EXIT.ok : EXIT.problem;
    const c = classify(err, session.hints);
    if (argv.includes('--json')) io.out(JSON.stringify(errorEnvelope(command, c.message, c.exitCode), null, 2));
    else stderrOf(io)(`ddb-replicator${command ? ` ${command}` : ''}: ${c.message}`);
    if (process.env.DEBUG && err instanceof Error) stderrOf(io)(err.stack ?? String(err));
    return c.exitCode;
  }
}

/** The process entry point: Ctrl-C stops the command cleanly; the exit code is the command's. */
export function runCli(argv: string[]): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  // A reader that stops early (| head) is not an error of the command.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? EXIT.ok);
  });
  cli(argv, { out: (t) => console.log(t), signal: controller.signal }).then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(`ddb-replicator: ${(err as Error).message}`);
      process.exitCode = EXIT.problem;
    },
  );
}

if (require.main === module) runCli(process.argv.slice(2));
