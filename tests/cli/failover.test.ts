import { strict as assert } from 'node:assert';
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atCurrentPrimary, tableContext } from '../../cli/context';
import { failover, FailoverOptions } from '../../cli/failover';
import { cli } from '../../cli/main';
import { rejoin } from '../../cli/rejoin';
import { review } from '../../cli/review';
import { stateTableName } from '../../config/names';
import { readFence } from '../../handlers/fence';
import { LocalDeployment, startLocalDeployment } from '../../local/deployment';
import { startLocalLambdaApi } from '../../local/lambda-api';
import { startLocalSqs } from '../../local/sqs';
import { client, uniqueName } from '../support/ddb';
import { localEndpoint } from '../support/setup';

const A = 'us-east-1';
const B = 'eu-west-1';
const C = 'ap-southeast-2';

/** A stack file for one table in A, B and C, and the table deployed locally with its links. */
async function deployed() {
  const table = uniqueName('Fo');
  const dir = mkdtempSync(join(tmpdir(), 'failover-'));
  writeFileSync(join(dir, 'Pulumi.test.yaml'), `config:\n  ddb-replicator:tables:\n    - name: ${table}\n      partitionKey: { name: pk, type: S }\n      primaryRegion: ${A}\n      replicaRegions: [${B}, ${C}]\n      lambda: { timeoutSeconds: 1 }\n`);
  const spec = { name: table, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: A, replicaRegions: [B, C] };
  const deployment = await startLocalDeployment({
    table: spec,
    clientFor: client,
    watchStreams: true,
    handler: { fenceCacheMs: 0 },
    emulator: { pollIntervalMs: 20, discoveryIntervalMs: 100, retryDelayMs: 5, log: () => undefined },
    handlerDeps: () => ({ log: () => undefined }),
  });
  const ctx = tableContext({ stack: 'test', endpoint: localEndpoint(), projectDir: dir });
  const put = (region: string, pk: string, v: number) => client(region).send(new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, v: { N: String(v) } } }));
  const get = async (region: string, pk: string) => (await client(region).send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item?.v?.N;
  return {
    table,
    dir,
    deployment,
    ctx,
    put,
    get,
    remove: (region: string, pk: string) => client(region).send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: pk } } })),
    fence: (region: string) => readFence(client(region), stateTableName(table)),
    close: async () => {
      await deployment.stop();
      ctx.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const options = (o: Partial<FailoverOptions> & { to: string }): FailoverOptions => ({ unplanned: false, fenceCacheSeconds: 0, clockMarginSeconds: 1, segments: 2, ...o });
const deps = (d: LocalDeployment, sqs: SQSClient) => ({
  streams: (region: string) => new DynamoDBStreamsClient({ region }),
  sqs: () => sqs,
  mappings: d.mappings,
  recordSeconds: d.recordSeconds,
});

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

  it('refuses a planned failover until the old primary is drained, then moves every fence and mapping, losing nothing', async () => {
    const t = await deployed();
    try {
      for (let i = 0; i < 20; i++) await t.put(A, `k${i}`, i);
      await t.deployment.waitForIdle();
      // A's links stop (say, an outage of its Lambda), while A's writes go on: not drained.
      for (const l of t.deployment.links.filter((l) => l.region === A)) await l.emulator.disable();
      await t.put(A, 'late', 1);
      const refused = await failover(t.ctx, options({ to: B }), deps(t.deployment, sqs));
      assert.equal(refused.ok, false);
      assert.match(refused.refused!, /replicas hold every change: 1 change\(s\) not on .* yet .*: stop writes to us-east-1, let replication catch up, and run again/);
      assert.deepEqual([(await t.fence(B))?.generation, t.deployment.enabledRegions()], [1, []], 'nothing moved');

      for (const l of t.deployment.links.filter((l) => l.region === A)) l.emulator.enable();
      await t.deployment.waitForIdle();
      const done = await failover(t.ctx, options({ to: B }), deps(t.deployment, sqs));
      assert.equal(done.ok, true, JSON.stringify(done));
      assert.deepEqual(done.checks.map((c) => c.ok), [true, true]);
      assert.deepEqual(done.fences.map((f) => [f.region, f.outcome, f.generation]), [[A, 'raised', 2], [B, 'raised', 2], [C, 'raised', 2]]);
      assert.deepEqual(t.deployment.enabledRegions(), [B]);
      assert.match(done.next.join('\n'), /Commit primaryRegion: eu-west-1 \(and us-east-1 among replicaRegions\)/);

      await t.put(B, 'k1', 100); // an acknowledged write on the new primary
      await t.put(A, 'k1', 999); // the application still writing to A: fenced out, reported
      await t.deployment.waitForIdle();
      for (const l of t.deployment.links.filter((l) => l.region === A)) l.emulator.enable(); // the old mapping still running, as during pulumi up
      await t.deployment.waitForIdle();
      assert.deepEqual([await t.get(A, 'k1'), await t.get(B, 'k1'), await t.get(C, 'k1')], ['100', '100', '100']);
      const report = await review(t.ctx, false);
      assert.deepEqual(report.entries.map((e) => [e.kind, e.key.pk!.S]), [['stray', 'k1']]);
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
      for (const l of t.deployment.links.filter((l) => l.region === A)) await l.emulator.disable();
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
      const run = (...args: string[]) => cli([...args, '--dir', t.dir, '--stack', 'test', '--endpoint', localEndpoint()], { out: (o) => (text = o), quiet: true });
      const code = await run('failover', '--to', B, '--lambda-endpoint', api.endpoint, '--sqs-endpoint', sqsServer.endpoint, '--fence-cache-seconds', '0', '--clock-margin-seconds', '0', '--json');
      assert.equal(code, 0, text);
      const report = JSON.parse(text);
      assert.deepEqual([report.from, report.to, report.generation, report.ok], [A, B, 2, true]);
      assert.deepEqual(t.deployment.enabledRegions(), [B], 'switched through ListEventSourceMappings and UpdateEventSourceMapping');
      await assert.rejects(run('failover'), /failover needs --to REGION: one of us-east-1, eu-west-1, ap-southeast-2/);
      await assert.rejects(run('failover', '--to', 'eu-west-2'), /--to eu-west-2 is not a region of .*: use one of/);
      assert.equal(await run('failover', '--to', B, '--sqs-endpoint', sqsServer.endpoint), 1);
      assert.match(text, /refused\n  eu-west-1 is the primary already \(generation 2\)/);
      assert.equal(await run('verify'), 0, 'verify compares against the primary the fences name');
    } finally {
      await api.close();
      await t.close();
    }
  });
});
