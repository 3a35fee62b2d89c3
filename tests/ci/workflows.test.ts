import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { readBase } from '../../preview/base-stack-file';

const ROOT = resolve(__dirname, '../..');
const WORKFLOWS = join(ROOT, '.github/workflows');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; 'working-directory'?: string };
type Permissions = Record<string, string>;
type Job = { permissions?: Permissions; env?: Record<string, string>; strategy?: { matrix?: { stack?: string[] } }; steps: Step[] };
type Workflow = { on?: unknown; permissions?: Permissions; jobs: Record<string, Job> };

const workflows = readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => ({ file: f, doc: parse(readFileSync(join(WORKFLOWS, f), 'utf8')) as Workflow }));

describe('GitHub workflows for users', () => {
  it('exist for pull requests and for main', () => {
    const triggers = workflows.map((w) => JSON.stringify(w.doc.on));
    assert.ok(triggers.some((t) => t.includes('pull_request')));
    assert.ok(triggers.some((t) => t.includes('push') && t.includes('main')));
  });

  for (const { file, doc } of workflows) {
    it(`${file}: every step names a real script, stack, directory and a pinned action`, () => {
      for (const [jobName, job] of Object.entries(doc.jobs)) {
        const stacks = job.strategy?.matrix?.stack ?? [];
        for (const stack of stacks) assert.ok(existsSync(join(ROOT, `Pulumi.${stack}.yaml`)), `${file} ${jobName}: stack ${stack} has no Pulumi.${stack}.yaml`);
        for (const step of job.steps) {
          if (step.uses) assert.match(step.uses, /^[\w.-]+\/[\w.-]+@v\d+$/, `${file} ${jobName}: pin ${step.uses} to a major version`);
          for (const [, script] of (step.run ?? '').matchAll(/npm run (\S+)/g)) assert.ok(scripts[script!], `${file} ${jobName}: npm run ${script} is not a script in package.json`);
          if (/\bnpm test\b/.test(step.run ?? '')) assert.ok(scripts.test, 'npm test exists');
          if (step['working-directory']) assert.ok(existsSync(join(ROOT, step['working-directory'], 'package.json')), `${file} ${jobName}: ${step['working-directory']} has no package.json`);
          const packs = step.with?.policyPacks;
          if (typeof packs === 'string') {
            for (const pack of packs.split('\n').filter(Boolean)) assert.ok(existsSync(join(ROOT, pack, 'PulumiPolicy.yaml')), `${file} ${jobName}: ${pack} is not a policy pack`);
          }
          if (step.uses?.startsWith('pulumi/actions@')) assert.ok(['preview', 'up'].includes(String(step.with?.command)), `${file} ${jobName}: pulumi/actions command`);
        }
      }
    });
  }

  const jobs = workflows.flatMap(({ file, doc }) => Object.entries(doc.jobs).map(([name, job]) => ({ file, doc, name, job })));
  const pulumiSteps = jobs.flatMap(({ job }) => job.steps).filter((s) => s.uses?.startsWith('pulumi/actions@'));

  it('run on Node.js 22, which @pulumi/pulumi requires, as package.json says', () => {
    const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    assert.equal(engines, '>=22');
    const setups = jobs.flatMap(({ file, name, job }) => job.steps.filter((s) => s.uses?.startsWith('actions/setup-node@')).map((s) => [`${file} ${name}`, String(s.with?.['node-version'])]));
    assert.ok(setups.length >= 4);
    for (const [where, version] of setups) assert.equal(version, '22', where);
  });

  it('create a stack on its first preview or deploy (upsert)', () => {
    assert.equal(pulumiSteps.length, 2);
    for (const s of pulumiSteps) assert.equal(s.with?.upsert, true, `pulumi/actions ${String(s.with?.command)}`);
  });

  it('install every package from its lockfile: npm ci, for the project and for the policy pack before it is used', () => {
    for (const { file, name, job } of jobs) {
      for (const s of job.steps) assert.doesNotMatch(s.run ?? '', /\bnpm (install|i)\b/, `${file} ${name}: npm install ignores the lockfile`);
      const packs = job.steps.flatMap((s, i) => (typeof s.with?.policyPacks === 'string' ? s.with.policyPacks.split('\n').filter(Boolean).map((pack) => ({ pack, i })) : []));
      for (const { pack, i } of packs) {
        const installed = job.steps.slice(0, i).some((s) => /^npm ci\b/.test(s.run ?? '') && s['working-directory'] === pack);
        assert.ok(installed, `${file} ${name}: the pack ${pack} is used without npm ci in its directory first`);
      }
    }
  });

  it('grant id-token: write only to the jobs that assume the AWS role, and each of them', () => {
    for (const { file, doc } of workflows) assert.equal(doc.permissions?.['id-token'], undefined, `${file}: id-token granted to every job`);
    for (const { file, name, job } of jobs) {
      const assumesRole = job.steps.some((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@') && s.with?.['role-to-assume']);
      assert.equal(job.permissions?.['id-token'] === 'write', assumesRole, `${file} ${name}`);
    }
  });

  it('plan each stack change of a pull request against the base branch, fetched first', () => {
    const preview = jobs.find(({ file, job }) => file === 'pull-request.yml' && job.steps.some((s) => /npm run preview/.test(s.run ?? '')))!;
    assert.ok(preview, 'a pull-request job runs the offline preview');
    const steps = preview.job.steps;
    const planAt = steps.findIndex((s) => /npm run preview -- --stack \$\{\{ matrix\.stack \}\} --base "origin\/\$BASE_REF"/.test(s.run ?? ''));
    const fetchAt = steps.findIndex((s) => /git fetch .*origin "\+refs\/heads\/\$BASE_REF:refs\/remotes\/origin\/\$BASE_REF"/.test(s.run ?? ''));
    const checkoutAt = steps.findIndex((s) => s.uses?.startsWith('actions/checkout@'));
    assert.ok(checkoutAt >= 0 && checkoutAt < fetchAt && fetchAt < planAt, JSON.stringify(steps));
    assert.equal(preview.job.env?.BASE_REF, '${{ github.base_ref }}', 'the base branch comes from the event, through the environment');

    // The fetch, run as written in a depth-1 clone of a PR branch, makes the base's stack file readable.
    const dir = mkdtempSync(join(tmpdir(), 'base-fetch-'));
    try {
      const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-C', cwd, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8', stdio: 'pipe' });
      const origin = join(dir, 'origin');
      execFileSync('git', ['init', '-q', '-b', 'main', origin]);
      writeFileSync(join(origin, 'Pulumi.dev.yaml'), 'config:\n  base: yes\n');
      git(origin, 'add', '.');
      git(origin, 'commit', '-q', '-m', 'base');
      git(origin, 'checkout', '-q', '-b', 'feature');
      writeFileSync(join(origin, 'Pulumi.dev.yaml'), 'config:\n  base: no\n');
      git(origin, 'commit', '-q', '-am', 'change');
      const clone = join(dir, 'clone');
      execFileSync('git', ['clone', '-q', '--depth=1', '--branch', 'feature', `file://${origin}`, clone]);
      execFileSync('bash', ['-c', steps[fetchAt]!.run!], { cwd: clone, env: { ...process.env, BASE_REF: 'main' }, stdio: 'pipe' });
      const base = readBase(clone, 'dev', 'origin/main');
      try {
        assert.deepEqual(base.stackFile, { path: 'origin/main:Pulumi.dev.yaml', text: 'config:\n  base: yes\n' });
        assert.equal(readFileSync(join(base.programDir!, 'Pulumi.dev.yaml'), 'utf8'), 'config:\n  base: yes\n', 'the program as committed at the base');
      } finally {
        base.cleanup();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('previews with the policy pack on pull requests and deploys with it on main', () => {
    assert.deepEqual(pulumiSteps.map((s) => [s.with?.command, s.with?.policyPacks]).sort(), [['preview', 'policies'], ['up', 'policies']]);
  });
});
