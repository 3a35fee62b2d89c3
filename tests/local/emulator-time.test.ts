import { strict as assert } from 'node:assert';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { watchStream } from '../../local/esm/stream-clock';
import { cleanups, keysOf, mapping, runCleanups, setup, sleep, until } from '../support/emulator-setup';

const created = (events: DynamoDBStreamEvent[]) => events.flatMap((e) => e.Records.map((r) => r.dynamodb!.ApproximateCreationDateTime!));
const second = (ms: number) => Math.floor(ms / 1000);
/** Sleeps until the wall clock has passed the start of second `s` (epoch seconds). */
const sleepPast = async (s: number) => {
  while (Date.now() < s * 1000) await sleep(Math.max(1, s * 1000 - Date.now()));
};

// DynamoDB Local rounds ApproximateCreationDateTime down to the minute; AWS gives the second. These
// tests bound each stamp between the second of the write and the second of the first read that can
// have seen the record (an invocation, or the watcher's stamp), so none depends on how fast a poll is.
describe('event source mapping emulator: ApproximateCreationDateTime in seconds (DynamoDB Local)', () => {
  afterEach(runCleanups);

  it('stamps each record with the second it was first seen, and every mapping of a stream delivers the same stamp', async () => {
    const invokedAt: number[] = [];
    const t = await setup(0, () => void invokedAt.push(Date.now()));
    await t.run();
    const writeA = Date.now();
    await t.write(0, 1);
    await t.emulator.waitForIdle();
    await sleep(1500);
    const writeB = Date.now();
    await t.write(1, 2);
    await t.emulator.waitForIdle();

    const [a, b] = created(t.events);
    assert.deepEqual(keysOf(t.events), ['i0', 'i1']);
    for (const [stamp, written, invoked] of [[a!, writeA, invokedAt[0]!], [b!, writeB, invokedAt[1]!]] as const) {
      assert.ok(Number.isInteger(stamp), `${stamp} is whole seconds`);
      assert.ok(stamp >= second(written) && stamp <= second(invoked), `stamp ${stamp} within [${second(written)}, ${second(invoked)}]`);
    }
    assert.ok(b! - a! >= 1, `writes 1.5 s apart differ by a second or more: ${a}, ${b}`);

    // A second mapping of the stream, started two seconds later, reads the same records: same stamps.
    await sleepPast(b! + 2);
    const other = mapping(t.streamArn, () => null);
    await other.run();
    assert.deepEqual(created(other.events), [a, b]);
  });

  it('keeps the true second of a backlog written while the stream was watched, delivered later', async () => {
    const t = await setup(0, () => null);
    const watch = watchStream(t.streamArn, 'us-east-1');
    cleanups.push(watch.stop);
    const written = Date.now();
    await t.write(0, 3);
    await until(() => watch.clock.size >= 3, 'the watcher has stamped the three records');
    const seen = Date.now();
    // Without the watcher, the emulator started now would stamp them two seconds later at least.
    await sleepPast(second(seen) + 2);
    await t.run();
    const stamps = created(t.events);
    assert.equal(stamps.length, 3);
    for (const s of stamps) assert.ok(s >= second(written) && s <= second(seen), `stamp ${s} within [${second(written)}, ${second(seen)}]`);
  });

  it('applies MaximumRecordAgeInSeconds=60 to the second, neither early nor late', async () => {
    // Write where the minute is at least 2 s old, so a minute-rounded stamp would make the records
    // look over 60 s old below (this only makes the pre-fix failure certain).
    await until(() => (Date.now() / 1000) % 60 >= 2 && (Date.now() / 1000) % 60 < 55, 'the minute is 2-55 s old', 10_000);
    const before = Date.now();
    const t = await setup(2, () => null, { maximumRecordAgeInSeconds: 60, clock: () => before + 59_000 });
    // Its clock says 59 s after the writes began: less than 60 s for a record stamped no earlier than its write second.
    await t.run();
    assert.deepEqual(keysOf(t.events), ['i0', 'i1']);
    assert.equal(t.onFailure.messages.length, 0);

    // 61 s after now is over 60 s after any stamp (a stamp is never later than its first read).
    const late = mapping(t.streamArn, () => null, { maximumRecordAgeInSeconds: 60, clock: () => Date.now() + 61_000 });
    await late.run();
    assert.equal(late.events.length, 0);
    assert.deepEqual(late.onFailure.messages.map((m) => [m.requestContext.condition, m.DDBStreamBatchInfo.batchSize]), [['RecordAgeExceeded', 2]]);
  });
});
