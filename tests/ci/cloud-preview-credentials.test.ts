import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

const ROOT = resolve(__dirname, '../..');

type Step = { id?: string; uses?: string; run?: string; env?: Record<string, string>; with?: Record<string, unknown> };
type Job = { if?: string; needs?: string | string[]; outputs?: Record<string, string>; steps: Step[] };

const workflow = parse(readFileSync(join(ROOT, '.github/workflows/pull-request.yml'), 'utf8')) as { jobs: Record<string, Job> };

/** Runs a step's script as the runner does (bash, the step's env with secrets resolved), and returns what it wrote to GITHUB_OUTPUT. */
function runStep(step: Step, secrets: Record<string, string>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-output-'));
  try {
    const output = join(dir, 'output');
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', GITHUB_OUTPUT: output };
    for (const [k, v] of Object.entries(step.env ?? {})) {
      const secret = /^\$\{\{ secrets\.(\w+) \}\}$/.exec(v);
      env[k] = secret ? (secrets[secret[1]!] ?? '') : v;
    }
    execFileSync('bash', ['-e', '-c', step.run!], { env, stdio: 'pipe' });
    return Object.fromEntries(
      readFileSync(output, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('pull-request workflow: the cloud preview runs only with both the AWS role and the Pulumi token', () => {
  const [name, cloud] = Object.entries(workflow.jobs).find(([, job]) => job.steps.some((s) => s.uses?.startsWith('pulumi/actions@') && s.with?.command === 'preview'))!;

  it('cloud-preview: its condition needs the AWS_ROLE_ARN variable and a job output that says the token is set (a job condition cannot read secrets)', () => {
    assert.equal(name, 'cloud-preview');
    const condition = cloud.if ?? '';
    assert.match(condition, /vars\.AWS_ROLE_ARN != ''/);
    assert.doesNotMatch(condition, /secrets\./, 'GitHub does not offer the secrets context to a job condition');
    const [, job, output, expected] = /needs\.([\w-]+)\.outputs\.([\w-]+) == '([^']+)'/.exec(condition) ?? [];
    assert.ok(job, `the condition reads no job output: ${condition}`);
    assert.ok(([] as string[]).concat(cloud.needs ?? []).includes(job), `${name} needs ${job}`);
    assert.match(condition, /&&/, 'both conditions, not either');

    const checker = workflow.jobs[job]!;
    const [, stepId, stepOutput] = /^\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}$/.exec(checker.outputs?.[output!] ?? '') ?? [];
    const step = checker.steps.find((s) => s.id === stepId);
    assert.ok(step?.run, `${job} sets ${output} from a step it runs`);
    assert.equal(step.env?.PULUMI_ACCESS_TOKEN, '${{ secrets.PULUMI_ACCESS_TOKEN }}');

    const token = 'pul-0123456789abcdef';
    const withToken = runStep(step, { PULUMI_ACCESS_TOKEN: token });
    assert.equal(withToken[stepOutput!], expected, 'token set: the cloud preview runs');
    assert.ok(!Object.values(withToken).some((v) => v.includes(token)), 'the token itself is not an output');
    assert.notEqual(runStep(step, {})[stepOutput!], expected, 'no token (or a fork, which gets no secrets): the cloud preview is skipped');
  });
});
