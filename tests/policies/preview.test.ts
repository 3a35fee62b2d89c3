import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parsePreviewFlags, preview } from '../../preview/main';

const ROOT = resolve(__dirname, '../..');
const BROKEN = join(ROOT, 'tests/fixtures/broken-program');

async function run(opts: Partial<Parameters<typeof preview>[0]>) {
  let text = '';
  const code = await preview({ stack: 'dev', dir: ROOT, json: false, ...opts }, (t) => (text += t));
  return { code, text };
}

describe('offline preview (npm run preview)', function () {
  this.timeout(60_000);

  it('plans the dev stack by region and passes every mandatory rule', async () => {
    const { code, text } = await run({});
    assert.equal(code, 0, text);
    assert.match(text, /Offline preview of ddb-replicator, stack dev: \d+ resources/);
    assert.match(text, /\neu-west-1\n(  .*\n)*  aws:dynamodb\/table:Table  Users-eu-west-1-table  \(name Users, key userId, stream NEW_AND_OLD_IMAGES, PITR on, KMS on, deletion protection on\)/);
    assert.match(text, /\nus-east-1\n[\s\S]*aws:lambda\/eventSourceMapping:EventSourceMapping  Users-to-eu-west-1-esm  \(start TRIM_HORIZON, batch 100, retries 10/);
    assert.match(text, /Policies: 13 run, 0 mandatory violation\(s\), 0 advisory/);
  });

  it("fails a deliberately broken program with the expected violations, and --json parses", async () => {
    const { code, text } = await run({ dir: BROKEN, stack: 'test', json: true });
    assert.equal(code, 1);
    const report = JSON.parse(text) as { project: string; resources: { type: string; region: string | null }[]; violations: { policy: string; level: string; message: string; urn?: string }[]; mandatoryViolations: number };
    assert.equal(report.project, 'broken-replication');
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

  it('applies a policy config file: levels and settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-config-'));
    try {
      const file = join(dir, 'config.json');
      const all = ['dynamodb-stream-new-and-old-images', 'dynamodb-table-pitr-and-kms', 'dynamodb-table-deletion-protection', 'dynamodb-stream-mapping-safety', 'dynamodb-stream-max-two-consumers', 'stream-function-iterator-age-alarm', 'dlq-depth-alarm', 'alarm-has-action', 'lambda-runtime-not-deprecated', 'iam-no-wildcards', 'sqs-queue-encrypted', 'dlq-retention'];
      writeFileSync(file, JSON.stringify(Object.fromEntries(all.map((p) => [p, 'advisory']))));
      const { code, text } = await run({ dir: BROKEN, stack: 'test', policyConfig: file });
      assert.equal(code, 0, 'advisory violations do not fail the preview');
      assert.match(text, /0 mandatory violation\(s\), [1-9]\d* advisory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the fix for a missing stack, a missing project and bad flags', async () => {
    await assert.rejects(run({ stack: 'prod' }), /has no Pulumi\.prod\.yaml: choose a stack with --stack/);
    await assert.rejects(run({ dir: tmpdir() }), /has no Pulumi\.yaml: point --dir at a Pulumi project/);
    assert.throws(() => parsePreviewFlags(['--stak', 'dev']), /Unknown option '--stak'[\s\S]*Usage: npm run preview/);
    assert.deepEqual(parsePreviewFlags(['--json', '--dir', 'x']), { stack: 'dev', dir: resolve('x'), json: true, policyConfig: undefined });
  });
});
