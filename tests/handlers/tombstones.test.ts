import { strict as assert } from 'node:assert';
import { stateTableName } from '../../config/names';
import type { Dynamo } from '../../handlers/dynamo';
import { liteDynamo } from '../../handlers/dynamo-lite';
import { readTombstones, writeTombstone } from '../../handlers/tombstones';
import { ensureStateTable } from '../../local/tables';
import { client, uniqueName } from '../support/ddb';
import { harness } from '../support/handler-harness';

const SOURCE = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
const v = (seq: number) => ({ gen: 1, seq: String(seq).padStart(40, '0'), repair: 0 });

/** DynamoDB Local behind a gate for BatchGetItem: the n-th read (from 1) can be held or refused. */
function gated() {
  const real = liteDynamo(SOURCE);
  const held = new Map<number, () => void>();
  const g = {
    reads: 0,
    hold: new Set<number>(),
    refuse: new Set<number>(),
    release: (n: number) => held.get(n)?.(),
    dynamo: {
      async call(operation: string, input: object) {
        if (operation === 'BatchGetItem') {
          const n = ++g.reads;
          if (g.hold.has(n)) await new Promise<void>((go) => held.set(n, go));
          if (g.refuse.has(n)) throw Object.assign(new Error('read refused'), { name: 'InternalServerError' });
        }
        return real.call(operation as never, input as never);
      },
    } as Dynamo,
  };
  return g;
}

describe('tombstones: the batch read (DynamoDB Local)', () => {
  let state: { region: string; tableName: string };
  beforeEach(async () => {
    const name = uniqueName('tomb');
    await ensureStateTable(client(SOURCE), name);
    state = { region: SOURCE, tableName: stateTableName(name) };
  });

  it('finds each item\'s deletion in each region, across chunks, and nothing for the others', async () => {
    const db = liteDynamo(SOURCE);
    const keys = Array.from({ length: 70 }, (_, i) => `{"pk":{"S":"k${i}"}}`);
    for (const i of [0, 17, 33, 69]) await writeTombstone(db, state, EU, keys[i]!, v(i + 1), 1);
    await writeTombstone(db, state, AP, keys[33]!, v(99), 1);
    const g = gated();
    const read = readTombstones(g.dynamo, state, [EU, AP], keys);
    for (const [i, k] of keys.entries()) {
      assert.deepEqual(await read.get(EU, k), [0, 17, 33, 69].includes(i) ? v(i + 1) : undefined, `item ${i} in ${EU}`);
      assert.deepEqual(await read.get(AP, k), i === 33 ? v(99) : undefined, `item ${i} in ${AP}`);
    }
    assert.ok(g.reads > 1, `70 items in two regions are read in several chunks (${g.reads})`);
    await assert.rejects(read.get(EU, '{"pk":{"S":"never-asked"}}'), /no tombstone read was started/);
    await assert.rejects(read.get('us-west-2', keys[0]!), /no tombstone read was started for this item in us-west-2/, 'nor reads one as absent in a region it did not read');
  });

  it('reads a region once for two replica tables in it (BatchGetItem refuses a key listed twice)', async () => {
    const db = liteDynamo(SOURCE);
    await writeTombstone(db, state, EU, 'k', v(5), 1);
    const read = readTombstones(db, state, [EU, EU, AP], ['k', 'other']);
    assert.deepEqual(await read.get(EU, 'k'), v(5));
    assert.equal(await read.get(AP, 'k'), undefined);
  });

  it('answers an item as soon as its own chunk is read, while another is still out', async () => {
    const g = gated();
    g.hold.add(1);
    const keys = Array.from({ length: 40 }, (_, i) => `{"pk":{"S":"k${i}"}}`);
    const read = readTombstones(g.dynamo, state, [EU, AP], keys);
    assert.equal(await read.get(EU, keys[39]!), undefined, 'the last item, not in the held first chunk');
    let first: unknown = 'pending';
    const firstItem = read.get(EU, keys[0]!).then((x) => (first = x));
    await new Promise((r) => setImmediate(r));
    assert.equal(first, 'pending', 'the first item waits for its chunk');
    g.release(1);
    await firstItem;
    assert.equal(first, undefined);
  });

  it('a chunk that cannot be read fails only its own items, and nobody asking is no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      const g = gated();
      g.refuse.add(1);
      const keys = Array.from({ length: 40 }, (_, i) => `{"pk":{"S":"k${i}"}}`);
      const read = readTombstones(g.dynamo, state, [EU], keys);
      await assert.rejects(read.get(EU, keys[0]!), /read refused/);
      assert.equal(await read.get(EU, keys[39]!), undefined);
      g.refuse.add(g.reads + 1);
      readTombstones(g.dynamo, state, [EU], keys.slice(0, 1)); // its one chunk is refused, and nobody asks
      await new Promise((r) => setTimeout(r, 100)); // a rejection nobody handles is reported within a turn or two
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('tombstones: the handler when the read fails (DynamoDB Local)', () => {
  it('fails the batch\'s upserts, which a tombstone could stop, and still applies its deletions', async () => {
    let refuse = false;
    const h = await harness({
      deps: {
        dynamo: (region) => {
          const real = liteDynamo(region);
          return { call: (op, input) => (refuse && op === 'BatchGetItem' ? Promise.reject(Object.assign(new Error('read refused'), { name: 'InternalServerError' })) : real.call(op, input)) } as Dynamo;
        },
      },
    });
    await h.put({ pk: 'gone', v: 1 });
    await h.handler(await h.tap.event());
    await h.remove({ pk: 'gone' });
    await h.put({ pk: 'new', v: 1 });
    const event = await h.tap.event();
    refuse = true;
    try {
      const res = await h.handler(event);
      const upsert = event.Records.find((r) => r.eventName === 'INSERT')!;
      assert.deepEqual(res.batchItemFailures, [{ itemIdentifier: upsert.dynamodb!.SequenceNumber }]);
      assert.equal(await h.getRaw(EU, { pk: 'gone' }), undefined, 'the deletion was applied');
      assert.equal(await h.getRaw(EU, { pk: 'new' }), undefined, 'the upsert waits for its retry');
      const failures = h.logs.filter((l) => l.msg === 'apply failed');
      assert.equal(failures.length, 2);
      assert.match(String(failures[0]!.error), /^tombstones not read: InternalServerError: read refused$/);
    } finally {
      h.close();
    }
  });
});
