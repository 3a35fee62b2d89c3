import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

const ROOT = resolve(__dirname, '../..');
const WORKFLOWS = join(ROOT, '.github/workflows');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; 'working-directory'?: string };
type Workflow = { on?: unknown; jobs: Record<string, { strategy?: { matrix?: { stack?: string[] } }; steps: Step[] }> };

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

  it('previews with the policy pack on pull requests and deploys with it on main', () => {
    const pulumiSteps = workflows.flatMap((w) => Object.values(w.doc.jobs).flatMap((j) => j.steps)).filter((s) => s.uses?.startsWith('pulumi/actions@'));
    assert.deepEqual(pulumiSteps.map((s) => [s.with?.command, s.with?.policyPacks]).sort(), [['preview', 'policies'], ['up', 'policies']]);
  });
});
