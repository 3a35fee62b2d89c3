import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseStackConfig, StackConfigError } from '../../config/parse';
import { listStacks, loadStackModel } from '../../config/stack-file';

const users = () => ({ name: 'Users', partitionKey: { name: 'userId', type: 'S' }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1', 'ap-southeast-2'] });
const problemsOf = (tables: unknown, extra: Record<string, unknown> = {}): string[] => {
  try {
    parseStackConfig({ tables, ...extra });
  } catch (err) {
    assert.ok(err instanceof StackConfigError);
    return err.problems;
  }
  assert.fail('expected a StackConfigError');
};

describe('stack configuration parser', () => {
  it('fills in every documented default', () => {
    assert.deepEqual(parseStackConfig({ tables: [users()] }), {
      tables: [
        {
          ...users(),
          linkSlots: {},
          globalSecondaryIndexes: [],
          billing: { mode: 'PAY_PER_REQUEST' },
          conflictPolicy: 'source-wins',
          replicateTtlDeletes: true,
          stream: { batchSize: 100, batchingWindowSeconds: 0, maximumRetryAttempts: 10, maximumRecordAgeSeconds: 3600, parallelizationFactor: 1 },
          alarms: { iteratorAgeMs: 60_000, replicationLatencyMs: 120_000, conflicts: 0 },
          lambda: { memoryMb: 1024, timeoutSeconds: 60 },
          deletionProtection: true,
          tags: {},
        },
      ],
      alarmEmail: undefined,
      metricsNamespace: 'DdbReplicator',
    });
  });

  it('reads a fully specified table, accepting numbers and booleans written as strings', () => {
    const model = parseStackConfig({
      tables: [
        {
          ...users(),
          sortKey: { name: 'createdAt', type: 'N' },
          globalSecondaryIndexes: [{ name: 'byEmail', partitionKey: { name: 'email', type: 'S' }, projectionType: 'INCLUDE', nonKeyAttributes: ['name'], readCapacity: 2 }],
          billingMode: 'PROVISIONED',
          readCapacity: '5',
          writeCapacity: 10,
          ttlAttribute: 'expiresAt',
          conflictPolicy: 'keep-replica',
          replicateTtlDeletes: 'false',
          stream: { batchSize: 500, batchingWindowSeconds: 1, maximumRetryAttempts: 3, maximumRecordAgeSeconds: 600, parallelizationFactor: 2 },
          alarms: { iteratorAgeMs: 1000, replicationLatencyMs: 2000, conflicts: 5 },
          lambda: { memoryMb: 1024, timeoutSeconds: 120 },
          deletionProtection: false,
          tags: { team: 'identity' },
        },
      ],
      alarmEmail: 'oncall@example.com',
      metricsNamespace: 'Acme/Replication',
    });
    const t = model.tables[0]!;
    assert.deepEqual(t.billing, { mode: 'PROVISIONED', readCapacity: 5, writeCapacity: 10 });
    assert.deepEqual(t.globalSecondaryIndexes[0], { name: 'byEmail', partitionKey: { name: 'email', type: 'S' }, projectionType: 'INCLUDE', nonKeyAttributes: ['name'], readCapacity: 2 });
    assert.equal(t.replicateTtlDeletes, false);
    assert.equal(t.stream.parallelizationFactor, 2);
    assert.equal(t.deletionProtection, false);
    assert.equal(model.alarmEmail, 'oncall@example.com');
    assert.equal(model.metricsNamespace, 'Acme/Replication');
  });

  const cases: [string, unknown, RegExp][] = [
    ['no tables', [], /ddb-replicator\.tables is \[\]: list at least one table/],
    ['a missing key', [{ ...users(), primaryRegion: undefined }], /tables\[0\] \(Users\)\.primaryRegion is missing: use an AWS region name/],
    ['an unknown key, naming the known ones', [{ ...users(), replicaRegion: 'eu-west-1' }], /tables\[0\] \(Users\)\.replicaRegion is "eu-west-1": not a known table setting; known: name, partitionKey/],
    ['an unknown region, suggesting the closest', [{ ...users(), replicaRegions: ['eu-wset-1'] }], /replicaRegions\[0\] is "eu-wset-1": not an AWS region; did you mean eu-west-1\?/],
    ['a replica in the primary region', [{ ...users(), replicaRegions: ['us-east-1'] }], /replicaRegions\[0\] is "us-east-1": is the primary region/],
    ['a repeated replica region', [{ ...users(), replicaRegions: ['eu-west-1', 'eu-west-1'] }], /replicaRegions\[1\] is "eu-west-1": is listed twice/],
    ['no replica regions', [{ ...users(), replicaRegions: [] }], /replicaRegions is \[\]: list at least one region/],
    ['an invalid table name', [{ ...users(), name: 'Us' }], /tables\[0\] \(Us\)\.name is "Us": use a table name of 3 to 255 characters/],
    ['an invalid attribute name', [{ ...users(), partitionKey: { name: '', type: 'S' } }], /partitionKey\.name is "": use an attribute name of 1 to 255 characters/],
    ['a key type other than S/N/B', [{ ...users(), sortKey: { name: 'tags', type: 'SS' } }], /sortKey\.type is "SS": use one of S, N, B/],
    ['an out-of-range number', [{ ...users(), stream: { batchSize: 20000 } }], /stream\.batchSize is 20000: use a whole number from 1 to 10000/],
    ['a record age below Lambda\'s minimum', [{ ...users(), stream: { maximumRecordAgeSeconds: 30 } }], /stream\.maximumRecordAgeSeconds is 30: use a whole number from 60 to 86400/],
    ['capacity without provisioned billing', [{ ...users(), readCapacity: 5 }], /readCapacity is 5: only with billingMode PROVISIONED/],
    ['provisioned billing without capacity', [{ ...users(), billingMode: 'PROVISIONED' }], /writeCapacity is missing: use a whole number from 1 to 40000/],
    ['a bad conflict policy', [{ ...users(), conflictPolicy: 'last-writer-wins' }], /conflictPolicy is "last-writer-wins": use one of source-wins, keep-replica/],
    ['duplicate table names', [users(), users()], /lists table Users more than once/],
    ['duplicate index names', [{ ...users(), globalSecondaryIndexes: [{ name: 'byEmail', partitionKey: { name: 'e', type: 'S' } }, { name: 'byEmail', partitionKey: { name: 'f', type: 'S' } }] }], /globalSecondaryIndexes\[1\]\.name is "byEmail": is used by another index/],
    ['nonKeyAttributes without INCLUDE', [{ ...users(), globalSecondaryIndexes: [{ name: 'byEmail', partitionKey: { name: 'e', type: 'S' }, nonKeyAttributes: ['x'] }] }], /nonKeyAttributes is \["x"\]: only with projectionType INCLUDE/],
    ['a non-string tag', [{ ...users(), tags: { team: 5 } }], /tags\.team is 5: tag values are strings/],
    ['a table that is not a map', ['Users'], /tables\[0\] is "Users": use a map with name, partitionKey/],
    ['a link slot other than 0 or 1', [{ ...users(), linkSlots: { 'eu-west-1': 2 } }], /linkSlots\.eu-west-1 is 2: use 0 or 1/],
    ['a link slot for a region the table does not list', [{ ...users(), linkSlots: { 'us-west-2': 1 } }], /linkSlots\.us-west-2 is 1: us-west-2 is not a region of this table/],
    ['a key named with the replication prefix', [{ ...users(), partitionKey: { name: '__rep_id', type: 'S' } }], /partitionKey\.name is "__rep_id": names starting with __rep_ are reserved for replication metadata/],
    ['an index key named with the replication prefix', [{ ...users(), globalSecondaryIndexes: [{ name: 'byRep', partitionKey: { name: '__rep_v', type: 'S' } }] }], /globalSecondaryIndexes\[0\]\.partitionKey\.name is "__rep_v": names starting with __rep_ are reserved/],
    ['a TTL attribute named with the replication prefix', [{ ...users(), ttlAttribute: '__rep_ttl' }], /ttlAttribute is "__rep_ttl": names starting with __rep_ are reserved/],
    ['one attribute with two key types', [{ ...users(), globalSecondaryIndexes: [{ name: 'byUser', partitionKey: { name: 'userId', type: 'N' } }] }], /globalSecondaryIndexes\[0\]\.partitionKey\.type is "N": userId is type S as partitionKey; an attribute has one type/],
  ];
  for (const [name, tables, message] of cases) {
    it(`reports ${name}`, () => {
      const problems = problemsOf(tables);
      assert.ok(problems.some((p) => message.test(p)), problems.join('\n'));
    });
  }

  it('checks the alarm e-mail and the metrics namespace', () => {
    assert.match(problemsOf([users()], { alarmEmail: 'oncall' }).join('\n'), /alarmEmail is "oncall": use an e-mail address/);
    assert.match(problemsOf([users()], { metricsNamespace: 'AWS/Lambda' }).join('\n'), /metricsNamespace is "AWS\/Lambda": use 1 to 255 characters, not starting with AWS\//);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf([{ ...users(), primaryRegion: 'mars-1', stream: { batchSize: 0 } }, { name: 'x' }]);
    assert.ok(problems.length >= 4, problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('tables[1]')));
  });
});

describe('stack files', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ddb-replicator-stack-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("loads this project's dev stack", () => {
    const model = loadStackModel('dev', resolve(__dirname, '../..'));
    const [t] = model.tables;
    assert.equal(t!.name, 'Users');
    assert.equal(t!.primaryRegion, 'us-east-1');
    assert.deepEqual(t!.replicaRegions, ['eu-west-1', 'ap-southeast-2']);
    assert.equal(model.alarmEmail, 'oncall@example.com');
  });

  it('reads values wrapped in `value:`, and lists the stacks there when one is missing', () => {
    writeFileSync(join(dir, 'Pulumi.prod.yaml'), 'config:\n  ddb-replicator:tables:\n    value:\n      - name: Orders\n        partitionKey: { name: id, type: N }\n        primaryRegion: eu-west-1\n        replicaRegions: [eu-central-1]\n');
    assert.equal(loadStackModel('prod', dir).tables[0]!.partitionKey.type, 'N');
    assert.deepEqual(listStacks(dir), ['prod']);
    assert.throws(() => loadStackModel('staging', dir), /no stack file Pulumi\.staging\.yaml in .*: stacks there: prod/);
  });

  it('names the file for invalid YAML, secrets and bad stack names', () => {
    writeFileSync(join(dir, 'Pulumi.bad.yaml'), 'config: [unclosed\n');
    assert.throws(() => loadStackModel('bad', dir), /Pulumi\.bad\.yaml is not valid YAML/);
    writeFileSync(join(dir, 'Pulumi.sec.yaml'), 'config:\n  ddb-replicator:alarmEmail:\n    secure: AAAA\n');
    assert.throws(() => loadStackModel('sec', dir), /ddb-replicator:alarmEmail is a secret, which cannot be read without the Pulumi CLI/);
    assert.throws(() => loadStackModel('../etc', dir), /stack name "..\/etc" is not valid/);
  });
});
