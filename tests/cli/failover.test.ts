import { strict as assert } from 'node:assert';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import { atCurrentPrimary } from '../../cli/context';
import { failover } from '../../cli/failover';
import { rejoin } from '../../cli/rejoin';
import { review } from '../../cli/review';
import { startLocalLambdaApi } from '../../local/lambda-api';
import { startLocalSqs } from '../../local/sqs';
import { localEndpoint } from '../support/setup';
import { A, B, C, deployed, deps, options } from './deployed';
import { cliCode } from './support';

/** The deployment's mappings, recording each switch (region, on or off, when) and running `before` first. */
function watchedMappings(t: Awaited<ReturnType<typeof deployed>>, before?: (region: string, enabled: boolean) => Promise<void>) {
  const calls: { region: string; enabled: boolean; at: number }[] = [];
  return {
    calls,
    mappings: {
      setEnabled: async (region: string, functionName: string, enabled: boolean) => {
        calls.push({ region, enabled, at: Date.now() });
        await before?.(region, enabled);
        return t.deployment.mappings.setEnabled(region, functionName, enabled);
      },
    },
  };
}

describe('ddb-replicator failover, rejoin and review (DynamoDB Local, local links)', function () {
  this.timeout(180_000);
  let sqsServer: Awaited<ReturnType<typeof startLocalSqs>>;
  let sqs: SQSClient;
  before(async () => {
    sqsServer = await startLocalSqs();
    sqs = new SQSClient({ region: A, endpoint: sqsServer.endpoint });
  });
  after(async () => {
    sqs.destroy();
    await sqsServer.stop();
  });

  it('refuses a planned failover until the old primary is drained; then enables the new primary and disables the old one only once the replicas hold its term', async () => {
    const t = await deployed();
    try {
      for (let i = 0; i < 20; i++) await t.put(A, `k${i}`, i);
      await t.deployment.waitForIdle();
      // A's links stop (say, an outage of its Lambda), while A's writes go on: not drained.
      await t.links(A, false);
      await t.put(A, 'late', 1);
      const refused = await failover(t.ctx, options({ to: B }), deps(t.deployment, sqs));
      assert.equal(refused.ok, false);
      assert.match(refused.refused!, /replicas hold every change: 1 change\(s\) not on .* yet .*: stop writes to us-east-1, let replication catch up, and run again/);
      assert.deepEqual([(await t.fence(B))?.generation, t.deployment.enabledRegions()], [1, []], 'nothing moved');

      await t.links(A, true);
      await t.deployment.waitForIdle();
      const w = watchedMappings(t);
      const done = await failover(t.ctx, options({ to: B }), { ...deps(t.deployment, sqs), mappings: w.mappings });
      assert.equal(done.ok, true, JSON.stringify(done));
      assert.deepEqual(done.checks.map((c) => [c.check, c.ok]), [['DLQs empty', true], ['replicas hold every change', true], ['replicas hold every change of the old term', true]]);
      assert.deepEqual(done.fences.map((f) => [f.region, f.outcome, f.generation]), [[A, 'raised', 2], [B, 'raised', 2], [C, 'raised', 2]]);
      assert.deepEqual([...new Set(w.calls.map((c) => `${c.region} ${c.enabled}`))], [`${B} true`, `${A} false`], 'the new primary first, the old one last');
      assert.ok(w.calls.filter((c) => !c.enabled).every((c) => c.at >= Date.parse(done.startsAt!)), 'the old mappings are disabled only once the new term started');
      assert.deepEqual(t.deployment.enabledRegions(), [B]);
      assert.match(done.next.join('\n'), /Commit primaryRegion: eu-west-1 \(and us-east-1 among replicaRegions\)/);

      await t.put(B, 'k1', 100); // an acknowledged write on the new primary
      await t.until([A, C], 'k1', '100'); // replicated everywhere before the stray below: no race
      await t.put(A, 'k1', 999); // the application still writing to A: fenced out, reported
      await t.links(A, true); // the old mapping still running, as during pulumi up
      await t.deployment.waitForIdle();
      assert.deepEqual([await t.get(B, 'k1'), await t.get(C, 'k1'), await t.get(A, 'k1')], ['100', '100', '999'], 'the stray stays on A alone until A rejoins');
      const report = await review(t.ctx, false);
      assert.deepEqual(report.entries.map((e) => [e.kind, e.key.pk!.S]), [['stray', 'k1']]);
    } finally {
      await t.close();
    }
  });

  it('delivers what the old primary takes after the fences are raised (before the handover) to every replica, the new primary included', async () => {
    const t = await deployed();
    try {
      await t.put(A, 'a', 1);
      await t.deployment.waitForIdle();
      let written = false;
      // Right after the fences are raised (the new primary's mappings are switched next), A acknowledges one more write.
      const w = watchedMappings(t, async (region) => {
        if (region === B && !written) await t.put(A, 'after-raise', 7);
        written = true;
      });
      const done = await failover(t.ctx, options({ to: B, fenceCacheSeconds: 5 }), { ...deps(t.deployment, sqs), mappings: w.mappings });
      assert.equal(done.ok, true, JSON.stringify(done));
      assert.deepEqual([await t.get(B, 'after-raise'), await t.get(C, 'after-raise')], ['7', '7'], 'A\'s last write of its term reached every replica');
      assert.deepEqual([...new Set(w.calls.map((c) => `${c.region} ${c.enabled}`))], [`${B} true`, `${A} false`]);
    } finally {
      await t.close();
    }
  });

  it('when the replicas do not get the old term\'s last changes in time, keeps the old mappings enabled and names the items and what to do', async () => {
    const t = await deployed();
    try {
      await t.put(A, 'a', 1);
      await t.deployment.waitForIdle();
      let written = false;
      // Right after the fences are raised, A's Lambda stops (an outage) and A acknowledges a write no link delivers.
      const w = watchedMappings(t, async (region) => {
        if (region === B && !written) {
          written = true;
          await t.links(A, false);
          await t.put(A, 'stuck', 5);
        }
      });
      const done = await failover(t.ctx, options({ to: B, drainWaitSeconds: 1 }), { ...deps(t.deployment, sqs), mappings: w.mappings });
      assert.equal(done.ok, false);
      assert.equal(done.refused, undefined, 'not refused: the new term has started');
      assert.deepEqual(done.checks.map((c) => c.ok), [true, true, false]);
      assert.match(done.checks[2]!.detail, /^1 change\(s\) not on eu-west-1, ap-southeast-2 yet/);
      assert.deepEqual(done.pending!.map((p) => [p.region, p.key.pk!.S]).sort(), [[C, 'stuck'], [B, 'stuck']].sort());
      assert.ok(!w.calls.some((c) => c.region === A), 'the old mappings are left enabled');
      const next = done.next.join('\n');
      assert.match(next, /eu-west-1 is the primary from .* \(generation 2\)/);
      assert.match(next, /The fences cannot be lowered.*its mappings stay enabled.*1 item\(s\) us-east-1 acknowledged before .* are not on every replica \(keys \{"pk":\{"S":"stuck"\}\}\): list them with `ddb-replicator review`, read each from us-east-1 and write it again on eu-west-1/);
      assert.ok(!JSON.stringify(done).includes('"v"'), 'keys, never values');

      // A's Lambda comes back: its still-enabled link records the write for review, and writes it nowhere.
      await t.links(A, true);
      await t.deployment.waitForIdle();
      assert.deepEqual((await review(t.ctx, false)).entries.map((e) => [e.kind, e.key.pk!.S]), [['old-term', 'stuck']]);
      assert.deepEqual([await t.get(B, 'stuck'), await t.get(C, 'stuck')], [undefined, undefined]);
    } finally {
      await t.close();
    }
  });

  it('unplanned: never calls the old primary, reconciles the reachable replicas from the new one, and reports what only a replica held', async () => {
    const t = await deployed();
    try {
      await t.put(A, 'x', 1);
      await t.deployment.waitForIdle();
      // The link to C's slot delivered A's last write, the one to B's did not: A goes down in between.
      const toB = t.deployment.links.find((l) => l.region === A && l.targets.includes(B))!;
      if (toB.targets.includes(C)) return assert.fail('this test needs B and C in different slots of A');
      await toB.emulator.disable();
      await t.put(A, 'x', 2);
      await t.deployment.waitForIdle();
      await t.links(A, false);
      assert.deepEqual([await t.get(B, 'x'), await t.get(C, 'x')], ['1', '2']);

      const calls: string[] = [];
      const watched = { ...deps(t.deployment, sqs), mappings: { setEnabled: (r: string, f: string, e: boolean) => (calls.push(`${r} ${e}`), t.deployment.mappings.setEnabled(r, f, e)) } };
      const done = await failover(t.ctx, options({ to: B, unplanned: true }), watched);
      assert.equal(done.ok, true, JSON.stringify(done));
      assert.deepEqual(done.fences.map((f) => [f.region, f.outcome]), [[A, 'not called'], [B, 'raised'], [C, 'raised']]);
      assert.ok(calls.every((c) => c.startsWith(B)), `only B's mappings are switched: ${calls}`);
      assert.deepEqual(done.reconciled!.map((r) => [r.region, r.repaired, r.newerOnReplica]), [[C, 1, 1]]);
      assert.equal(await t.get(C, 'x'), '1', 'C now equals the new primary');
      const reported = (await review(t.ctx, false)).entries;
      assert.deepEqual(reported.map((e) => [e.kind, e.region, e.target, e.key.pk!.S]), [['newer-on-replica', C, B, 'x']]);
      assert.match(done.next.join('\n'), /Before any `pulumi up`, commit primaryRegion: eu-west-1/);

      // A comes back with its stale fence: it cannot be promoted until it rejoins.
      const refused = await failover(t.ctx, options({ to: A }), deps(t.deployment, sqs));
      assert.match(refused.refused!, /us-east-1 missed generation 2 \(its fence is at 1\): run `ddb-replicator rejoin --region us-east-1` first/);
      const { ctx, fence } = await atCurrentPrimary(t.ctx);
      const back = await rejoin(ctx, fence, A, 2, new DynamoDBStreamsClient({ region: A }), t.deployment.recordSeconds);
      assert.deepEqual([back.strays, back.differences, back.fence, back.reconciled.failed], [0, 1, 'raised', 0]);
      assert.equal(await t.get(A, 'x'), '1');
      assert.equal((await t.fence(A))?.rejoined, 2);
    } finally {
      await t.close();
    }
  });

  it('runs from the command line against the Lambda API (a local endpoint here), with --json, and names the fix for bad input', async () => {
    const t = await deployed();
    const api = await startLocalLambdaApi(() => t.deployment.links);
    try {
      await t.put(A, 'a', 1);
      await t.deployment.waitForIdle();
      let text = '';
      const run = (...args: string[]) => cliCode([...args, '--dir', t.dir, '--stack', 'test', '--endpoint', localEndpoint()], (o) => (text = o));
      const code = await run('failover', '--to', B, '--lambda-endpoint', api.endpoint, '--sqs-endpoint', sqsServer.endpoint, '--fence-cache-seconds', '0', '--clock-margin-seconds', '0', '--json');
      assert.equal(code, 0, text);
      const report = JSON.parse(text);
      assert.deepEqual([report.from, report.to, report.generation, report.ok], [A, B, 2, true]);
      assert.deepEqual(t.deployment.enabledRegions(), [B], 'switched through ListEventSourceMappings and UpdateEventSourceMapping');
      await assert.rejects(run('failover'), /failover needs --to REGION: one of us-east-1, eu-west-1, ap-southeast-2/);
      await assert.rejects(run('failover', '--to', 'eu-west-2'), /--to eu-west-2 is not a region of .*: use one of/);
      await assert.rejects(run('failover', '--to', C, '--drain-wait-seconds', 'x'), /--drain-wait-seconds is "x": use a whole number from 0 to 3600/);
      assert.equal(await run('failover', '--to', B, '--sqs-endpoint', sqsServer.endpoint), 1);
      assert.match(text, /refused\n  eu-west-1 is the primary already \(generation 2\)/);
      assert.equal(await run('verify'), 0, 'verify compares against the primary the fences name');
    } finally {
      await api.close();
      await t.close();
    }
  });
});
