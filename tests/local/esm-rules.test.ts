import { strict as assert } from 'node:assert';
import { readBatchResponse } from '../../local/esm/batch-response';
import { shardsReadyToStart } from '../../local/esm/shard-lineage';

const batch = ['100000000000000000001', '100000000000000000002', '99000000000000000000003'];

describe('partial batch response rules', () => {
  for (const response of [null, undefined, [], {}, { batchItemFailures: [] }, { batchItemFailures: null }, { other: 1 }]) {
    it(`treats ${JSON.stringify(response)} as success`, () => {
      assert.deepEqual(readBatchResponse(response, batch, true), { kind: 'success' });
    });
  }
  for (const failures of [[{ itemIdentifier: '' }], [{ itemIdentifier: null }], [{ itemIdentifier: 123 }], [{ foo: batch[0] }], [{ itemIdentifier: '5' }]]) {
    it(`treats ${JSON.stringify(failures)} as a failure of the whole batch`, () => {
      assert.equal(readBatchResponse({ batchItemFailures: failures }, batch, true).kind, 'failure');
    });
  }
  it('rewinds to the numerically lowest identifier, not the lexically lowest', () => {
    assert.deepEqual(readBatchResponse({ batchItemFailures: [{ itemIdentifier: batch[2] }, { itemIdentifier: batch[1] }] }, batch, true), {
      kind: 'partial',
      seq: batch[1],
    });
  });
  it('ignores the response when ReportBatchItemFailures is off', () => {
    assert.deepEqual(readBatchResponse({ batchItemFailures: [{ itemIdentifier: batch[0] }] }, batch, false), { kind: 'success' });
  });
});

describe('shard lineage', () => {
  const shards = [{ shardId: 'a' }, { shardId: 'b', parentShardId: 'a' }, { shardId: 'c', parentShardId: 'a' }, { shardId: 'd', parentShardId: 'b' }, { shardId: 'e', parentShardId: 'gone' }];
  it('starts roots and shards whose parent was trimmed, and holds children back', () => {
    assert.deepEqual(shardsReadyToStart(shards, new Set(), new Set()).map((s) => s.shardId), ['a', 'e']);
  });
  it('starts children only after their parent is drained', () => {
    assert.deepEqual(shardsReadyToStart(shards, new Set(['a', 'e']), new Set()).map((s) => s.shardId), []);
    assert.deepEqual(shardsReadyToStart(shards, new Set(['a', 'e']), new Set(['a'])).map((s) => s.shardId), ['b', 'c']);
    assert.deepEqual(shardsReadyToStart(shards, new Set(['a', 'b', 'c', 'e']), new Set(['a', 'b'])).map((s) => s.shardId), ['d']);
  });
});
