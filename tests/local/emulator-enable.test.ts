import { strict as assert } from 'node:assert';
import { DynamoDBStreamsClient, GetRecordsCommand } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { EmulatorOptions } from '../../local/esm/emulator';
import { watchStream } from '../../local/esm/stream-clock';
import { cleanups, keysOf, REGION, runCleanups, seqOf, setup, sleep, until } from '../support/emulator-setup';

/** A real streams client that counts requests: a disabled mapping must make none. */
function countingStreams() {
  const real = new DynamoDBStreamsClient({ region: REGION });
  cleanups.push(async () => real.destroy());
  const counts = { requests: 0, getRecords: 0 };
  const streams: EmulatorOptions['streams'] = {
    send: ((command: Parameters<DynamoDBStreamsClient['send']>[0]) => {
      counts.requests++;
      if (command instanceof GetRecordsCommand) counts.getRecords++;
      return real.send(command as never);
    }) as DynamoDBStreamsClient['send'],
  };
  return { streams, counts };
}

/** Per item, the sequence numbers in delivery order. */
function perItem(events: DynamoDBStreamEvent[]): Map<string, bigint[]> {
  const m = new Map<string, bigint[]>();
  for (const r of events.flatMap((e) => e.Records)) m.set(r.dynamodb!.Keys!.pk!.S!, [...(m.get(r.dynamodb!.Keys!.pk!.S!) ?? []), BigInt(r.dynamodb!.SequenceNumber!)]);
  return m;
}

/** Enabled=false pauses a mapping; Lambda keeps its position and resumes there when it is enabled again. */
describe('event source mapping emulator: enable and disable (DynamoDB Local)', () => {
  afterEach(runCleanups);

  it('delivers nothing while disabled, then resumes at its checkpoint: every record, once, in order', async () => {
    const { streams, counts } = countingStreams();
    const t = await setup(4, () => null, { streams, batchSize: 10 });
    const watch = watchStream(t.streamArn, REGION);
    cleanups.push(watch.stop);
    await t.run();
    assert.deepEqual(keysOf(t.events), ['i0', 'i1', 'i2', 'i3']);

    await t.emulator.disable();
    assert.equal(t.emulator.enabled, false);
    await t.write(4, 8);
    await t.write(0, 2, 1);
    await until(() => watch.clock.size >= 10, 'the six new records are in the stream');
    const reads = counts.getRecords;
    await sleep(500); // 25 poll intervals: a reading mapping would have read and delivered them
    assert.equal(counts.getRecords, reads, 'no GetRecords while disabled');
    assert.equal(t.events.length, 1, 'no invocation while disabled');
    await assert.rejects(t.emulator.waitForIdle(1000), /disabled/);

    t.emulator.enable();
    await t.emulator.waitForIdle();
    assert.deepEqual(keysOf(t.events), ['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7', 'i0', 'i1']);
    const all = t.events.flatMap(seqOf);
    assert.equal(new Set(all).size, all.length, 'nothing delivered twice: everything was committed before the pause');
    assert.equal(t.emulator.stats.recordsCommitted, 10);
  });

  it('waits for the invocation in flight, then delivers the records it did not commit again after enable', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let invoked!: () => void;
    const inFlight = new Promise<void>((r) => (invoked = r));
    const t = await setup(
      6,
      async (e, call) => {
        if (call > 1) return null;
        invoked();
        await gate;
        return { batchItemFailures: [{ itemIdentifier: seqOf(e)[1] }] }; // i0 is committed, i1 and i2 are not
      },
      { batchSize: 3, reportBatchItemFailures: true },
    );
    t.emulator.start();
    await inFlight;
    let disabled = false;
    const disabling = t.emulator.disable().then(() => (disabled = true));
    await sleep(100);
    assert.equal(disabled, false, 'disable() waits for the invocation in flight');
    release();
    await disabling;
    assert.equal(t.events.length, 1);
    assert.equal(t.emulator.stats.recordsCommitted, 1);

    t.emulator.enable();
    await t.emulator.waitForIdle();
    assert.deepEqual(keysOf(t.events.slice(0, 1)), ['i0', 'i1', 'i2']);
    assert.deepEqual(keysOf(t.events.slice(1)), ['i1', 'i2', 'i3', 'i4', 'i5'], 'resumed at the first record not committed');
    assert.equal(t.emulator.stats.recordsCommitted, 6);
  });

  it('resumes every lane of a ParallelizationFactor mapping from the oldest record not committed, losing none', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let invoked!: () => void;
    const inFlight = new Promise<void>((r) => (invoked = r));
    let failed = false;
    const t = await setup(
      0,
      async (e) => {
        if (failed || !keysOf([e]).includes('i3')) return null;
        failed = true;
        invoked();
        await gate;
        throw new Error('fails while the mapping is being disabled');
      },
      { batchSize: 2, parallelizationFactor: 3 },
    );
    for (let i = 0; i < 12; i++) for (const round of [0, 1]) await t.write(i, i + 1, round);
    t.emulator.start();
    await inFlight;
    const disabling = t.emulator.disable();
    release();
    await disabling;
    const before = t.events.length;
    t.emulator.enable();
    await t.emulator.waitForIdle();
    assert.ok(t.events.length > before);
    const items = perItem(t.events);
    assert.equal(items.size, 12);
    assert.ok(items.get('i3')!.length > 2, 'the batch that failed during the pause is delivered again');
    for (const [item, seqs] of items) {
      assert.equal(new Set(seqs).size, 2, `${item}: both records delivered`);
      // Repeats are allowed (at least once), but never a record before an earlier one of its item.
      seqs.forEach((s, k) => assert.ok(seqs.every((o) => o >= s || seqs.slice(0, k).includes(o)), `${item}: ${seqs.join(', ')}`));
    }
  });

  it('created disabled, reads nothing until enabled, then starts at LATEST as of enabling; a pause keeps that position', async () => {
    const { streams, counts } = countingStreams();
    const t = await setup(2, () => null, { streams, enabled: false, startingPosition: 'LATEST' });
    t.emulator.start();
    assert.equal(t.emulator.enabled, false);
    await t.write(2, 3);
    await sleep(300);
    assert.equal(counts.requests, 0, 'a disabled mapping makes no request');
    await assert.rejects(t.emulator.waitForIdle(1000), /disabled/);

    t.emulator.enable();
    await t.emulator.waitForIdle();
    assert.equal(t.events.length, 0, 'records written before enabling are history for LATEST');

    await t.emulator.disable();
    await t.write(3, 5);
    t.emulator.enable();
    await t.emulator.waitForIdle();
    assert.deepEqual(keysOf(t.events), ['i3', 'i4'], 'records written while paused are delivered: the position was kept');
  });
});
