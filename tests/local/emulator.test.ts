import { strict as assert } from 'node:assert';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, ExpiredIteratorException, GetRecordsCommand } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { EmulatorOptions, EventSourceMappingEmulator } from '../../local/esm/emulator';
import { client } from '../support/ddb';
import { cleanups, REGION, runCleanups, seqOf, setup, sleep, until } from '../support/emulator-setup';

describe('event source mapping emulator (DynamoDB Local)', () => {
  afterEach(runCleanups);

  it('delivers every record once, in order, in batches of BatchSize, shaped like Lambda events', async () => {
    const t = await setup(25, () => null, { batchSize: 10 });
    await t.run();
    assert.deepEqual(t.events.map((e) => e.Records.length), [10, 10, 5]);
    const all = t.events.flatMap(seqOf);
    assert.deepEqual(all, [...all].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
    assert.equal(new Set(all).size, 25);
    const r = t.events[0]!.Records[1]!;
    assert.deepEqual(Object.keys(r), ['eventID', 'eventName', 'eventVersion', 'eventSource', 'awsRegion', 'dynamodb', 'eventSourceARN']);
    assert.equal(r.eventName, 'INSERT');
    assert.equal(r.eventSource, 'aws:dynamodb');
    assert.equal(r.awsRegion, REGION);
    assert.equal(r.eventSourceARN, t.streamArn);
    assert.equal(typeof r.dynamodb!.ApproximateCreationDateTime, 'number');
    assert.deepEqual(r.dynamodb!.NewImage, { pk: { S: 'i1' }, b: { B: Buffer.from([1]).toString('base64') }, n: { N: '1' } });
    assert.equal(r.dynamodb!.StreamViewType, 'NEW_AND_OLD_IMAGES');
    assert.equal(t.emulator.stats.recordsCommitted, 25);
    assert.ok(t.emulator.stats.maxIteratorAgeMs >= 0);
  });

  it('delivers empty maps as Lambda does, {"M":{}}, where DynamoDB Local\'s stream gives {}', async () => {
    const t = await setup(0, () => null);
    await client(REGION).send(new PutItemCommand({ TableName: t.tableName, Item: { pk: { S: 'e' }, m: { M: {} }, l: { L: [{ M: {} }] }, nested: { M: { inner: { M: {} } } } } }));
    await t.run();
    assert.deepEqual(t.events[0]!.Records[0]!.dynamodb!.NewImage, { pk: { S: 'e' }, m: { M: {} }, l: { L: [{ M: {} }] }, nested: { M: { inner: { M: {} } } } });
  });

  it('rewinds to the lowest reported failure and re-delivers from there', async () => {
    const t = await setup(6, (e, call) => (call === 1 ? { batchItemFailures: [{ itemIdentifier: seqOf(e)[4] }, { itemIdentifier: seqOf(e)[2] }] } : {}), {
      reportBatchItemFailures: true,
    });
    await t.run();
    assert.equal(t.events.length, 2);
    assert.deepEqual(seqOf(t.events[1]!), seqOf(t.events[0]!).slice(2));
  });

  it('ignores batchItemFailures unless ReportBatchItemFailures is on, as Lambda does', async () => {
    const t = await setup(3, (e) => ({ batchItemFailures: [{ itemIdentifier: seqOf(e)[1] }] }), { reportBatchItemFailures: false });
    await t.run();
    assert.equal(t.events.length, 1);
  });

  it('bisects on function errors until the poison record is alone, then sends it to the on-failure destination', async () => {
    const t = await setup(
      8,
      (e) => {
        if (e.Records.some((r) => r.dynamodb!.Keys!.pk!.S === 'i5')) throw new Error('poison');
        return null;
      },
      { bisectBatchOnFunctionError: true, maximumRetryAttempts: 2, reportBatchItemFailures: true },
    );
    await t.run();
    // 8 fails -> halves: [0-3] ok, [4-7] fails -> [4,5] fails -> [4] ok, [5] fails 3 times -> discarded; then [6,7].
    assert.deepEqual(t.events.map((e) => e.Records.length), [8, 4, 4, 2, 1, 1, 1, 1, 2]);
    assert.equal(t.onFailure.messages.length, 1);
    const m = t.onFailure.messages[0]!;
    const poisonSeq = t.events.at(-2)!.Records[0]!.dynamodb!.SequenceNumber!;
    assert.deepEqual(Object.keys(m), ['requestContext', 'responseContext', 'version', 'timestamp', 'DDBStreamBatchInfo']);
    assert.equal(m.requestContext.condition, 'RetryAttemptsExhausted');
    assert.equal(m.requestContext.approximateInvokeCount, 3);
    assert.match(m.requestContext.requestId, /^[0-9a-f-]{36}$/);
    assert.match(m.requestContext.functionArn, /^arn:aws:lambda:us-east-1:\d{12}:function:/);
    assert.deepEqual(m.responseContext, { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
    assert.equal(m.version, '1.0');
    assert.match(m.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(m.DDBStreamBatchInfo.startSequenceNumber, poisonSeq);
    assert.equal(m.DDBStreamBatchInfo.endSequenceNumber, poisonSeq);
    assert.equal(m.DDBStreamBatchInfo.batchSize, 1);
    assert.equal(m.DDBStreamBatchInfo.streamArn, t.streamArn);
    assert.match(m.DDBStreamBatchInfo.shardId, /^shardId-/);
    assert.match(m.DDBStreamBatchInfo.approximateArrivalOfFirstRecord, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(t.emulator.stats.recordsCommitted, 7);
    assert.equal(t.emulator.stats.recordsDiscarded, 1);
  });

  it('discards a whole batch after MaximumRetryAttempts without bisection', async () => {
    const t = await setup(
      4,
      () => {
        throw new Error('down');
      },
      { maximumRetryAttempts: 1 },
    );
    await t.run();
    assert.equal(t.events.length, 2);
    assert.equal(t.onFailure.messages.length, 1);
    assert.equal(t.onFailure.messages[0]!.DDBStreamBatchInfo.batchSize, 4);
    assert.equal(t.onFailure.messages[0]!.requestContext.approximateInvokeCount, 2);
  });

  it('with bisection and partial responses, discards only the failing suffix (as recorded against AWS)', async () => {
    const t = await setup(
      6,
      (e) => {
        const bad = e.Records.find((r) => r.dynamodb!.Keys!.pk!.S === 'i5');
        return { batchItemFailures: bad ? [{ itemIdentifier: bad.dynamodb!.SequenceNumber }] : [] };
      },
      { batchSize: 3, maximumRetryAttempts: 3, bisectBatchOnFunctionError: true, reportBatchItemFailures: true },
    );
    await t.run();
    assert.equal(t.onFailure.messages.length, 1);
    const m = t.onFailure.messages[0]!;
    assert.equal(m.DDBStreamBatchInfo.batchSize, 1);
    assert.equal(m.requestContext.approximateInvokeCount, 4);
    assert.equal(m.responseContext!.functionError, null);
    assert.equal(t.emulator.stats.recordsCommitted, 5);
  });

  it('treats a malformed partial response as a failure of the whole batch', async () => {
    const t = await setup(2, (_e, call) => (call === 1 ? { batchItemFailures: [{ itemIdentifier: '' }] } : null), { reportBatchItemFailures: true });
    await t.run();
    assert.equal(t.events.length, 2);
    assert.deepEqual(seqOf(t.events[1]!), seqOf(t.events[0]!));
  });

  it('keeps reading when the on-failure destination fails: the records are dropped and counted, as Lambda does', async () => {
    const failing = {
      send: async () => {
        throw new Error('destination unavailable');
      },
    };
    const t = await setup(
      6,
      (e) => {
        if (e.Records.some((r) => r.dynamodb!.Keys!.pk!.S === 'i1' || r.dynamodb!.Keys!.pk!.S === 'i5')) throw new Error('poison');
        return null;
      },
      { batchSize: 2, maximumRetryAttempts: 0, onFailure: failing },
    );
    await t.run();
    // [i0, i1] dropped, [i2, i3] delivered, [i4, i5] dropped: the reader outlived both failed sends.
    assert.deepEqual(t.events.map((e) => e.Records.map((r) => r.dynamodb!.Keys!.pk!.S)), [['i0', 'i1'], ['i2', 'i3'], ['i4', 'i5']]);
    const delivered = new Set(t.events.flatMap((e) => e.Records.map((r) => r.dynamodb!.Keys!.pk!.S)));
    assert.deepEqual([...delivered].sort(), ['i0', 'i1', 'i2', 'i3', 'i4', 'i5']);
    const { stats } = t.emulator;
    assert.equal(stats.destinationDeliveryFailures, 2);
    assert.equal(stats.recordsDropped, 4);
    assert.equal(stats.recordsDiscarded, 4);
    assert.equal(stats.onFailureMessages, 0);
    assert.equal(stats.recordsCommitted, 2);
    const warnings = t.logs.filter((l) => l.msg === 'on-failure destination delivery failed; records dropped');
    assert.equal(warnings.length, 2);
    assert.deepEqual(warnings[0]!.keys, [{ pk: { S: 'i0' } }, { pk: { S: 'i1' } }]);
    // Keys and sequence numbers only: no attribute value of a record appears in any log line.
    for (const l of t.logs) assert.ok(!/"[bn]"|"B"|"N"/.test(JSON.stringify(l)), JSON.stringify(l));
  });

  it('discards records older than MaximumRecordAgeInSeconds without invoking, with no responseContext', async () => {
    const t = await setup(3, () => null, { maximumRecordAgeInSeconds: 60, clock: () => Date.now() + 2 * 3600_000 });
    await t.run();
    assert.equal(t.events.length, 0);
    assert.equal(t.onFailure.messages.length, 1);
    const m = t.onFailure.messages[0]!;
    assert.equal(m.requestContext.condition, 'RecordAgeExceeded');
    assert.equal(m.responseContext, undefined);
    assert.equal(m.DDBStreamBatchInfo.batchSize, 3);
  });

  it('starts at LATEST when asked: earlier records are not delivered, later ones are', async () => {
    const t = await setup(3, () => null, { startingPosition: 'LATEST' });
    await t.run();
    assert.equal(t.events.length, 0);
    await t.write(3, 5);
    await t.emulator.waitForIdle();
    assert.deepEqual(t.events.flatMap((e) => e.Records.map((r) => r.dynamodb!.Keys!.pk!.S)), ['i3', 'i4']);
  });

  it('re-acquires an expired iterator at LATEST before the first record, after the last record read afterwards', async () => {
    // DynamoDB Local expires iterators only after 15 minutes, so the expiry is injected here: the
    // next GetRecords after `expire` is set fails with ExpiredIteratorException, as AWS would.
    let expire = true;
    const real = new DynamoDBStreamsClient({ region: REGION });
    cleanups.push(async () => real.destroy());
    const streams: EmulatorOptions['streams'] = {
      send: ((command: Parameters<DynamoDBStreamsClient['send']>[0]) => {
        if (expire && command instanceof GetRecordsCommand) {
          expire = false;
          return Promise.reject(new ExpiredIteratorException({ message: 'Iterator expired', $metadata: {} }));
        }
        return real.send(command as never);
      }) as DynamoDBStreamsClient['send'],
    };
    const t = await setup(3, () => null, { startingPosition: 'LATEST', streams });
    await t.run();
    assert.equal(expire, false, 'the expiry was injected');
    assert.equal(t.events.length, 0, 'history before the mapping started is never delivered');
    assert.ok(t.logs.some((l) => /expired before any record was read/.test(String(l.msg))));
    await t.write(3, 5);
    await t.emulator.waitForIdle();
    expire = true;
    await t.write(5, 6);
    await t.emulator.waitForIdle();
    assert.equal(expire, false);
    assert.deepEqual(t.events.flatMap((e) => e.Records.map((r) => r.dynamodb!.Keys!.pk!.S)), ['i3', 'i4', 'i5']);
  });

  it('waits up to MaximumBatchingWindowInSeconds to fill a batch', async () => {
    // A window far longer than writing three items takes even on a loaded machine; the pause after the
    // first write gives a mapping without a window the chance to deliver it alone, which would fail.
    const t = await setup(0, () => null, { maximumBatchingWindowInSeconds: 5 });
    t.emulator.start();
    await t.write(0, 1);
    await sleep(300);
    await t.write(1, 3);
    await until(() => t.events.length > 0, 'a batch delivered after the window');
    await t.emulator.waitForIdle();
    assert.deepEqual(t.events.map((e) => e.Records.length), [3]);
  });

  describe('with ParallelizationFactor > 1', () => {
    /** Per item, the sequence numbers in the order they were delivered. */
    const deliveredPerItem = (events: DynamoDBStreamEvent[]) => {
      const m = new Map<string, bigint[]>();
      for (const r of events.flatMap((e) => e.Records)) m.set(r.dynamodb!.Keys!.pk!.S!, [...(m.get(r.dynamodb!.Keys!.pk!.S!) ?? []), BigInt(r.dynamodb!.SequenceNumber!)]);
      return m;
    };
    const increasing = (xs: bigint[]) => xs.every((x, i) => i === 0 || xs[i - 1]! < x);

    it('runs up to that many batches of one shard at once, never two records of one item at once, in order', async () => {
      const inFlight = new Set<string>();
      let most = 0;
      let batches = 0;
      const overlaps: string[] = [];
      const t = await setup(
        0,
        async (e) => {
          const items = e.Records.map((r) => r.dynamodb!.Keys!.pk!.S!);
          overlaps.push(...items.filter((i) => inFlight.has(i)));
          items.forEach((i) => inFlight.add(i));
          most = Math.max(most, ++batches);
          // Hold the batches until a second one runs beside them (bounded): a serial mapping never gets there.
          const until = Date.now() + 10_000;
          while (most < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
          batches--;
          items.forEach((i) => inFlight.delete(i));
          return null;
        },
        { batchSize: 10, parallelizationFactor: 4 },
      );
      // Each item's three records (INSERT, MODIFY, MODIFY) sit next to each other in the stream.
      for (let i = 0; i < 40; i++) for (const round of [0, 1, 2]) await t.write(i, i + 1, round);
      await t.run();
      assert.ok(most > 1 && most <= 4, `batches at once: ${most}`);
      assert.deepEqual(overlaps, []);
      assert.ok(t.events.every((e) => e.Records.length <= 10));
      const perItem = deliveredPerItem(t.events);
      assert.equal(perItem.size, 40);
      for (const [item, seqs] of perItem) assert.ok(seqs.length === 3 && increasing(seqs), `${item}: ${seqs.join(', ')}`);
      assert.equal(t.emulator.stats.recordsCommitted, 120);
    });

    it('retries and discards within the failing lane only; other items are delivered once, in order', async () => {
      const t = await setup(
        20,
        (e) => {
          if (e.Records.some((r) => r.dynamodb!.Keys!.pk!.S === 'i5')) throw new Error('poison');
          return null;
        },
        { batchSize: 10, parallelizationFactor: 2, bisectBatchOnFunctionError: true, maximumRetryAttempts: 1, reportBatchItemFailures: true },
      );
      await t.write(0, 20, 1);
      await t.run();
      assert.equal(t.emulator.stats.recordsDiscarded, 2);
      assert.equal(t.emulator.stats.recordsCommitted, 38);
      assert.deepEqual(t.onFailure.messages.map((m) => m.DDBStreamBatchInfo.batchSize), [1, 1]);
      const delivered = deliveredPerItem(t.events.filter((e) => !e.Records.some((r) => r.dynamodb!.Keys!.pk!.S === 'i5')));
      for (const [item, seqs] of delivered) if (item !== 'i5') assert.ok(seqs.length === 2 && increasing(seqs), `${item}: ${seqs.join(', ')}`);
      assert.equal(delivered.size, 19);
    });
  });

  it('rejects settings Lambda would reject, naming the setting and the allowed values', () => {
    const base = { streamArn: 'arn', region: REGION, streams: {} as never, invoke: async () => null };
    assert.throws(() => new EventSourceMappingEmulator({ ...base, batchSize: 0 }), /BatchSize is 0: use a whole number from 1 to 10000/);
    assert.throws(() => new EventSourceMappingEmulator({ ...base, maximumRecordAgeInSeconds: 30 }), /MaximumRecordAgeInSeconds is 30: use -1 \(no limit\) or 60 to 604800/);
    assert.throws(() => new EventSourceMappingEmulator({ ...base, startingPosition: 'AT_TIMESTAMP' as never }), /AT_TIMESTAMP is not supported/);
    assert.throws(() => new EventSourceMappingEmulator({ ...base, maximumRetryAttempts: -2 }), /MaximumRetryAttempts is -2/);
    assert.throws(() => new EventSourceMappingEmulator({ ...base, maximumBatchingWindowInSeconds: 301 }), /MaximumBatchingWindowInSeconds is 301/);
    assert.throws(() => new EventSourceMappingEmulator({ ...base, parallelizationFactor: 11 }), /ParallelizationFactor is 11: use a whole number from 1 to 10/);
    assert.throws(() => new EventSourceMappingEmulator({ ...base, parallelizationFactor: 1.5 }), /ParallelizationFactor is 1.5/);
  });
});
