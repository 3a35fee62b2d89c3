import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { answerInvoke, outputsFor } from '../../preview/mocks';
import { programConfig } from '../../preview/run-program';
import { FakeEngine, startFakeEngine } from './fake-engine';

export interface ProgramRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly engine: FakeEngine;
}

/** Generous: ts-node type-checks the whole program (components, handlers) before it runs. */
const RUN_TIMEOUT_MS = 240_000;

/**
 * Runs a Pulumi TypeScript program the way `pulumi preview` / `pulumi up` do: the language host
 * starts `node <project>/node_modules/@pulumi/pulumi/cmd/run` with the monitor and engine
 * addresses, project, stack, working directory and dry-run flag, the stack's config as JSON in
 * PULUMI_CONFIG and PULUMI_NODEJS_TYPESCRIPT=true (the nodejs runtime's default), and the program
 * "." (so the runner takes package.json "main"). The engine is {@link startFakeEngine}'s, stopped
 * again before this resolves.
 */
export async function runStackProgram(dir: string, stack: string, opts: { dryRun: boolean; config?: Record<string, string> }): Promise<ProgramRun> {
  const { project, config } = programConfig(dir, stack);
  const region = config['aws:region'] ?? 'us-east-1';
  const engine = await startFakeEngine({ project, stack, dryRun: opts.dryRun, defaultRegion: region, outputsFor, invoke: (token) => answerInvoke(token, region) });
  try {
    const args = ['--monitor', engine.address, '--engine', engine.address, '--organization', 'organization', '--project', project, '--root-directory', dir, '--stack', stack, '--pwd', dir];
    if (opts.dryRun) args.push('--dry-run');
    args.push('--parallel', '16', '.');
    const { NODE_OPTIONS: _, ...env } = process.env;
    const child = spawn(process.execPath, [join(dir, 'node_modules/@pulumi/pulumi/cmd/run'), ...args], {
      cwd: dir,
      env: { ...env, PULUMI_CONFIG: JSON.stringify({ ...config, ...opts.config }), PULUMI_CONFIG_SECRET_KEYS: '[]', PULUMI_NODEJS_TYPESCRIPT: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(timer);
    if (signal) throw new Error(`the program was killed (${signal}) after ${RUN_TIMEOUT_MS / 1000} s:\n${stderr}`);
    return { code, stdout, stderr, engine };
  } finally {
    await engine.stop();
  }
}
