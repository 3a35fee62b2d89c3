import { strict as assert } from 'node:assert';
import { generator, HOT_USERS, planWorkload, runWorkload, WriteKind } from '../../local/workload';

/** A client that answers every write after a delay drawn from `delays`: another interleaving per delay seed. */
function slowClient(delaySeed: number) {
  const delay = generator(delaySeed, 99);
  return { send: () => new Promise((r) => setTimeout(r, Math.floor(delay() * 4))) };
}

async function writeLog(seed: number, delaySeed: number) {
  const perWriter = new Map<number, string[]>();
  const global: string[] = [];
  await runWorkload(slowClient(delaySeed) as never, {
    table: 'Users',
    operations: 400,
    concurrency: 8,
    seed,
    onWrite: (userId: string, kind: WriteKind, _at: number, writer: number) => {
      const entry = `${kind} ${userId}`;
      perWriter.set(writer, [...(perWriter.get(writer) ?? []), entry]);
      global.push(entry);
    },
  });
  return { perWriter: [...perWriter].sort(([a], [b]) => a - b), global };
}

describe('npm start --seed: the workload', () => {
  it('gives every writer the same operations for the same seed, whatever the interleaving, and others for another seed', async () => {
    const [a, b, other] = await Promise.all([writeLog(5, 1), writeLog(5, 2), writeLog(6, 1)]);
    assert.notDeepEqual(a.global, b.global, 'the two runs interleaved differently');
    assert.deepEqual(a.perWriter, b.perWriter);
    assert.equal(a.perWriter.length, 9, 'the hot users\' sign-ups, then 8 writers');
    assert.deepEqual(a.perWriter[0], [-1, HOT_USERS.map((u) => `sign-up ${u}`)]);
    assert.notDeepEqual(a.perWriter, other.perWriter);
    assert.equal(a.global.length, 400);
  });

  it('plans the same values for the same seed: the plan is a function of (seed, writer)', () => {
    assert.deepEqual(planWorkload(9, 300, 8), planWorkload(9, 300, 8));
    assert.notDeepEqual(planWorkload(9, 300, 8).writers, planWorkload(10, 300, 8).writers);
    // A writer's plan does not depend on how many writers there are beside it, only on its index.
    assert.deepEqual(planWorkload(9, 3 + 8 * 20, 8).writers[3], planWorkload(9, 3 + 4 * 20, 4).writers[3]);
  });

  it('only updates and deletes users its own writer signed up (or the hot users), so each finds its item', () => {
    for (const ops of planWorkload(3, 2000, 8).writers) {
      const live = new Set<string>(HOT_USERS);
      for (const op of ops) {
        if (op.kind === 'sign-up') live.add(op.userId);
        else assert.ok(live.has(op.userId), `${op.kind} ${op.userId} after its sign-up`);
        if (op.kind === 'delete') live.delete(op.userId);
      }
    }
  });

  it('seeds differ beyond 32 bits and per stream', () => {
    const first = (seed: number, stream: number) => generator(seed, stream)();
    assert.notEqual(first(1, 0), first(1 + 2 ** 32, 0));
    assert.notEqual(first(1, 0), first(1, 1));
    assert.equal(first(1, 0), first(1, 0));
  });
});
