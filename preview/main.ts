import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parseArgs } from 'node:util';
import { policies } from '../policies/rules';
import { readBase } from './base-stack-file';
import { ChangePlanner } from './plan-diff';
import { checkPolicies, PackConfig } from './policy-runner';
import { renderText, reportJson } from './render';
import { renderChangesText, summarize } from './render-changes';
import { planProgram, PreviewInputError, StackFileSource } from './run-program';

const USAGE = `Usage: npm run preview -- [options]

Runs a Pulumi TypeScript program under Pulumi's mocks with a stack's config (no Pulumi CLI, backend
or AWS credentials), prints the planned resources by region, and runs every policy of the
ddb-replicator pack on them, saying which policies are enforced at preview and which only at
\`pulumi up\` (those that read values unknown until resources exist).

Options:
  --stack NAME           stack whose Pulumi.NAME.yaml config to use (default dev)
  --dir PATH             the Pulumi program to preview (default: this project)
  --base FILE|GIT_REF    also plan the change from a base: a stack file (with this program), or the
                         program and its stack file as committed at a git ref (e.g. origin/main);
                         lists what is created, updated, replaced and deleted, by region
  --assume-created       every output known, as if every resource existed (what \`pulumi up\` checks)
  --policy-config FILE   policy pack config JSON, as for pulumi preview --policy-pack-config
  --json                 print a machine-readable report
  --help                 show this text

Exit codes: 0 clean (advisory findings only), 1 a mandatory policy violation, or a change that
replaces or deletes a table, queue, alarm topic or subscription (unless retained) or a protected
resource, 2 a usage or stack config error (one line naming the fix; with --json, a JSON document
with ok false and the error).`;

export interface PreviewOptions {
  stack: string;
  dir: string;
  json: boolean;
  policyConfig?: string;
  assumeCreated?: boolean;
  /** A stack file, or a git ref whose Pulumi.<stack>.yaml is the base of a change plan. */
  base?: string;
  /** Programmatic only: the stack file to use instead of Pulumi.<stack>.yaml in `dir`. */
  stackFile?: string;
}

export function parsePreviewFlags(argv: string[]): PreviewOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stack: { type: 'string' },
        dir: { type: 'string' },
        json: { type: 'boolean' },
        'policy-config': { type: 'string' },
        'assume-created': { type: 'boolean' },
        base: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new PreviewInputError(`${(err as Error).message.split('. ')[0]}: see npm run preview -- --help for the options`);
  }
  if (values.help) return 'help';
  if (values.base !== undefined && values['assume-created']) {
    throw new PreviewInputError('--base and --assume-created cannot be combined: a change plan already knows the outputs of the resources that exist; drop one of them');
  }
  return {
    stack: values.stack ?? 'dev',
    dir: resolve(values.dir ?? resolve(__dirname, '..')),
    json: !!values.json,
    policyConfig: values['policy-config'],
    assumeCreated: !!values['assume-created'],
    base: values.base,
  };
}

/** Returns the exit code: 0 clean or advisory only, 1 on a mandatory violation or a dangerous change. */
export async function preview(opts: PreviewOptions, out: (text: string) => void = (t) => console.log(t)): Promise<number> {
  const config = opts.policyConfig ? readPolicyConfig(opts.policyConfig) : {};
  const stackFile = opts.stackFile ? readStackFileAt(opts.stackFile) : undefined;
  if (opts.base === undefined) {
    const plan = await planProgram(opts.dir, opts.stack, { mode: opts.assumeCreated ? 'assume-created' : 'preview', stackFile });
    const { violations, outcomes } = await checkPolicies(policies, plan.resources, config);
    const code = violations.some((v) => v.level === 'mandatory') ? 1 : 0;
    out(opts.json ? JSON.stringify({ ...verdict(code), ...reportJson(plan, violations, outcomes) }, null, 2) : renderText(plan, violations, outcomes));
    return code;
  }

  const { stackFile: baseFile, programDir, cleanup } = readBase(opts.dir, opts.stack, opts.base);
  // The base's resources exist: their outputs are known, as after `pulumi up` of the base.
  const base = baseFile
    ? await planProgram(programDir ?? opts.dir, opts.stack, { mode: 'assume-created', stackFile: baseFile }).catch(inBase(baseFile.path)).finally(cleanup)
    : undefined;
  const planner = new ChangePlanner(base?.resources.map((r) => r.mocked) ?? []);
  const plan = await planProgram(opts.dir, opts.stack, { mode: 'preview', stackFile, existing: planner.existing });
  const changes = planner.result();
  const { violations, outcomes } = await checkPolicies(policies, plan.resources, config);
  const baseSource = baseFile ? baseFile.path : `${opts.base} has no Pulumi.${opts.stack}.yaml: the stack is new, every resource is created`;
  const code = changes.some((c) => c.risk) || violations.some((v) => v.level === 'mandatory') ? 1 : 0;
  if (opts.json) {
    const changePlan = { base: baseSource, summary: summarize(changes), dangerous: changes.filter((c) => c.risk).length, changes: changes.filter((c) => c.op !== 'same') };
    out(JSON.stringify({ ...verdict(code), ...reportJson(plan, violations, outcomes, { changePlan }) }, null, 2));
  } else {
    out(`${renderChangesText(changes, baseSource)}\n${renderText(plan, violations, outcomes, { change: true })}`);
  }
  return code;
}

