import { strict as assert } from 'node:assert';
import { startLocalLambdaApi } from '../../local/lambda-api';
import { startLocalSqs } from '../../local/sqs';
import { localEndpoint } from '../support/setup';
import { A, B, C, deployed } from './deployed';
import { cliCode } from './support';

describe('ddb-replicator failover --unplanned, rejoin and review from the command line (DynamoDB Local, local links)', function () {
  this.timeout(180_000);

  it('presumes down the primary the fences name, not the stale config; rejoin and review report by key with exit codes', async () => {
    const t = await deployed();
    const api = await startLocalLambdaApi(() => t.deployment.links);
    const sqs = await startLocalSqs();
    let text = '';
    const run = (...args: string[]) => cliCode([...args, '--dir', t.dir, '--stack', 'test', '--endpoint', localEndpoint()], (o) => (text = o));
    const fast = ['--lambda-endpoint', api.endpoint, '--sqs-endpoint', sqs.endpoint, '--fence-cache-seconds', '0', '--clock-margin-seconds', '0'];
    try {
      await t.put(A, 'a', 1);
      await t.deployment.waitForIdle();
      assert.equal(await run('failover', '--to', B, ...fast, '--json'), 0, text);
      // Not committed to the stack file, which still names us-east-1. Then eu-west-1 goes down with a write it never replicated.
      await t.links(B, false);
      await t.put(B, 'b-only', 2);

      assert.equal(await run('failover', '--to', C, '--unplanned', ...fast, '--json'), 0, text);
      const report = JSON.parse(text);
      assert.deepEqual([report.mode, report.from, report.to, report.generation, report.ok], ['unplanned', B, C, 3, true]);
      assert.deepEqual(report.fences.map((f: { region: string; outcome: string }) => [f.region, f.outcome]), [[A, 'raised'], [B, 'not called'], [C, 'raised']]);
      assert.deepEqual([...new Set(report.mappings.map((m: { region: string; change: string }) => `${m.region} ${m.change}`))], [`${C} enabled`], 'only the new primary\'s mappings are switched');
      assert.deepEqual(report.reconciled.map((r: { region: string; failed: number }) => [r.region, r.failed]), [[A, 0]]);
      assert.match(report.next.join('\n'), /Before any `pulumi up`, commit primaryRegion: ap-southeast-2 \(and eu-west-1 among replicaRegions\)[\s\S]*`ddb-replicator rejoin --region eu-west-1`/);
      assert.equal((await t.fence(B))?.generation, 2, 'eu-west-1 was not called');

      // eu-west-1 is back: rejoin reports what it holds differently, raises its fence and reconciles it.
      await assert.rejects(run('rejoin'), /rejoin needs --region REGION: one of/);
      assert.equal(await run('rejoin', '--region', B, '--json'), 0, text);
      const back = JSON.parse(text);
      assert.deepEqual(Object.keys(back).sort(), ['command', 'differences', 'exitCode', 'failures', 'fence', 'generation', 'ok', 'primary', 'reconciled', 'region', 'strays', 'table']);
      assert.deepEqual([back.region, back.primary, back.generation, back.differences, back.fence, back.reconciled.failed], [B, C, 3, 1, 'raised', 0]);
      assert.ok(back.reconciled.repaired >= 1, text);
      assert.deepEqual([await t.get(B, 'b-only'), (await t.fence(B))?.rejoined], [undefined, 3]);
      assert.equal(await run('rejoin', '--region', B), 0, text);
      assert.match(text, /^Fo-\S+: eu-west-1 rejoined at generation 3 \(primary ap-southeast-2\); fence current\n {2}0 write\(s\) it took while not primary, and 0 item\(s\) that differed/);

      // review: exit 1 while there are entries; keys and versions, never values.
      assert.equal(await run('review'), 1, text);
      assert.match(text, /^Fo-\S+: \d+ write\(s\) to review \(keys and versions; read the items with aws dynamodb get-item --key\)\n/);
      assert.match(text, / {2}rejoin-diff +eu-west-1 -> ap-southeast-2 +key \{"pk":\{"S":"b-only"\}\}/);
      assert.equal(await run('review', '--json'), 1, text);
      const listed = JSON.parse(text);
      assert.deepEqual([Object.keys(listed).sort(), listed.unreachable, listed.cleared], [['cleared', 'command', 'entries', 'exitCode', 'failures', 'ok', 'table', 'unreachable'], [], 0]);
      assert.ok(listed.entries.some((e: { kind: string; key: unknown; region: string; target: string }) => e.kind === 'rejoin-diff' && e.region === B && e.target === C && JSON.stringify(e.key) === '{"pk":{"S":"b-only"}}'));
      assert.ok(listed.entries.every((e: { kind: string; id: string; recordedAt: number }) => ['rejoin-diff', 'stray'].includes(e.kind) && e.id && e.recordedAt > 0), text);
      assert.ok(!text.includes('"v"'), 'never values');
      assert.equal(await run('review', '--clear'), 0, text);
      assert.match(text, new RegExp(`cleared ${listed.entries.length} entr`));
      assert.equal(await run('review'), 0, text);
      assert.match(text, /^Fo-\S+: nothing to review$/);
    } finally {
      await api.close();
      await sqs.stop();
      await t.close();
    }
  });
});
