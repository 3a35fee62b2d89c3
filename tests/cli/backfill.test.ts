import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PutItemCommand, UpdateItemCommand, DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { startFaultProxy } from '../../local/fault-proxy';
import { startLocalReplication } from '../../local/pipeline';
import { client } from '../support/ddb';
import { localEndpoint } from '../support/setup';
import { createTable, enableStream, load, project } from './support';

describe('ddb-replicator backfill (DynamoDB Local)', function () {
  this.timeout(300_000);

  it('fills an empty replica with 10,000 items while live replication writes the same keys, ending in sync', async () => {
    const p = project();
    try {
      // The table held data before its stream existed: only a backfill can copy those items.
      await createTable('us-east-1', p.table, false);
      await load('us-east-1', p.table, 10_000);
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
          for (let i = 0; i < 600; i++) {
            const pk = { S: `item-${String((i * 17) % 10_000).padStart(5, '0')}` };
            if (i % 10 === 9) await source.send(new DeleteItemCommand({ TableName: p.table, Key: { pk } }));
            else if (i % 3 === 0) await source.send(new PutItemCommand({ TableName: p.table, Item: { pk, value: { S: `live-${i}` } } }));
            else await source.send(new UpdateItemCommand({ TableName: p.table, Key: { pk }, UpdateExpression: 'SET #v = :v', ExpressionAttributeNames: { '#v': 'value' }, ExpressionAttributeValues: { ':v': { S: `upd-${i}` } } }));
          }
        })();
        const [result] = await Promise.all([p.run('backfill', '--to', 'eu-west-1', '--segments', '4', '--checkpoint', join(p.dir, 'cp.json')), live]);
        assert.equal(result.code, 0, result.text);
        assert.match(result.text, /^backfill complete: copied \d+, already replicated \d+, deletions kept \d+, failed 0$/);
        await replication.emulator.waitForIdle(120_000);
      } finally {
        await replication.stop();
      }
      const verify = await p.run('verify');
      assert.equal(verify.code, 0, verify.text);
      assert.match(verify.text, /eu-west-1: \d+ items, 0 missing, 0 extra, 0 different -> in sync/);
    } finally {
      p.remove();
    }
  });

  it('resumes from its checkpoint after being killed mid-run', async () => {
    const p = project();
    // Replica writes beyond the 1,000th are never answered, so the run stalls part-way whatever the machine's speed.
    const proxy = await startFaultProxy({ target: localEndpoint(), holdAfter: { operation: 'PutItem', count: 1_000 } });
    try {
      await createTable('us-east-1', p.table, true);
      await createTable('eu-west-1', p.table, true);
      await load('us-east-1', p.table, 3_000);
      const checkpoint = join(p.dir, 'cp.json');
      const bin = resolve(__dirname, '../../bin/ddb-replicator.js');
      const args = ['backfill', '--to', 'eu-west-1', '--segments', '2', '--page-size', '100', '--checkpoint', checkpoint, '--dir', p.dir, '--stack', 'test', '--endpoint', proxy.endpoint];
      const child = spawn(process.execPath, [bin, ...args], { stdio: 'ignore', env: process.env });
      const exited = new Promise((r) => child.once('exit', r));
      const totals = () => (existsSync(checkpoint) ? sumSegments(JSON.parse(readFileSync(checkpoint, 'utf8'))) : { copied: 0, skipped: 0 });
      // Progress is checkpointed per item, and shortly after the last one: all 1,000 acknowledged writes get there.
      await waitFor(() => proxy.stats.held > 0 && totals().copied === 1_000, 300_000, 'the stalled backfill to checkpoint its 1,000 acknowledged writes');
      child.kill('SIGKILL'); // no chance to clean up
      await exited;

      const resumed = await p.run('backfill', '--to', 'eu-west-1', '--segments', '2', '--checkpoint', checkpoint);
      assert.equal(resumed.code, 0, resumed.text);
      assert.match(resumed.text, /backfill complete \(resumed\)/);
      // Nothing acknowledged before the kill is done again.
      assert.deepEqual(totals(), { copied: 3_000, skipped: 0 });
      assert.equal((await p.run('verify')).code, 0);
      await assert.rejects(p.run('backfill', '--to', 'eu-west-1', '--segments', '3', '--checkpoint', checkpoint), /checkpoint .* is for .* with 2 segments: resume with the same/);
    } finally {
      await proxy.close();
      p.remove();
    }
  });
});

function sumSegments(c: { segments: { copied: number; skipped: number }[] }) {
  return { copied: c.segments.reduce((n, s) => n + s.copied, 0), skipped: c.segments.reduce((n, s) => n + s.skipped, 0) };
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
