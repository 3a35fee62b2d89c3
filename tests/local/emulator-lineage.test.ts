import { strict as assert } from 'node:assert';
import { FakeStream } from '../support/fake-streams';
import { keysOf, mapping, runCleanups } from '../support/emulator-setup';

// DynamoDB Local keeps one open shard per stream, so lineage is exercised on an in-memory stream.
describe('event source mapping emulator: shard lineage (in-memory stream)', () => {
  afterEach(runCleanups);
  let n = 0;
  const stream = () => new FakeStream(`Lineage-${process.pid}-${++n}`);

  it('under LATEST, starts every shard open at the start at its tip, whatever its parent, and reads no history', async () => {
    const s = stream().addShard('parent').put('parent', 'p1').close('parent').addShard('child', 'parent').put('child', 'c1');
    const t = mapping(s.arn, () => null, { streams: s.client, startingPosition: 'LATEST' });
    await t.run();
    s.put('child', 'c2');
    await t.emulator.waitForIdle();
    assert.deepEqual(keysOf(t.events), ['c2']);
  });

  it('reads a child only once its parent is drained, so one item stays in order across a split', async () => {
    const s = stream().addShard('parent').put('parent', 'k').put('parent', 'k').close('parent').addShard('child', 'parent').put('child', 'k');
    const t = mapping(s.arn, () => null, { streams: s.client, batchSize: 1 });
    await t.run();
    const seqs = t.events.map((e) => BigInt(e.Records[0]!.dynamodb!.SequenceNumber!));
    assert.equal(seqs.length, 3);
    assert.ok(seqs[0]! < seqs[1]! && seqs[1]! < seqs[2]!);
  });

  it('reads a child shard that appears later from its start, also under LATEST', async () => {
    const s = stream().addShard('parent');
    const t = mapping(s.arn, () => null, { streams: s.client, startingPosition: 'LATEST' });
    await t.run();
    s.put('parent', 'x1').close('parent').addShard('child', 'parent').put('child', 'y1');
    await t.emulator.waitForIdle();
    assert.deepEqual(keysOf(t.events), ['x1', 'y1']);
    assert.equal(t.emulator.stats.shardsFinished, 1);
  });
});
