import { strict as assert } from 'node:assert';
import { ConfigError, parseConfig } from '../../handlers/config';

const targets = JSON.stringify([{ region: 'eu-west-1', tableName: 'Users' }]);
/** What Lambda and the component always set. */
const base = { AWS_REGION: 'us-east-1', STATE_TABLE: 'Users.replication' };

describe('handler configuration', () => {
  it('applies the documented defaults', () => {
    const c = parseConfig({ ...base, REPLICA_TARGETS: targets });
    assert.deepEqual(c, {
      targets: [{ region: 'eu-west-1', tableName: 'Users' }],
      state: { region: 'us-east-1', tableName: 'Users.replication' },
      ttlAttribute: undefined,
      fenceCacheMs: 10_000,
      conflictPolicy: 'source-wins',
      replicateTtlDeletes: true,
      metricsNamespace: undefined,
      maxConcurrency: 256,
    });
  });

  it('reads every variable', () => {
    const c = parseConfig({
      ...base,
      TTL_ATTRIBUTE: 'expiresAt',
      REPLICA_TARGETS: JSON.stringify([{ region: 'eu-west-1', tableName: 'Users' }, { region: 'ap-southeast-2', tableName: 'Users' }]),
      CONFLICT_POLICY: 'keep-replica',
      REPLICATE_TTL_DELETES: 'FALSE',
      METRICS_NAMESPACE: 'Replication',
      MAX_CONCURRENCY: '16',
    });
    assert.equal(c.targets.length, 2);
    assert.equal(c.conflictPolicy, 'keep-replica');
    assert.equal(c.replicateTtlDeletes, false);
    assert.equal(c.metricsNamespace, 'Replication');
    assert.equal(c.maxConcurrency, 16);
    assert.equal(c.ttlAttribute, 'expiresAt');
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ['missing targets', {}, /REPLICA_TARGETS is not set: set it to a JSON array/],
    ['targets not JSON', { REPLICA_TARGETS: '[{' }, /REPLICA_TARGETS is not valid JSON/],
    ['empty targets', { REPLICA_TARGETS: '[]' }, /must be a non-empty JSON array/],
    ['bad region', { REPLICA_TARGETS: '[{"region":"Europe","tableName":"Users"}]' }, /REPLICA_TARGETS\[0\]\.region is "Europe": use an AWS region name/],
    ['bad table', { REPLICA_TARGETS: '[{"region":"eu-west-1","tableName":"a"}]' }, /REPLICA_TARGETS\[0\]\.tableName is "a": use a DynamoDB table name/],
    ['repeated target', { REPLICA_TARGETS: '[{"region":"eu-west-1","tableName":"Users"},{"region":"eu-west-1","tableName":"Users"}]' }, /lists eu-west-1\/Users twice/],
    ['bad policy', { REPLICA_TARGETS: targets, CONFLICT_POLICY: 'last-writer' }, /CONFLICT_POLICY is "last-writer": use one of source-wins, keep-replica/],
    ['bad boolean', { REPLICA_TARGETS: targets, REPLICATE_TTL_DELETES: 'yes' }, /REPLICATE_TTL_DELETES is "yes": use true or false/],
    ['bad concurrency', { REPLICA_TARGETS: targets, MAX_CONCURRENCY: '0' }, /MAX_CONCURRENCY is "0": use a whole number from 1 to 1000/],
    ['missing state table', { REPLICA_TARGETS: targets, STATE_TABLE: '' }, /STATE_TABLE is "": set it to the replication state table's name/],
    ['missing region', { REPLICA_TARGETS: targets, AWS_REGION: '' }, /AWS_REGION is "": run in Lambda, which sets it/],
    ['bad fence cache', { REPLICA_TARGETS: targets, FENCE_CACHE_SECONDS: '-1' }, /FENCE_CACHE_SECONDS is "-1": use a whole number of seconds from 0 to 300/],
  ];
  for (const [name, env, message] of bad) {
    it(`rejects ${name} with a message naming the fix`, () => {
      assert.throws(() => parseConfig({ ...base, ...env }), (err: Error) => err instanceof ConfigError && message.test(err.message));
    });
  }
});
