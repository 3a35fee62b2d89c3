import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { cli } from '../../cli/main';
import { linkSlot } from '../../config/links';
import { backfillWorkerNames, stateTableName } from '../../config/names';
import { readRun, readSegments } from '../../handlers/backfill-state';
import { makeWorker } from '../../handlers/backfill-worker';
import { startFaultProxy } from '../../local/fault-proxy';
import { startLocalInvokeApi } from '../../local/lambda-invoke';
import { startLocalReplication } from '../../local/pipeline';
import { ensureStateTable } from '../../local/tables';
import { client } from '../support/ddb';
import { localEndpoint } from '../support/setup';
import { createTable, enableStream, load, project } from './support';
import { scanSnapshot } from '../../cli/snapshot';

const totals = async (table: string, workers: number) => {
  const segments = await readSegments(client('us-east-1'), stateTableName(table), 'eu-west-1', workers);
  const sum = (f: (s: (typeof segments)[number]['state']) => number) => segments.reduce((n, s) => n + f(s.state), 0);
  return { processed: segments.reduce((n, s) => n + s.processed, 0), copied: sum((s) => s.copied), skipped: sum((s) => s.skipped), finished: segments.filter((s) => s.finished).length };
};

describe('ddb-replicator backfill --workers (DynamoDB Local)', function () {
  this.timeout(300_000);

  it('runs 16 segments as concurrent in-process workers while live replication writes the same keys, ending in sync, checkpointed in the state table', async () => {
    const p = project();
    try {
      await createTable('us-east-1', p.table, false);
      await load('us-east-1', p.table, 4_000);
      const streamArn = await enableStream('us-east-1', p.table);
      await createTable('eu-west-1', p.table, true);
      const replication = await startLocalReplication({
        table: { name: p.table, partitionKey: { name: 'pk', type: 'S' }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] },
        clientFor: client,
        existingStreamArn: streamArn,
        emulator: { pollIntervalMs: 50, discoveryIntervalMs: 200, log: () => undefined },
        handlerDeps: { log: () => undefined },
      });
      try {
        const live = (async () => {
          const source = client('us-east-1');
          for (let i = 0; i < 400; i++) {
            const pk = { S: `item-${String((i * 37) % 4_000).padStart(5, '0')}` };
            if (i % 10 === 9) await source.send(new DeleteItemCommand({ TableName: p.table, Key: { pk } }));
            else if (i % 3 === 0) await source.send(new PutItemCommand({ TableName: p.table, Item: { pk, value: { S: `live-${i}` } } }));
            else await source.send(new UpdateItemCommand({ TableName: p.table, Key: { pk }, UpdateExpression: 'SET #v = :v', ExpressionAttributeNames: { '#v': 'value' }, ExpressionAttributeValues: { ':v': { S: `upd-${i}` } } }));
          }
        })();
        const [result] = await Promise.all([p.run('backfill', '--to', 'eu-west-1', '--workers', '16', '--page-size', '50'), live]);
        assert.equal(result.code, 0, result.text);
        assert.match(result.text, /^backfill complete: copied \d+, already replicated \d+, deletions kept \d+, failed 0$/);
        await replication.emulator.waitForIdle(120_000);
      } finally {
        await replication.stop();
      }
      assert.match((await p.run('verify')).text, /eu-west-1: \d+ items, 0 missing, 0 extra, 0 different -> in sync/);
      assert.equal((await readRun(client('us-east-1'), stateTableName(p.table), 'eu-west-1'))?.total, 16);
      const t = await totals(p.table, 16);
      assert.equal(t.finished, 16);
      assert.ok(t.processed >= 3_600 && t.processed <= 4_000, `every item the scan saw, once: ${t.processed}`);

      const again = JSON.parse((await p.run('backfill', '--to', 'eu-west-1', '--workers', '16', '--json')).text);
      assert.deepEqual([again.ok, again.completed, again.resumed, again.workers, again.invocations, again.processedThisRun], [true, true, true, 16, 16, 0]);
      await assert.rejects(p.run('backfill', '--to', 'eu-west-1', '--workers', '8'), /a backfill to eu-west-1 with 16 workers is checkpointed in .*: resume with --workers 16, or start over with --restart/);
      const restarted = JSON.parse((await p.run('backfill', '--to', 'eu-west-1', '--workers', '8', '--restart', '--json')).text);
      assert.deepEqual([restarted.completed, restarted.resumed, restarted.copied, restarted.workers], [true, false, 0, 8]);
    } finally {
      p.remove();
    }
  });

  it('resumes workers killed mid-segment from their checkpoints, redoing nothing acknowledged', async () => {
    const p = project();
    // Replica writes beyond the 600th are never answered: the workers stall at a known point.
    const proxy = await startFaultProxy({ target: localEndpoint(), holdAfter: { operation: 'PutItem', count: 600 } });
    try {
      await createTable('us-east-1', p.table, true);
      await createTable('eu-west-1', p.table, true);
      await ensureStateTable(client('us-east-1'), p.table);
      await load('us-east-1', p.table, 2_000);
      const bin = resolve(__dirname, '../../bin/ddb-replicator.js');
      const args = ['backfill', '--to', 'eu-west-1', '--workers', '4', '--page-size', '50', '--dir', p.dir, '--stack', 'test', '--endpoint', proxy.endpoint];
      const child = spawn(process.execPath, [bin, ...args], { stdio: 'ignore', env: process.env });
      const exited = new Promise((r) => child.once('exit', r));
      // The workers save shortly after each item: the state table gets all 600 acknowledged writes.
      await waitFor(async () => proxy.stats.held > 0 && (await totals(p.table, 4)).copied === 600, 'the workers to checkpoint their 600 acknowledged writes');
      child.kill('SIGKILL'); // every worker dies mid-segment, without a last save
      await exited;
      assert.equal((await totals(p.table, 4)).finished, 0, 'killed mid-segment');

      const resumed = await p.run('backfill', '--to', 'eu-west-1', '--workers', '4');
      assert.equal(resumed.code, 0, resumed.text);
      assert.match(resumed.text, /^backfill complete \(resumed\): copied 2000, already replicated 0, deletions kept 0, failed 0$/);
      assert.deepEqual(await totals(p.table, 4), { processed: 2_000, copied: 2_000, skipped: 0, finished: 4 });
      assert.equal((await p.run('verify')).code, 0);
    } finally {
      await proxy.close();
      p.remove();
    }
  });

  it('invokes the worker through the Lambda Invoke API: crashed invocations are retried and invocations that run out of time resume', async () => {
    const p = project();
    const functionName = backfillWorkerNames(p.table, 'us-east-1', linkSlot('eu-west-1')).functionName;
    const config = {
      source: { region: 'us-east-1', tableName: p.table },
      targets: [{ region: 'eu-west-1', tableName: p.table }],
      state: { region: 'us-east-1', tableName: stateTableName(p.table) },
      keyNames: ['pk'],
    };
    // A 150 ms function timeout: each invocation copies part of its segment, then hands over.
    const api = await startLocalInvokeApi({ [functionName]: { handler: makeWorker({ config, clientFor: client, stopMarginMs: 0, saveEveryMs: 50 }) as never, timeoutMs: 150 } });
    try {
      await createTable('us-east-1', p.table, true);
      await createTable('eu-west-1', p.table, true);
      const missing = await p.exec('backfill', '--to', 'eu-west-1', '--workers', '2', '--lambda-endpoint', api.endpoint);
      assert.equal(missing.code, 2);
      assert.match(missing.err, /^ddb-replicator backfill: the state table .*\.replication does not exist in us-east-1, where --workers keeps its checkpoints: deploy the stack first/);
      await ensureStateTable(client('us-east-1'), p.table);
      await load('us-east-1', p.table, 3_000);
      api.crashNext(3);
      const result = JSON.parse((await p.run('backfill', '--to', 'eu-west-1', '--workers', '4', '--page-size', '100', '--lambda-endpoint', api.endpoint, '--json')).text);
      assert.deepEqual([result.ok, result.completed, result.copied, result.skipped, result.failed], [true, true, 3_000, 0, 0], JSON.stringify(result));
      assert.equal(api.stats.functionErrors, 3);
      assert.ok(result.invocations > 4 + 3, `segments took several invocations: ${result.invocations}`);
      assert.equal((await p.run('verify')).code, 0);
    } finally {
      await api.close();
      p.remove();
    }
  });

  it('Ctrl-C asks deployed workers to stop through the state table: they finish the writes in flight, save and return; the rerun redoes none', async () => {
    const p = project();
    const functionName = backfillWorkerNames(p.table, 'us-east-1', linkSlot('eu-west-1')).functionName;
    const config = { source: { region: 'us-east-1', tableName: p.table }, targets: [{ region: 'eu-west-1', tableName: p.table }], state: { region: 'us-east-1', tableName: stateTableName(p.table) }, keyNames: ['pk'] };
    // The workers' replica writes beyond the 200th are held; their checkpoints go straight to DynamoDB Local.
    const proxy = await startFaultProxy({ target: localEndpoint(), holdAfter: { operation: 'PutItem', count: 200 } });
    let replica = new DynamoDBClient({ region: 'eu-west-1', endpoint: proxy.endpoint });
    const worker = makeWorker({ config, clientFor: (r) => (r === 'eu-west-1' ? replica : client(r)), saveEveryMs: 50 });
    const api = await startLocalInvokeApi({ [functionName]: { handler: worker as never } });
    try {
      await createTable('us-east-1', p.table, true);
      await createTable('eu-west-1', p.table, true);
      await ensureStateTable(client('us-east-1'), p.table);
      await load('us-east-1', p.table, 2_000);
      const controller = new AbortController();
      let text = '';
      const argv = ['backfill', '--to', 'eu-west-1', '--workers', '4', '--lambda-endpoint', api.endpoint, '--json', '--dir', p.dir, '--stack', 'test', '--endpoint', localEndpoint()];
      const run = cli(argv, { out: (t) => (text += t), quiet: true, signal: controller.signal });
      await waitFor(async () => proxy.stats.held > 0, 'a held replica write');
      controller.abort(); // Ctrl-C
      await waitFor(async () => (await readSegments(client('us-east-1'), stateTableName(p.table), 'eu-west-1', 4)).every((s) => s.stop), 'the stop flags');
      // Only the held writes left unanswered: closing now cannot lose the answer to a write that landed.
      await waitFor(async () => proxy.stats.inFlight === 0, 'every request but the held ones answered');
      await proxy.close(); // the held writes fail; the workers save, read the flag and return
      assert.equal(await run, 1);
      const stopped = JSON.parse(text);
      const onReplica = (await scanSnapshot(client('eu-west-1'), p.table, ['pk'], { rules: { nowSeconds: 0 } })).states.size;
      assert.deepEqual([stopped.completed, stopped.stopped, stopped.copied], [false, true, onReplica], text);
      assert.ok(stopped.failed >= 1 && stopped.failed <= 4 * 16, `only writes in flight failed: ${stopped.failed}`);
      assert.equal(api.stats.invocations, 4, 'no segment invoked again after Ctrl-C');

      replica = client('eu-west-1');
      const resumed = JSON.parse((await p.run('backfill', '--to', 'eu-west-1', '--workers', '4', '--lambda-endpoint', api.endpoint, '--json')).text);
      assert.deepEqual([resumed.completed, resumed.resumed, resumed.copied, resumed.skipped, resumed.failed], [true, true, 2_000, 0, 0]);
      assert.equal((await p.run('verify')).code, 0);
    } finally {
      await proxy.close();
      await api.close();
      p.remove();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
