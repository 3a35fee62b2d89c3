import { strict as assert } from 'node:assert';
import { backfillWorkerBundle, BACKFILL_WORKER_TIMEOUT_SECONDS } from '../../components/backfill-worker';
import { ReplicatedTable } from '../../components/replicated-table';
import type { ReplicatedTableArgs } from '../../components/replicated-table-args';
import { ofType, RecordedResource, settled, useMocks } from '../support/pulumi-mocks';

const TABLE = {
  name: 'Users',
  partitionKey: { name: 'userId', type: 'S' },
  sortKey: { name: 'at', type: 'N' },
  primaryRegion: 'us-east-1',
  replicaRegions: ['eu-west-1', 'ap-southeast-2'],
  ttlAttribute: 'expiresAt',
  tags: { team: 'identity' },
} as const satisfies ReplicatedTableArgs;

async function deploy(): Promise<RecordedResource[]> {
  const recorded = useMocks();
  new ReplicatedTable(TABLE.name, { ...TABLE, replicaRegions: [...TABLE.replicaRegions] });
  await settled();
  return recorded;
}

const FN = 'aws:lambda/function:Function';
/** IAM is global: a role policy's link is named by its source region. */
const sourceRegionOf = (p: RecordedResource) => /^Users-([a-z]+-[a-z]+-\d)-/.exec(p.name)![1]!;
const env = (f: RecordedResource) => f.inputs.environment.variables as Record<string, string>;

describe('BackfillWorker (Pulumi mocks)', function () {
  this.timeout(30_000);

  it('deploys one worker beside each replication link, for the link\'s targets, in its region', async () => {
    const r = await deploy();
    const links = ofType(r, FN).filter((f) => /-link\d-fn$/.test(f.name));
    const workers = ofType(r, FN).filter((f) => f.name.endsWith('-backfill-fn'));
    assert.equal(workers.length, links.length);
    for (const link of links) {
      const w = workers.find((x) => x.name === link.name.replace(/-fn$/, '-backfill-fn'))!;
      assert.equal(w.region, link.region);
      assert.equal(w.inputs.name, `${link.inputs.name}-backfill`);
      assert.equal(env(w).REPLICA_TARGETS, env(link).REPLICA_TARGETS, 'it writes where its link writes');
      assert.deepEqual([env(w).STATE_TABLE, env(w).SOURCE_TABLE, env(w).KEY_ATTRIBUTES, env(w).TTL_ATTRIBUTE], ['Users.replication', 'Users', '["userId","at"]', 'expiresAt']);
      assert.deepEqual([w.inputs.runtime, w.inputs.architectures, w.inputs.timeout, w.inputs.memorySize], ['nodejs22.x', ['arm64'], BACKFILL_WORKER_TIMEOUT_SECONDS, 1024]);
    }
  });

  it('grants least privilege with exact ARNs: scan its own table, write its targets, checkpoint in its state table', async () => {
    const r = await deploy();
    const policies = ofType(r, 'aws:iam/rolePolicy:RolePolicy').filter((p) => p.name.endsWith('-backfill-policy'));
    assert.ok(policies.length >= 3);
    for (const p of policies) {
      const region = sourceRegionOf(p);
      const doc = JSON.parse(p.inputs.policy);
      const byId = Object.fromEntries(doc.Statement.map((s: { Sid: string }) => [s.Sid, s]));
      assert.deepEqual(Object.keys(byId), ['ReadSourceItems', 'WriteReplicaItems', 'KeepCheckpoints', 'WriteLogs']);
      assert.deepEqual(byId.ReadSourceItems.Action, ['dynamodb:Scan', 'dynamodb:GetItem']);
      assert.deepEqual(byId.ReadSourceItems.Resource, [`arn:aws:dynamodb:${region}:123456789012:table/Users`]);
      assert.deepEqual(byId.WriteReplicaItems.Action, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']);
      for (const arn of byId.WriteReplicaItems.Resource) assert.match(arn, new RegExp(`^arn:aws:dynamodb:(?!${region})[a-z0-9-]+:123456789012:table/Users$`));
      assert.deepEqual(byId.KeepCheckpoints, { Sid: 'KeepCheckpoints', Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: [`arn:aws:dynamodb:${region}:123456789012:table/Users.replication`] });
      for (const s of doc.Statement) for (const x of [...s.Action, ...s.Resource]) assert.ok(!x.includes('*') || x.endsWith(':*'), `no wildcard: ${x}`);
    }
  });

  it('bundles the worker with esbuild, without any Pulumi code', () => {
    const bundle = backfillWorkerBundle();
    assert.ok(!/@pulumi|pulumi\.runtime/.test(bundle.code));
    assert.match(bundle.code, /KEY_ATTRIBUTES/);
    console.log(`      backfill worker bundle: ${(bundle.bytes / 1024).toFixed(0)} KiB`);
  });
});
