import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { answerInvoke, outputsFor } from '../../preview/mocks';
import { programConfig } from '../../preview/run-program';
import type { AnalyzedResource } from './analyzer-client';
import { FakeEngine, providerUrn, Registration, startFakeEngine } from './fake-engine';

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
 * PULUMI_CONFIG and PULUMI_NODEJS_TYPESCRIPT=true (the nodejs runtime's default), and as the program
 * the project's entry point as the CLI resolves it ({@link programEntry}). The engine is
 * {@link startFakeEngine}'s, stopped again before this resolves.
 */
export async function runStackProgram(dir: string, stack: string, opts: { dryRun: boolean; config?: Record<string, string> }): Promise<ProgramRun> {
  const { project, config } = programConfig(dir, stack);
  const region = config['aws:region'] ?? 'us-east-1';
  const engine = await startFakeEngine({ project, stack, dryRun: opts.dryRun, defaultRegion: region, outputsFor, invoke: (token) => answerInvoke(token, region) });
  try {
    const entry = programEntry(dir);
    const args = ['--monitor', engine.address, '--engine', engine.address, '--organization', 'organization', '--project', project, '--root-directory', dir, '--stack', stack, '--pwd', entry.pwd];
    if (opts.dryRun) args.push('--dry-run');
    args.push('--parallel', '16', entry.program);
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

/**
 * The working directory and program the CLI hands the Node.js language host for a project: with no
 * `main` in Pulumi.yaml, the project folder and "." (cmd/run then takes package.json's exports or
 * main); with `main` naming a folder, that folder and "."; with `main` naming a file (this project:
 * index.ts, since package.json's main is the library), the file's folder and its absolute path.
 */
export function programEntry(dir: string): { pwd: string; program: string } {
  const main = (parse(readFileSync(join(dir, 'Pulumi.yaml'), 'utf8')) as { main?: string }).main;
  if (!main) return { pwd: dir, program: '.' };
  const path = resolve(dir, main);
  return statSync(path).isDirectory() ? { pwd: path, program: '.' } : { pwd: dirname(path), program: path };
}

const runs = new Map<string, Promise<ProgramRun>>();

/**
 * {@link runStackProgram} once per process for the same arguments: test files that need the same
 * run of the stack program (its registrations are only read) share it, so `npm test` runs it once.
 */
export function stackProgramRun(dir: string, stack: string, opts: { dryRun: boolean; config?: Record<string, string> }): Promise<ProgramRun> {
  const key = JSON.stringify([dir, stack, opts.dryRun, opts.config ?? {}]);
  let run = runs.get(key);
  if (!run) {
    run = runStackProgram(dir, stack, opts);
    runs.set(key, run);
    run.catch(() => runs.delete(key));
  }
  return run;
}

/** The explicit provider of a registration, as the engine hands it to an analyzer. */
function providerOf(run: ProgramRun, r: Registration): AnalyzedResource['provider'] {
  if (!r.provider) return undefined;
  const p = run.engine.registrations.find((x) => x.urn === providerUrn(r.provider));
  return p && { type: p.type, name: p.name, urn: p.urn, properties: p.inputs };
}

/**
 * A registration as the engine sends it to Analyze: the program's inputs (the engine analyzes them
 * after the provider's Check; with no provider here they are the program's) and its options.
 */
export function analyzedInputs(run: ProgramRun, r: Registration): AnalyzedResource {
  return { type: r.type, name: r.name, urn: r.urn, properties: r.inputs, parent: r.parent, protect: r.protect, provider: providerOf(run, r) };
}

/**
 * Every resource the program registered as the engine sends them to AnalyzeStack at the end of the
 * run (step_generator.go AnalyzeResources: every new resource, providers and components included,
 * with its outputs, parent and dependencies): a custom resource's outputs are what the engine
 * answered, a component's what it registered with RegisterResourceOutputs.
 */
export function analyzedStack(run: ProgramRun): AnalyzedResource[] {
  return run.engine.registrations.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    properties: r.custom ? r.outputs : (run.engine.resourceOutputs.get(r.urn) ?? {}),
    parent: r.parent,
    protect: r.protect,
    dependencies: [...r.dependencies],
    provider: providerOf(run, r),
  }));
}
