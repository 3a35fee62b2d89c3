import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as aws from '@pulumi/aws';
import { ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy';
import { unknownValue } from '@pulumi/pulumi/runtime/rpc';
import { policies } from '../../policies/rules';
import { parsePreviewFlags, preview } from '../../preview/main';
import { checkPolicies } from '../../preview/policy-runner';
import { planProgram } from '../../preview/run-program';

const ROOT = resolve(__dirname, '../..');
const BROKEN = join(ROOT, 'tests/fixtures/broken-program');

async function run(opts: Partial<Parameters<typeof preview>[0]>) {
  let text = '';
  const code = await preview({ stack: 'dev', dir: ROOT, json: false, ...opts }, (t) => (text += t));
  return { code, text };
}

describe('offline preview (npm run preview)', function () {
  this.timeout(60_000);

  it('plans the dev stack by region as `pulumi preview` of a new stack, and passes every mandatory rule', async () => {
    const { code, text } = await run({});
    assert.equal(code, 0, text);
    assert.match(text, /Offline preview of ddb-replicator, stack dev: \d+ resources \(as `pulumi preview` of a stack whose resources do not exist yet/);
    assert.match(text, /\neu-west-1\n(  .*\n)*  aws:dynamodb\/table:Table  Users-eu-west-1-table  \(name Users, key userId, stream NEW_AND_OLD_IMAGES, PITR on, KMS on, deletion protection on\)/);
    assert.match(text, /\nus-east-1\n[\s\S]*aws:lambda\/eventSourceMapping:EventSourceMapping  Users-us-east-1-link1-esm  \(start TRIM_HORIZON, batch 100, retries 10/);
    assert.match(text, /Policies: 13 run, 0 mandatory violation\(s\), \d+ advisory\n  Enforced at preview \(\d+\): .+\n  Checked at `pulumi up` only \(\d+\)/);
  });

  it('keeps plain inputs known and makes what only creation gives unknown, as the engine does at preview', async () => {
    const plan = await planProgram(ROOT, 'dev', { mode: 'preview' });
    const find = (type: string, name: string) => plan.resources.find((r) => r.type === type && r.name === name)!;
    const table = find('aws:dynamodb/table:Table', 'Users-us-east-1-table');
    assert.equal(table.inputs.name, 'Users');
    assert.equal(table.outputs.name, 'Users');
    assert.equal(table.outputs.arn, unknownValue);
    assert.equal(table.outputs.streamArn, unknownValue);
    const esm = find('aws:lambda/eventSourceMapping:EventSourceMapping', 'Users-us-east-1-link1-esm');
    assert.equal(esm.inputs.startingPosition, 'TRIM_HORIZON');
    assert.equal(esm.inputs.eventSourceArn, unknownValue, 'the stream ARN of a table not yet created');
    const queue = find('aws:sqs/queue:Queue', 'Users-us-east-1-link1-dlq');
    assert.deepEqual([queue.outputs.arn, queue.outputs.url], [unknownValue, unknownValue]);
    assert.equal(queue.outputs.name, 'Users-us-east-1-link1-dlq', 'an explicit name is known at preview');

    const created = await planProgram(ROOT, 'dev', { mode: 'assume-created' });
    const json = JSON.stringify(created.resources.map((r) => [r.inputs, r.outputs]));
    assert.ok(!json.includes(unknownValue), 'with --assume-created every value is known');
  });

  it('says a policy is enforced at preview exactly when it ran without reading an unknown value', async () => {
    // Two rules on the same resources: one reads an ARN (unknown until the table exists), one a plain input.
    const readsArn: ResourceValidationPolicy = {
      name: 'reads-stream-arn',
      description: 'reads the event source ARN of a mapping',
      enforcementLevel: 'mandatory',
      validateResource: validateResourceOfType(aws.lambda.EventSourceMapping, (m, _a, report) => void (m.eventSourceArn?.includes(':sqs:') && report('not a stream'))),
    };
    const readsPlain: ResourceValidationPolicy = {
      name: 'reads-starting-position',
      description: 'reads the starting position of a mapping',
      enforcementLevel: 'mandatory',
      validateResource: validateResourceOfType(aws.lambda.EventSourceMapping, (m, _a, report) => void (m.startingPosition === 'LATEST' && report('LATEST'))),
    };
    const atPreview = await checkPolicies([readsArn, readsPlain], (await planProgram(ROOT, 'dev', { mode: 'preview' })).resources);
    assert.deepEqual(atPreview.outcomes.map((o) => [o.policy, o.enforced, o.unknownReads.length]), [['reads-stream-arn', 'up-only', 5], ['reads-starting-position', 'preview', 0]]);
    assert.match(atPreview.outcomes[0]!.unknownReads[0]!.message, /string value at \.eventSourceArn can't be known during preview/);
    assert.deepEqual(atPreview.violations.map((v) => [v.policy, v.level]), Array(5).fill(['reads-stream-arn', 'advisory']), 'one per mapping');
    const atUp = await checkPolicies([readsArn, readsPlain], (await planProgram(ROOT, 'dev', { mode: 'assume-created' })).resources);
    assert.deepEqual(atUp.outcomes.map((o) => o.enforced), ['preview', 'preview']);
    assert.deepEqual(atUp.violations, []);
  });

  it("reports the pack's rules truthfully: up-only exactly for those the engine would note as not runnable at preview", async () => {
    const report = JSON.parse((await run({ json: true })).text) as {
      ok: boolean;
      exitCode: number;
      mode: string;
      policies: { policy: string; enforced: string; unknownReads: { message: string }[] }[];
      violations: { policy: string; level: string; message: string }[];
    };
    assert.equal(report.mode, 'preview');
    assert.deepEqual([report.ok, report.exitCode], [true, 0], 'the head every --json document has (errors too: ok false, exitCode 2, error)');
    assert.deepEqual(report.policies.map((p) => p.policy), policies.map((p) => p.name));
    for (const p of report.policies) {
      const notes = report.violations.filter((v) => v.policy === p.policy && v.message.startsWith("can't be checked during preview"));
      assert.ok(['preview', 'up-only'].includes(p.enforced), p.policy);
      assert.equal(notes.length, p.unknownReads.length, p.policy);
      assert.equal(p.enforced === 'up-only', notes.length > 0, p.policy);
      assert.ok(notes.every((n) => n.level === 'advisory'), p.policy);
    }
  });

  it('--assume-created keeps the full-output run, labelled as such in text and JSON', async () => {
    const { code, text } = await run({ assumeCreated: true });
    assert.equal(code, 0, text);
    assert.match(text, /resources \(--assume-created: every output known, as if every resource already existed/);
    assert.match(text, /Policies: 13 run, 0 mandatory violation\(s\), 0 advisory\n  Checked with every output known \(13\)/);
    assert.doesNotMatch(text, /Enforced at preview|Checked at `pulumi up` only/);
    const report = JSON.parse((await run({ assumeCreated: true, json: true })).text) as { mode: string; policies: { enforced: string }[] };
    assert.equal(report.mode, 'assume-created');
    assert.ok(report.policies.every((p) => p.enforced === 'all-outputs-known'));
  });

  it("fails a deliberately broken program with the expected violations, and --json parses", async () => {
    const { code, text } = await run({ dir: BROKEN, stack: 'test', json: true, assumeCreated: true });
    assert.equal(code, 1);
    const report = JSON.parse(text) as { ok: boolean; exitCode: number; project: string; resources: { type: string; region: string | null }[]; violations: { policy: string; level: string; message: string; urn?: string }[]; mandatoryViolations: number };
    assert.equal(report.project, 'broken-replication');
    assert.deepEqual([report.ok, report.exitCode], [false, 1]);
    assert.ok(report.resources.filter((r) => r.type.startsWith('aws:')).every((r) => r.region === 'eu-west-1'), 'default provider region from aws:region');
    const failed = new Set(report.violations.map((v) => v.policy));
    for (const policy of [
      'dynamodb-stream-new-and-old-images',
      'dynamodb-table-pitr-and-kms',
      'dynamodb-table-deletion-protection',
      'dynamodb-stream-mapping-safety',
      'dynamodb-stream-max-two-consumers',
      'stream-function-iterator-age-alarm',
      'dlq-depth-alarm',
      'alarm-has-action',
      'lambda-runtime-not-deprecated',
      'iam-no-wildcards',
      'sqs-queue-encrypted',
      'dlq-retention',
    ]) {
      assert.ok(failed.has(policy), `${policy} reported`);
    }
    assert.equal(report.mandatoryViolations, report.violations.filter((v) => v.level === 'mandatory').length);
    assert.ok(report.violations.filter((v) => v.policy === 'iam-no-wildcards').every((v) => v.urn?.endsWith('::replicator-all')));
  });

  it('fails the broken program at preview too: rules on known values are enforced before anything exists', async () => {
    const { code, text } = await run({ dir: BROKEN, stack: 'test' });
    assert.equal(code, 1, text);
    assert.match(text, /\[mandatory\] dynamodb-table-pitr-and-kms: /);
    assert.match(text, /\[mandatory\] lambda-runtime-not-deprecated: /);
  });

  it('applies a policy config file: levels and settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-config-'));
    try {
      const file = join(dir, 'config.json');
      const all = ['dynamodb-stream-new-and-old-images', 'dynamodb-table-pitr-and-kms', 'dynamodb-table-deletion-protection', 'dynamodb-stream-mapping-safety', 'dynamodb-stream-max-two-consumers', 'stream-function-iterator-age-alarm', 'dlq-depth-alarm', 'alarm-has-action', 'lambda-runtime-not-deprecated', 'iam-no-wildcards', 'sqs-queue-encrypted', 'dlq-retention'];
      writeFileSync(file, JSON.stringify(Object.fromEntries(all.map((p) => [p, 'advisory']))));
      const { code, text } = await run({ dir: BROKEN, stack: 'test', policyConfig: file, assumeCreated: true });
      assert.equal(code, 0, 'advisory violations do not fail the preview');
      assert.match(text, /0 mandatory violation\(s\), [1-9]\d* advisory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the fix for a missing stack, a missing project and bad flags', async () => {
    await assert.rejects(run({ stack: 'prod' }), /has no Pulumi\.prod\.yaml: choose a stack with --stack/);
    await assert.rejects(run({ dir: tmpdir() }), /has no Pulumi\.yaml: point --dir at a Pulumi project/);
    assert.throws(() => parsePreviewFlags(['--stak', 'dev']), /^Error: Unknown option '--stak': see npm run preview -- --help for the options$/);
    assert.throws(() => parsePreviewFlags(['--base']), /^Error: Option '--base <value>' argument missing: see npm run preview -- --help for the options$/);
    assert.deepEqual(parsePreviewFlags(['--json', '--dir', 'x']), { stack: 'dev', dir: resolve('x'), json: true, policyConfig: undefined, assumeCreated: false, base: undefined });
    assert.equal((parsePreviewFlags(['--assume-created']) as { assumeCreated: boolean }).assumeCreated, true);
  });
});
