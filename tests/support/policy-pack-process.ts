import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { PACK_DIR } from './policy-pack-deps';

export interface RunningPack {
  /** The analyzer's address, from the port the pack printed on stdout. */
  readonly address: string;
  readonly stderr: () => string;
  /** Stops the pack and resolves with its exit signal or code once it has exited. */
  stop(): Promise<NodeJS.Signals | number | null>;
}

/** Generous: the runner type-checks the whole pack with ts-node before it serves. */
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * Starts a policy pack exactly as the Pulumi CLI does: the SDK's run-policy-pack entry point from the
 * pack's own node_modules, with the engine's address and the pack directory as arguments, in the
 * pack directory (the runner reads tsconfig.json and @pulumi/policy reads package.json from the
 * working directory), and the environment the engine adds (project, stack, dry run, config).
 */
export async function startPolicyPack(engineAddress: string, opts: { dir?: string; project?: string; stack?: string; dryRun?: boolean } = {}): Promise<RunningPack> {
  const dir = opts.dir ?? PACK_DIR;
  const { NODE_OPTIONS: _, ...env } = process.env;
  const child = spawn(process.execPath, [join(dir, 'node_modules/@pulumi/pulumi/cmd/run-policy-pack/index.js'), engineAddress, dir], {
    cwd: dir,
    env: { ...env, PULUMI_CONFIG: '{}', PULUMI_NODEJS_PROJECT: opts.project ?? 'ddb-replicator', PULUMI_NODEJS_STACK: opts.stack ?? 'dev', PULUMI_NODEJS_DRY_RUN: String(opts.dryRun ?? true) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  try {
    const port = await waitFor(child, () => /^(\d{2,5})\r?\n/.exec(stdout)?.[1], START_TIMEOUT_MS, () => `the policy pack did not print its port within ${START_TIMEOUT_MS / 1000} s`, () => stderr);
    return { address: `127.0.0.1:${port}`, stderr: () => stderr, stop: () => stop(child) };
  } catch (err) {
    await stop(child);
    throw err;
  }
}

/** Resolves with `found()` once it returns a value; rejects if the process exits first or the bound passes. */
function waitFor<T>(child: ChildProcess, found: () => T | undefined, timeoutMs: number, timeoutMessage: () => string, stderr: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const check = () => {
      const value = found();
      if (value === undefined) return;
      cleanup();
      resolve(value);
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`the policy pack exited (${signal ?? code}) before serving:\n${stderr()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${timeoutMessage()}:\n${stderr()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.off('exit', onExit);
    };
    child.stdout!.on('data', check);
    child.once('exit', onExit);
    check();
  });
}

async function stop(child: ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.signalCode ?? child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  const [code, signal] = await exited;
  clearTimeout(timer);
  return signal ?? code;
}
