import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AttributeValue, PutItemCommand, ScanCommand, ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { keyText } from '../../handlers/attribute-values';
import type { SegmentState } from '../../handlers/backfill-segment';
import { MAX_ITEM_BYTES, METADATA_BYTES } from '../../handlers/contract';
import { backfill, backfillExitCode, renderBackfill } from '../../cli/backfill';
import { tableContext } from '../../cli/context';
import { startFaultProxy } from '../../local/fault-proxy';
import { client } from '../support/ddb';
import { localEndpoint } from '../support/setup';
import { createTable, execCli, load, project } from './support';

const SECRET = 'secret-payload-never-printed';

describe('ddb-replicator backfill: Ctrl-C, failed items, rerun and --restart (DynamoDB Local)', function () {
  this.timeout(300_000);

  it('after Ctrl-C starts nothing new, exits once held writes settle, and its checkpoint covers every acknowledged write; the rerun redoes none', async () => {
    const p = project();
    // Replica writes beyond the 300th are held unanswered: the run stalls with writes in flight.
    const proxy = await startFaultProxy({ target: localEndpoint(), holdAfter: { operation: 'PutItem', count: 300 } });
    try {
      await createTable('us-east-1', p.table, true);
      await createTable('eu-west-1', p.table, true);
      await load('us-east-1', p.table, 1_000, SECRET);
      const checkpointFile = join(p.dir, 'cp.json');
      const opts = { region: 'eu-west-1', segments: 2, pageSize: 50, checkpointFile, quiet: true };
      const controller = new AbortController();
      const viaProxy = tableContext({ stack: 'test', endpoint: proxy.endpoint, projectDir: p.dir });
      const run = backfill(viaProxy, { ...opts, signal: controller.signal });
      await waitFor(() => proxy.stats.held > 0, 'a held replica write');
      controller.abort(); // Ctrl-C
      // Only the held writes left unanswered: closing now cannot lose the answer to a write that landed.
      await waitFor(() => proxy.stats.inFlight === 0, 'every request but the held ones answered');
      await proxy.close(); // the held writes fail: never acknowledged
      const stopped = await run;
      viaProxy.close();
      assert.equal(stopped.stopped, true);
      assert.equal(stopped.completed, false);
      assert.equal(backfillExitCode(stopped), 1);
      assert.match(renderBackfill(stopped), /^backfill stopped; rerun the same command to resume: copied \d+, already replicated 0, deletions kept 0, failed \d+/);

      const saved = JSON.parse(readFileSync(checkpointFile, 'utf8')) as { segments: SegmentState[] };
      assert.ok(!readFileSync(checkpointFile, 'utf8').includes(SECRET), 'the checkpoint holds keys, never values');
      const onReplica = new Set((await scanAll('eu-west-1', p.table)).map((i) => keyText({ pk: i.pk! })));
      const failed = new Set(saved.segments.flatMap((s) => s.failures.map((f) => keyText(f.key))));
      const covered = await coveredKeys(p.table, saved.segments);
      assert.ok(onReplica.size >= 250 && onReplica.size <= 300, `acknowledged writes: ${onReplica.size}`);
      for (const k of onReplica) assert.ok(covered.has(k), `acknowledged write ${k} is in the checkpoint`);
      for (const k of failed) assert.ok(covered.has(k) && !onReplica.has(k), `failed item ${k} was never written`);
      assert.equal(covered.size, onReplica.size + failed.size, 'the checkpoint covers exactly the writes acknowledged and the items that failed');
      assert.ok(failed.size >= 1 && failed.size <= 2 * 16, `only the items in flight (16 per segment) failed: ${failed.size}`);
      assert.equal(stopped.copied, onReplica.size);
      assert.ok(stopped.failedItems.length > 0 && stopped.failedItems.every((f) => /^\{"pk":\{"S":"item-\d{5}"\}\}$/.test(JSON.stringify(f.key))));

      const direct = tableContext({ stack: 'test', endpoint: localEndpoint(), projectDir: p.dir });
      const rerun = await backfill(direct, opts);
      direct.close();
      assert.equal(rerun.completed, true, renderBackfill(rerun));
      assert.equal(rerun.resumed, true);
      assert.equal(rerun.processedThisRun, 1_000 - onReplica.size, 'the rerun does only what the first run did not');
      assert.deepEqual([rerun.copied, rerun.skipped, rerun.failed], [1_000, 0, 0], 'every item copied once, none twice');
      assert.match(renderBackfill(rerun), /^backfill complete \(resumed\): copied 1000, already replicated 0, deletions kept 0, failed 0$/);
      assert.equal((await p.run('verify')).code, 0);
    } finally {
      await proxy.close();
      p.remove();
    }
  });

  it('lists failed items by key and error, retries them on a rerun, never reports complete while one fails, and --restart starts over', async () => {
    const p = project();
    const proxy = await startFaultProxy({ target: localEndpoint(), serverErrorRate: 1, faultOperations: ['PutItem'] });
    try {
      await createTable('us-east-1', p.table, true);
      await createTable('eu-west-1', p.table, true);
      await load('us-east-1', p.table, 60, SECRET);
      // One byte too large once replication's metadata is added: it can never be copied.
      const room = MAX_ITEM_BYTES - METADATA_BYTES - 'pk'.length - 'big'.length - 'value'.length;
      await client('us-east-1').send(new PutItemCommand({ TableName: p.table, Item: { pk: { S: 'big' }, value: { S: 'x'.repeat(room + 1) } } }));
      const checkpointFile = join(p.dir, 'cp.json');
      const opts = { region: 'eu-west-1', segments: 4, checkpointFile, quiet: true };

      const viaCli = (endpoint: string, ...more: string[]) => execCli(['backfill', '--to', 'eu-west-1', '--checkpoint', checkpointFile, '--dir', p.dir, '--stack', 'test', '--endpoint', endpoint, ...more]);
      const first = await viaCli(proxy.endpoint);
      assert.equal(first.code, 1, first.err);
      assert.match(first.text, /^backfill incomplete: items failed; rerun the same command to retry them: copied 0, already replicated 0, deletions kept 0, failed 61\nfailed items \(key, error\):\n/);
      assert.match(first.text, /^ {2}eu-west-1 \{"pk":\{"S":"item-\d{5}"\}\}: InternalServerError: Internal server error \(injected by fault proxy\)$/m);
      assert.ok(!first.text.includes(SECRET) && !readFileSync(checkpointFile, 'utf8').includes(SECRET), 'values are never printed nor kept');
      const json = JSON.parse((await viaCli(proxy.endpoint, '--json')).text);
      assert.deepEqual([json.command, json.ok, json.exitCode, json.completed, json.resumed, json.failed, json.failures.length], ['backfill', false, 1, false, true, 61, 61]);
      assert.deepEqual(Object.keys(json.failures[0]).sort(), ['error', 'key', 'region']);

      const direct = tableContext({ stack: 'test', endpoint: localEndpoint(), projectDir: p.dir });
      try {
        const second = await backfill(direct, opts);
        assert.deepEqual([second.completed, second.copied, second.failed, second.processedThisRun], [false, 60, 1, 61]);
        assert.equal(backfillExitCode(second), 1);
        assert.deepEqual(second.failedItems.map((f) => f.key), [{ pk: { S: 'big' } }]);
        assert.match(second.failedItems[0]!.error, /^ValidationException: Item size has exceeded the maximum allowed size/);
        assert.match(renderBackfill(second), /^backfill incomplete: items failed; rerun the same command to retry them \(resumed\): copied 60, already replicated 0, deletions kept 0, failed 1$/);

        const again = await backfill(direct, { ...opts, restart: true });
        assert.deepEqual([again.resumed, again.copied, again.skipped, again.failed], [false, 0, 60, 1], '--restart scans everything again; what is on the replica is left as it is');
        assert.ok(existsSync(checkpointFile));
      } finally {
        direct.close();
      }
    } finally {
      await proxy.close();
      p.remove();
    }
  });
});

async function scanAll(region: string, table: string) {
  const items = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out: ScanCommandOutput = await client(region).send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The keys a checkpoint says are done: per segment, every item up to `after` in scan order, and the done keys. */
async function coveredKeys(table: string, segments: SegmentState[]): Promise<Set<string>> {
  const covered = new Set<string>();
  for (const [segment, s] of segments.entries()) {
    s.done.forEach((k) => covered.add(k));
    if (s.finished) throw new Error('the stopped run finished a segment: the test needs more items');
    if (!s.after) continue;
    const until = keyText(s.after);
    let start: Record<string, AttributeValue> | undefined;
    scan: do {
      const out: ScanCommandOutput = await client('us-east-1').send(new ScanCommand({ TableName: table, Segment: segment, TotalSegments: segments.length, ExclusiveStartKey: start, ConsistentRead: true }));
      for (const i of out.Items ?? []) {
        covered.add(keyText({ pk: i.pk! }));
        if (keyText({ pk: i.pk! }) === until) break scan;
      }
      start = out.LastEvaluatedKey;
    } while (start);
  }
  return covered;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