/** The head of every --json document, a report's or an error's: `ok` is exit code 0. */
const verdict = (exitCode: number) => ({ ok: exitCode === 0, exitCode });

/** --json when the preview could not run: the same head, the error, no report. */
export const errorJson = (stack: string, error: string) => ({ ...verdict(2), stack, error });

/**
 * The one line for a problem the user fixes (flags, files, the stack's config), naming the fix;
 * undefined for anything else (a bug: its stack trace helps). A Pulumi RunError (config errors
 * among them) is what a program reports without a stack trace under the Pulumi CLI too.
 */
export function expectedError(err: unknown, stackFile: string): string | undefined {
  const e = err as Error;
  if (!(err instanceof PreviewInputError || e?.name === 'StackConfigError' || pulumi.RunError.isInstance(err))) return undefined;
  const message = e.message.replace(/\s*\n\s*/g, ' ');
  const typed = /^Configuration '(.+)' value '(.*)' is not a valid (.+)$/s.exec(message);
  if (typed) {
    const [, key, value, type] = typed;
    const expected = type === 'JSON object' ? 'not a list or map: write it as a YAML list or map' : `not a valid ${type}: fix it`;
    return `${stackFile}: ${key} is ${JSON.stringify(value)}, ${expected} (Pulumi.yaml describes the keys)`;
  }
  if (err instanceof PreviewInputError) return message;
  return `${stackFile}: ${message}`;
}

/** A base config this program rejects (a key renamed since, say) cannot be planned from: say it is the base's. */
const inBase = (path: string) => (err: Error) => {
  if (err instanceof PreviewInputError || err.name === 'StackConfigError' || pulumi.RunError.isInstance(err)) throw new PreviewInputError(`the base config ${path} does not run with this program: ${err.message}`);
  throw err;
};

function readStackFileAt(path: string): StackFileSource {
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch (err) {
    throw new PreviewInputError(`stack file ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

function readPolicyConfig(path: string): PackConfig {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PackConfig;
  } catch (err) {
    throw new PreviewInputError(`--policy-config ${path}: ${(err as Error).message}; give a JSON file mapping policy names to levels or settings`);
  }
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const argv = process.argv.slice(2);
  let opts: PreviewOptions | 'help' | undefined;
  (async () => {
    opts = parsePreviewFlags(argv);
    if (opts === 'help') return console.log(USAGE);
    process.exitCode = await preview(opts);
  })().catch((err) => {
    const o = typeof opts === 'object' ? opts : undefined;
    const stack = o?.stack ?? 'dev';
    const path = o?.stackFile ?? join(o?.dir ?? resolve(__dirname, '..'), `Pulumi.${stack}.yaml`);
    const e = err as Error;
    const expected = expectedError(err, relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path));
    // One line, as the CLI does; DEBUG=1 adds the stack trace of an unexpected error (a bug).
    if (expected === undefined && process.env.DEBUG) console.error(err);
    const line = expected ?? `unexpected error: ${e?.name}: ${String(e?.message).split('\n')[0]}; rerun with DEBUG=1 for details`;
    // With --json the error is the document (stdout), so a pipeline reading JSON gets JSON.
    if (o?.json ?? argv.includes('--json')) console.log(JSON.stringify(errorJson(stack, line), null, 2));
    else console.error(line);
    process.exitCode = 2;
  });
}
