import { strict as assert } from 'node:assert';
import { stateTableName } from '../../config/names';
import type { Dynamo } from '../../handlers/dynamo';
import { liteDynamo } from '../../handlers/dynamo-lite';
import { FenceView, initialFence, nextFence, raiseFence } from '../../handlers/fence';
import { ensureStateTable } from '../../local/tables';
import { client, uniqueName } from '../support/ddb';

const REGION = 'us-east-1';
const TTL = 10_000;

/** DynamoDB Local behind a gate: fence reads are counted, and their answers held until released while `hold` is set. */
function gatedDynamo() {
  const real = liteDynamo(REGION);
  const held: (() => void)[] = [];
  const gate = {
    reads: 0,
    hold: false,
    fail: false,
    /** The last fence read's answer from DynamoDB Local, before the gate. */
    lastAnswer: Promise.resolve() as Promise<unknown>,
    release: () => held.splice(0).forEach((go) => go()),
    /** Lets only the newest held answer through. */
    releaseNewest: () => held.pop()?.(),
    dynamo: {
      async call(operation: string, input: object) {
        if (operation !== 'GetItem') return real.call(operation as never, input as never);
        gate.reads++;
        const answer = real.call(operation as never, input as never);
        gate.lastAnswer = answer.catch(() => undefined);
        if (gate.hold) await new Promise<void>((go) => held.push(go));
        if (gate.fail) throw Object.assign(new Error('read refused'), { name: 'InternalServerError' });
        return answer;
      },
    } as Dynamo,
  };
  return gate;
}

/** The read the view has in flight for the region, settled (a background read nobody awaits). */
const settled = async (view: FenceView) => {
  const inFlight = (view as unknown as { reading: Map<string, { read: Promise<unknown> }> }).reading.get(REGION);
  await inFlight?.read.catch(() => undefined);
  await new Promise((r) => setImmediate(r)); // its bookkeeping runs in the turn it settles
  assert.equal((view as unknown as { reading: Map<string, unknown> }).reading.size, 0);
};

describe('the fence cache of a link (DynamoDB Local)', () => {
  let table: string;
  let t: number;
  let gate: ReturnType<typeof gatedDynamo>;
  let view: FenceView;
  const raise = (to: string) => raiseFence(liteDynamo(REGION), table, nextFence(initialFence(REGION), to, 0));

  beforeEach(async () => {
    const name = uniqueName('fc');
    await ensureStateTable(client(REGION), name);
    table = stateTableName(name);
    t = 1_000_000;
    gate = gatedDynamo();
    view = new FenceView(() => gate.dynamo, table, TTL, () => t);
    assert.equal((await view.source(REGION)).primary, REGION, 'the first call creates the first term');
    gate.reads = 0;
  });

  it('serves a fence younger than half its lifetime without a read', async () => {
    t += TTL / 2 - 1;
    await view.source(REGION);
    assert.equal(gate.reads, 0);
  });

  it('past half its lifetime, serves the cached fence at once and reads it again in the background', async () => {
    await raise('eu-west-1');
    t += TTL / 2;
    gate.hold = true;
    assert.equal((await view.source(REGION)).generation, 1, 'the batch does not wait for the read');
    assert.equal((await view.source(REGION)).generation, 1);
    assert.equal(gate.reads, 1, 'one background read at a time');
    gate.hold = false;
    gate.release();
    await settled(view);
    assert.equal((await view.source(REGION)).generation, 2, 'the next batch acts on the fence just read');
    assert.equal(gate.reads, 1);
  });

  it('never serves a fence whose read was sent a lifetime ago: it waits for a new read, and not for an older one in flight', async () => {
    await raise('eu-west-1');
    t += TTL / 2;
    gate.hold = true;
    await view.source(REGION); // starts a background read, held at t0 + TTL/2
    t += TTL / 2; // the cached fence (read at t0) has expired
    const fresh = view.source(REGION);
    assert.equal(gate.reads, 1, 'the read in flight was sent within the lifetime: it is joined');
    t += TTL; // and now the one in flight is as old as a lifetime too
    const newer = view.source(REGION);
    assert.equal(gate.reads, 2, 'a read sent a lifetime ago is not joined: a new one is sent');
    gate.hold = false;
    gate.release();
    assert.equal((await fresh).generation, 2);
    assert.equal((await newer).generation, 2);
  });

  it('keeps the newer read when an older one answers after it', async () => {
    gate.hold = true;
    t += TTL; // expired
    const older = view.source(REGION); // sent now
    await gate.lastAnswer; // DynamoDB Local answered it (generation 1); the gate holds the answer
    await raise('eu-west-1');
    t += TTL; // the one in flight is a lifetime old: a new read is sent
    const newer = view.source(REGION);
    assert.equal(gate.reads, 2);
    gate.releaseNewest();
    assert.equal((await newer).generation, 2);
    gate.release();
    assert.equal((await older).generation, 1, 'the older read answers late, with what it read');
    gate.hold = false;
    assert.equal((await view.source(REGION)).generation, 2, 'the cache holds the newer read');
    assert.equal(gate.reads, 2);
  });

  it('counts a fence\'s age from when its read was sent, not from when the answer came', async () => {
    t += TTL; // expired: the next call reads
    gate.hold = true;
    const read = view.source(REGION);
    t += TTL / 2; // the answer takes half a lifetime
    gate.hold = false;
    gate.release();
    await read;
    gate.hold = true;
    await view.source(REGION);
    assert.equal(gate.reads, 2, 'at half a lifetime since the read was sent, a background read starts');
    gate.hold = false;
    gate.release();
  });

  it('a failed background read costs no batch anything until the cached fence expires; then the batch fails', async () => {
    gate.fail = true;
    t += TTL / 2;
    assert.equal((await view.source(REGION)).generation, 1);
    await settled(view);
    t += TTL / 2;
    await assert.rejects(view.source(REGION), /read refused/);
    gate.fail = false;
    assert.equal((await view.source(REGION)).generation, 1, 'the next batch reads it');
  });
});
