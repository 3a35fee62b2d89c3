import { strict as assert } from 'node:assert';
import type { DynamoDBRecord } from 'aws-lambda';
import { ABSENT, digest } from '../../handlers/attribute-values';
import { planBatch, PlanOptions } from '../../handlers/plan';
import { encodeVersion, isNewer, padSeq, recordVersion, Version } from '../../handlers/versions';

const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000';
let seq = 100;
const opts = (o: Partial<PlanOptions> = {}): PlanOptions => ({ replicateTtlDeletes: true, generation: 1, rules: { nowSeconds: 1_800_000_000 }, ...o });

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
    const { items } = planBatch(records, opts());
    assert.deepEqual(items.map((i) => [i.key, i.changes.map((c) => c.eventName)]), [
      ['{"pk":S"a"}', ['INSERT', 'MODIFY', 'MODIFY']],
      ['{"pk":S"b"}', ['INSERT', 'REMOVE']],
    ]);
    const [a, b] = items;
    assert.deepEqual(a!.final, { pk: { S: 'a' }, v: { N: '3' } });
    assert.deepEqual(a!.version, recordVersion(1, records[4]!.dynamodb!.SequenceNumber!));
    assert.equal(b!.final, undefined);
    // Every state the replica may hold without a conflict: before the first change, and after each but the last.
    assert.deepEqual([...a!.expectedBefore], [digest(undefined), digest({ pk: { S: 'a' }, v: { N: '1' } }), digest({ pk: { S: 'a' }, v: { N: '2' } })]);
  });

  it('stops an item at its first record that cannot be applied, and rejects it for a retry', () => {
    const broken = rec('MODIFY', 'a', 2);
    const records = [rec('INSERT', 'a', 1), broken, rec('MODIFY', 'a', 3, 2), rec('INSERT', 'c', 1)];
    const plan = planBatch(records, opts());
    assert.deepEqual(plan.rejected, [{ seq: broken.dynamodb!.SequenceNumber, reason: 'MODIFY record has no OldImage' }]);
    assert.deepEqual(plan.items.map((i) => [i.key, i.changes.length]), [['{"pk":S"a"}', 1], ['{"pk":S"c"}', 1]]);
  });

  it('leaves TTL deletions out only when asked to', () => {
    const ttl = rec('REMOVE', 'a', undefined, 1, { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } });
    assert.equal(planBatch([ttl], opts({ replicateTtlDeletes: false })).ttlSkipped, 1);
    assert.equal(planBatch([ttl], opts({ replicateTtlDeletes: false })).items.length, 0);
    assert.equal(planBatch([ttl], opts()).items.length, 1);
    const userDelete = rec('REMOVE', 'a', undefined, 1);
    assert.equal(planBatch([userDelete], opts({ replicateTtlDeletes: false })).items.length, 1);
  });

  it('rejects only the record whose value it cannot read, and blocks the rest of that item', () => {
    const unreadable = rec('MODIFY', 'a', 2, 1);
    unreadable.dynamodb!.NewImage!.m = {} as never; // an attribute value with no type
    const records = [rec('INSERT', 'a', 1), unreadable, rec('MODIFY', 'a', 3, 2), rec('INSERT', 'b', 1)];
    const plan = planBatch(records, opts());
    assert.equal(plan.rejected.length, 1);
    assert.equal(plan.rejected[0]!.seq, unreadable.dynamodb!.SequenceNumber);
    assert.match(plan.rejected[0]!.reason, /^record image cannot be read: unsupported attribute value/);
    assert.deepEqual(plan.items.map((i) => [i.key, i.changes.length]), [['{"pk":S"a"}', 1], ['{"pk":S"b"}', 1]]);
  });

  it('expects an expired item and no item alike: a TTL deletion on the replica explains its absence', () => {
    const image = { pk: { S: 'a' }, expiresAt: { N: '1799999999' } };
    const modify = { ...rec('MODIFY', 'a', 2, 1), dynamodb: { ...rec('MODIFY', 'a', 2, 1).dynamodb!, OldImage: image } };
    const [item] = planBatch([modify], opts({ rules: { ttlAttribute: 'expiresAt', nowSeconds: 1_800_000_000 } })).items;
    assert.deepEqual([...item!.expectedBefore], [ABSENT]);
    const [fresh] = planBatch([modify], opts({ rules: { ttlAttribute: 'expiresAt', nowSeconds: 1_799_999_000 } })).items;
    assert.deepEqual([...fresh!.expectedBefore], [digest(image)]);
  });
});

describe('version order', () => {
  const v = (gen: number, s: string, repair = 0): Version => ({ gen, seq: padSeq(s), repair });
  it('orders one term by sequence number, numerically, whatever the digit count', () => {
    assert.ok(isNewer(v(1, '820400000000000001192334'), v(1, '20500000000000000910398')));
    assert.ok(!isNewer(v(1, '20500000000000000910398'), v(1, '820400000000000001192334')));
    assert.ok(!isNewer(v(1, '5'), v(1, '5')), 'the same version is not newer: a duplicate');
  });
  it('orders terms by generation first: a later term wins whatever the sequence numbers', () => {
    assert.ok(isNewer(v(2, '1'), v(1, '9'.repeat(40))));
    assert.ok(!isNewer(v(1, '9'.repeat(40)), v(2, '1')));
  });
  it('puts a repair just above the version it repairs and below the next record', () => {
    assert.ok(isNewer(v(1, '5', 1_700_000_000_000), v(1, '5')));
    assert.ok(isNewer(v(1, '6'), v(1, '5', 9_999_999_999_999)));
  });
  it('treats an item without replication metadata as older than any change', () => {
    assert.ok(isNewer(v(1, '1'), undefined));
  });
  it('has one fixed-size text form whose string order is version order', () => {
    const texts = [v(1, '5'), v(1, '5', 1), v(1, '40000000000000000000000'), v(2, '3'), v(999_999, '9'.repeat(40), 9_999_999_999_999)].map(encodeVersion);
    assert.ok(texts.every((t) => t.length === 61));
    assert.deepEqual([...texts].sort(), texts);
  });
});
