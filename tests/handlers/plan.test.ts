import { strict as assert } from 'node:assert';
import type { DynamoDBRecord } from 'aws-lambda';
import { digest } from '../../handlers/attribute-values';
import { planBatch } from '../../handlers/plan';
import { isNewer, padSeq } from '../../handlers/versions';

const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000';
let seq = 100;

function rec(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', pk: string, v?: number, old?: number, extra: Partial<DynamoDBRecord> = {}): DynamoDBRecord {
  const image = (x: number) => ({ pk: { S: pk }, v: { N: String(x) } });
  return {
    eventID: String(seq),
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: 1_700_000_000,
      Keys: { pk: { S: pk } },
      ...(v !== undefined && { NewImage: image(v) }),
      ...(old !== undefined && { OldImage: image(old) }),
      SequenceNumber: String(seq++).padStart(21, '0'),
      SizeBytes: 10,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: ARN,
    ...extra,
  };
}

describe('batch planning (pure)', () => {
  it('groups records per item in stream order and coalesces each item to its last change', () => {
    const records = [rec('INSERT', 'a', 1), rec('INSERT', 'b', 1), rec('MODIFY', 'a', 2, 1), rec('REMOVE', 'b', undefined, 1), rec('MODIFY', 'a', 3, 2)];
    const { items } = planBatch(records, { replicateTtlDeletes: true });
    assert.deepEqual(items.map((i) => [i.key, i.changes.map((c) => c.eventName)]), [
      ['{"pk":S"a"}', ['INSERT', 'MODIFY', 'MODIFY']],
      ['{"pk":S"b"}', ['INSERT', 'REMOVE']],
    ]);
    const [a, b] = items;
    assert.deepEqual(a!.final, { pk: { S: 'a' }, v: { N: '3' } });
    assert.equal(a!.version.seq, padSeq(records[4]!.dynamodb!.SequenceNumber!));
    assert.equal(b!.final, undefined);
    // Every state the replica may hold without a conflict: before the first change, and after each but the last.
    assert.deepEqual([...a!.expectedBefore], [digest(undefined), digest({ pk: { S: 'a' }, v: { N: '1' } }), digest({ pk: { S: 'a' }, v: { N: '2' } })]);
  });

  it('stops an item at its first record that cannot be applied, and rejects it for a retry', () => {
    const broken = rec('MODIFY', 'a', 2);
    const records = [rec('INSERT', 'a', 1), broken, rec('MODIFY', 'a', 3, 2), rec('INSERT', 'c', 1)];
    const plan = planBatch(records, { replicateTtlDeletes: true });
    assert.deepEqual(plan.rejected, [{ seq: broken.dynamodb!.SequenceNumber, reason: 'MODIFY record has no OldImage' }]);
    assert.deepEqual(plan.items.map((i) => [i.key, i.changes.length]), [['{"pk":S"a"}', 1], ['{"pk":S"c"}', 1]]);
  });

  it('leaves TTL deletions out only when asked to', () => {
    const ttl = rec('REMOVE', 'a', undefined, 1, { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } });
    assert.equal(planBatch([ttl], { replicateTtlDeletes: false }).ttlSkipped, 1);
    assert.equal(planBatch([ttl], { replicateTtlDeletes: false }).items.length, 0);
    assert.equal(planBatch([ttl], { replicateTtlDeletes: true }).items.length, 1);
    const userDelete = rec('REMOVE', 'a', undefined, 1);
    assert.equal(planBatch([userDelete], { replicateTtlDeletes: false }).items.length, 1);
  });
});

describe('version order', () => {
  const v = (stream: string, s: string, ts: number) => ({ stream, seq: padSeq(s), ts });
  it('orders one stream by sequence number, numerically, whatever the digit count', () => {
    assert.ok(isNewer(v('s1', '820400000000000001192334', 1), v('s1', '20500000000000000910398', 5)));
    assert.ok(!isNewer(v('s1', '20500000000000000910398', 9), v('s1', '820400000000000001192334', 1)));
    assert.ok(!isNewer(v('s1', '5', 1), v('s1', '5', 1)), 'the same version is not newer: a duplicate');
  });
  it('orders different streams by creation time, ties going to the incoming change', () => {
    assert.ok(isNewer(v('s2', '1', 100), v('s1', '999', 99)));
    assert.ok(isNewer(v('s2', '1', 100), v('s1', '999', 100)));
    assert.ok(!isNewer(v('s2', '999', 99), v('s1', '1', 100)));
  });
  it('treats an item without replication metadata as older than any change', () => {
    assert.ok(isNewer(v('s1', '1', 0), undefined));
  });
});
