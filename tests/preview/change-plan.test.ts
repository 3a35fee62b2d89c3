import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { policies } from '../../policies/rules';
import { parsePreviewFlags, preview, PreviewOptions } from '../../preview/main';
import type { MockedResource } from '../../preview/mocks';
import { Change, ChangePlanner } from '../../preview/plan-diff';

const ROOT = resolve(__dirname, '../..');
const FIXTURE = join(ROOT, 'tests/fixtures/change-program');
const STACKS = join(ROOT, 'tests/fixtures/stacks');

interface Report {
  changePlan: {
    base: string;
    summary: Record<'create' | 'update' | 'replace' | 'delete' | 'same', number>;
    dangerous: number;
    changes: { op: string; type: string; name: string; group: string; reasons: string[]; retained: boolean; protected: boolean; risk?: string; oldUrn?: string }[];
  };
}

describe('change plan (npm run preview -- --base)', function () {
  this.timeout(120_000);
  let scratch: string;
  let allAdvisory: string;

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'change-plan-'));
    // The fixture program breaks most rules of the pack on purpose; its exit codes should come from the plan.
    allAdvisory = join(scratch, 'advisory.json');
    writeFileSync(allAdvisory, JSON.stringify(Object.fromEntries(policies.map((p) => [p.name, 'advisory']))));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  async function plan(opts: Partial<PreviewOptions> & { base: string }) {
    let text = '';
    const code = await preview({ stack: 'dev', dir: ROOT, json: true, ...opts }, (t) => (text += t));
    return { code, report: JSON.parse(text) as Report };
  }
  const fixture = (stack: string, base = 'base') => plan({ dir: FIXTURE, stack, base: join(FIXTURE, `Pulumi.${base}.yaml`), policyConfig: allAdvisory });
  const dev = (stackFile: string, base = 'users-two-regions') => plan({ stackFile: join(STACKS, `${stackFile}.yaml`), base: join(STACKS, `${base}.yaml`) });
  const ops = (r: Report) => r.changePlan.changes.map((c) => `${c.op} ${c.type} ${c.name}`).sort();

  describe('a retained resource replaced under its own name (the provider deletes before replacing; retainOnDelete skips the delete)', () => {
    const PROVIDER_EU = 'urn:pulumi:dev::p::pulumi:providers:aws::eu';
    const resource = (type: string, name: string, inputs: Record<string, unknown>, opts: Partial<MockedResource> = {}): MockedResource => ({
      type,
      name,
      urn: `urn:pulumi:dev::p::${type}::${name}`,
      inputs,
      wireInputs: inputs,
      state: inputs,
      id: `${name}-id`,
      region: 'us-east-1',
      custom: true,
      protect: false,
      retainOnDelete: true,
      deleteBeforeReplace: false,
      aliases: [],
      ignoreChanges: [],
      replaceOnChanges: [],
      ...opts,
    });
    /** The change the planner decides for one resource of the base declared again as `now`. */
    const decide = (base: MockedResource, now: MockedResource): Change => {
      const planner = new ChangePlanner([base]);
      const { state: _s, id: _i, wireOutputs: _w, ...registration } = now;
      planner.existing(registration);
      const [c] = planner.result();
      return c!;
    };
    const TABLE = 'aws:dynamodb/table:Table';
    const QUEUE = 'aws:sqs/queue:Queue';

    it('fails on an explicitly named table or queue replaced under the same name', () => {
      const table = decide(resource(TABLE, 't', { name: 'Orders', hashKey: 'id' }), resource(TABLE, 't', { name: 'Orders', hashKey: 'orderId' }));
      assert.deepEqual([table.op, table.retained], ['replace', true]);
      assert.match(table.risk!, /^replaces retained table Orders under the same name: .*fix: give the replacement a new name/);
      const queue = decide(resource(QUEUE, 'q', { name: 'orders-dlq' }), resource(QUEUE, 'q', { name: 'orders-dlq', fifoQueue: true }));
      assert.match(queue.risk!, /^replaces retained queue orders-dlq under the same name/);
      const role = decide(resource('aws:iam/role:Role', 'r', { name: 'orders-role', path: '/' }), resource('aws:iam/role:Role', 'r', { name: 'orders-role', path: '/svc/' }));
      assert.match(role.risk!, /^replaces retained aws:iam\/role:Role orders-role under the same name/, 'any explicitly named AWS resource');
    });

    it('reports it as retained, without risk, when the name changes, the provider names it, or it moves to another region', () => {
      const renamed = decide(resource(TABLE, 't', { name: 'Orders', hashKey: 'id' }), resource(TABLE, 't', { name: 'Purchases', hashKey: 'id' }));
      const autonamed = decide(resource(QUEUE, 'q', {}), resource(QUEUE, 'q', { fifoQueue: true }));
      const moved = decide(resource(TABLE, 't', { name: 'Orders', hashKey: 'id' }), resource(TABLE, 't', { name: 'Orders', hashKey: 'id' }, { region: 'eu-west-1', providerUrn: PROVIDER_EU }));
      for (const c of [renamed, autonamed, moved]) assert.deepEqual([c.op, c.retained, c.risk], ['replace', true, undefined], JSON.stringify(c));
    });

    it('leaves a replacement that deletes the old one to the data-loss check', () => {
      const c = decide(resource(TABLE, 't', { name: 'Orders', hashKey: 'id' }, { retainOnDelete: false }), resource(TABLE, 't', { name: 'Orders', hashKey: 'orderId' }, { retainOnDelete: false }));
      assert.match(c.risk!, /^replaces table Orders: its items are lost/);
      assert.doesNotMatch(c.risk!, /under the same name/);
    });
  });

  describe('on a small program, one difference at a time', () => {
    it('replaces a table whose name changes under the same logical name, and fails', async () => {
      const { code, report } = await fixture('renamed');
      assert.equal(code, 1);
      assert.deepEqual(ops(report), ['replace aws:dynamodb/table:Table orders-table']);
      const [table] = report.changePlan.changes;
      assert.deepEqual(table!.reasons, ['name: "Orders" -> "Purchases"']);
      assert.match(table!.risk!, /^replaces table Orders: its items are lost/);
      assert.equal(table!.group, 'us-east-1');
      assert.deepEqual(report.changePlan.summary, { create: 0, update: 0, replace: 1, delete: 0, same: 4 });
    });

    it('updates in place what is not replace-on-change, and passes', async () => {
      const { code, report } = await fixture('retagged');
      assert.equal(code, 0);
      assert.deepEqual(ops(report), ['update aws:dynamodb/table:Table orders-table', 'update aws:sqs/queue:Queue orders-dlq']);
      assert.deepEqual(report.changePlan.changes.find((c) => c.type === 'aws:sqs/queue:Queue')!.reasons, ['messageRetentionSeconds: 1209600 -> 345600']);
    });

    it('honours ignoreChanges', async () => {
      const { code, report } = await fixture('retagged-ignored');
      assert.equal(code, 0);
      assert.deepEqual(ops(report), []);
    });

    it('fails on a deleted queue, and reports a queue the program retains as retained', async () => {
      const deleted = await fixture('queue-removed');
      assert.equal(deleted.code, 1);
      assert.deepEqual(ops(deleted.report), ['delete aws:sqs/queue:Queue orders-dlq']);
      assert.match(deleted.report.changePlan.changes[0]!.risk!, /^deletes queue orders-dlq: failed batches waiting in it are lost/);

      const retained = await fixture('queue-removed', 'retained');
      assert.equal(retained.code, 0);
      assert.deepEqual(ops(retained.report), ['delete aws:sqs/queue:Queue orders-dlq']);
      assert.equal(retained.report.changePlan.changes[0]!.retained, true);
      assert.equal(retained.report.changePlan.changes[0]!.risk, undefined);
    });

    it('treats a renamed component as new resources unless an alias names the old one, whose children inherit it', async () => {
      const renamed = await fixture('group-renamed');
      assert.equal(renamed.code, 1);
      assert.deepEqual(renamed.report.changePlan.summary, { create: 5, update: 0, replace: 0, delete: 5, same: 0 });
      assert.deepEqual(renamed.report.changePlan.changes.filter((c) => c.risk).map((c) => c.name).sort(), ['orders-dlq', 'orders-table']);

      const aliased = await fixture('group-aliased');
      assert.equal(aliased.code, 0);
      assert.deepEqual(aliased.report.changePlan.summary, { create: 0, update: 0, replace: 0, delete: 0, same: 5 });
    });

    it('fails on replacing a protected table: pulumi up would refuse', async () => {
      const { code, report } = await fixture('protected-rekeyed', 'protected');
      assert.equal(code, 1);
      const [table] = report.changePlan.changes;
      assert.equal(table!.op, 'replace');
      assert.equal(table!.protected, true);
      assert.match(table!.risk!, /it is protected: `pulumi up` refuses to replace it/);
      assert.equal(table!.reasons[0], 'hashKey: "id" -> "orderId"');
    });

    it('replaces a table whose key attribute changes type, which DynamoDB cannot do in place', async () => {
      const { code, report } = await fixture('retyped');
      assert.equal(code, 1);
      assert.deepEqual(report.changePlan.changes.map((c) => [c.op, c.reasons[0]]), [['replace', 'key attribute id type S -> N']]);
    });

    it("replaces regional resources when their provider's region changes, but not global ones (IAM), and updates the provider", async () => {
      const { code, report } = await fixture('moved');
      assert.equal(code, 1);
      assert.deepEqual(ops(report), ['replace aws:dynamodb/table:Table orders-table', 'replace aws:sqs/queue:Queue orders-dlq', 'update pulumi:providers:aws orders-provider']);
      for (const c of report.changePlan.changes.filter((c) => c.op === 'replace')) assert.deepEqual([c.reasons, c.group], [['region us-east-1 -> eu-west-1'], 'eu-west-1']);
    });

    it('keeps resources that move to another provider of the same region: its DiffConfig forces no replacement', async () => {
      const { code, report } = await fixture('provider-renamed');
      assert.equal(code, 0);
      assert.deepEqual(ops(report), ['create pulumi:providers:aws orders-regional', 'delete pulumi:providers:aws orders-provider']);
    });
  });

  describe('on the stack program, with fixture stack files', () => {
    const STATEFUL = ['aws:dynamodb/table:Table', 'aws:sqs/queue:Queue', 'aws:sns/topic:Topic', 'aws:sns/topicSubscription:TopicSubscription'];
    const stateful = (r: Report) => r.changePlan.changes.filter((c) => STATEFUL.includes(c.type) && (c.op === 'replace' || c.op === 'delete'));

    it('a failover replaces and deletes nothing: only the mappings switch, in place, and it passes', async () => {
      const { code, report } = await dev('users-failover');
      assert.equal(code, 0);
      assert.deepEqual(report.changePlan.changes.map((c) => [c.op, c.name, c.reasons]).sort(), [
        ['update', 'Users-eu-west-1-link0-esm', ['enabled: false -> true']],
        ['update', 'Users-us-east-1-link0-esm', ['enabled: true -> false']],
        ['update', 'Users-us-east-1-link1-esm', ['enabled: true -> false']],
      ]);
    });

    it('a table rename is a new table in every region: the old tables are retained, and it fails until they are unprotected', async () => {
      const { code, report } = await dev('users-renamed');
      assert.equal(code, 1);
      const tables = report.changePlan.changes.filter((c) => c.type === 'aws:dynamodb/table:Table' && c.op === 'delete');
      assert.deepEqual(tables.map((c) => c.name).sort(), ['ap-southeast-2', 'eu-west-1', 'us-east-1'].flatMap((r) => [`Users-${r}-state`, `Users-${r}-table`]));
      assert.ok(tables.every((c) => c.retained && c.protected && /pulumi state unprotect '.*'`; then it leaves the stack and stays in AWS/.test(c.risk!)));
      assert.ok(stateful(report).every((c) => c.retained), 'queues, topics and subscriptions are kept too');
    });

    it('a new partition key replaces each table, and the mappings that read their new streams', async () => {
      const { code, report } = await dev('users-rekeyed');
      assert.equal(code, 1);
      assert.deepEqual(report.changePlan.changes.filter((c) => c.op === 'replace').map((c) => `${c.type} ${c.name}`).sort(), [
        'aws:dynamodb/table:Table Users-ap-southeast-2-table',
        'aws:dynamodb/table:Table Users-eu-west-1-table',
        'aws:dynamodb/table:Table Users-us-east-1-table',
        ...['ap-southeast-2-link0', 'ap-southeast-2-link1', 'eu-west-1-link0', 'us-east-1-link0', 'us-east-1-link1'].map((l) => `aws:lambda/eventSourceMapping:EventSourceMapping Users-${l}-esm`),
      ]);
      const esm = report.changePlan.changes.find((c) => c.name === 'Users-us-east-1-link1-esm')!;
      assert.match(esm.reasons[0]!, /^eventSourceArn: "arn:aws:dynamodb:us-east-1:.*-> \(known after apply\)$/);
      assert.ok(report.changePlan.changes.filter((c) => c.type === 'aws:dynamodb/table:Table').every((c) => /it is protected: `pulumi up` refuses to replace it/.test(c.risk!)));
      assert.ok(report.changePlan.changes.filter((c) => c.type === 'aws:dynamodb/table:Table').every((c) => /replaces retained table Users under the same name/.test(c.risk!)), 'unprotecting them would not be enough');
    });

    it('a new partition key on an unprotected (scratch) stack fails too: each retained table would be created again under the name the old one keeps', async () => {
      // Deletion protection off is a mandatory violation of the pack; advisory here, so the exit code is the plan's.
      const scratchPolicies = join(scratch, 'scratch-policies.json');
      writeFileSync(scratchPolicies, JSON.stringify({ 'dynamodb-table-deletion-protection': 'advisory' }));
      const { code, report } = await plan({ stackFile: join(STACKS, 'users-scratch-rekeyed.yaml'), base: join(STACKS, 'users-scratch.yaml'), policyConfig: scratchPolicies });
      assert.equal(code, 1);
      const tables = report.changePlan.changes.filter((c) => c.type === 'aws:dynamodb/table:Table');
      assert.deepEqual(tables.map((c) => [c.op, c.name, c.retained, c.protected]).sort(), ['ap-southeast-2', 'eu-west-1', 'us-east-1'].map((r) => ['replace', `Users-${r}-table`, true, false]));
      for (const t of tables) {
        assert.match(
          t.risk!,
          /^replaces retained table Users under the same name: the AWS provider deletes an explicitly named resource before creating its replacement, retainOnDelete skips that delete, so creating Users again fails at `pulumi up` \(it already exists\); fix: give the replacement a new name, or delete the old one in AWS and run `pulumi state delete 'urn:pulumi:dev::ddb-replicator::.*::Users-[a-z0-9-]+-table'` first if what it holds may go$/,
        );
      }
      assert.equal(report.changePlan.dangerous, 3, 'the mappings replaced with them hold nothing');
    });

    it('a changed alarm threshold updates exactly those alarms, and passes', async () => {
      const { code, report } = await dev('users-iterator-age-30s');
      assert.equal(code, 0);
      assert.deepEqual(
        report.changePlan.changes.map((c) => [c.op, c.name, c.reasons]).sort(),
        ['ap-southeast-2-link0', 'ap-southeast-2-link1', 'eu-west-1-link0', 'us-east-1-link0', 'us-east-1-link1'].map((l) => ['update', `Users-${l}-iterator-age`, ['threshold: 60000 -> 30000']]),
      );
    });

    it('an added region only creates, and updates the links that now also write to it; nothing stateful changes, and it passes', async () => {
      const { code, report } = await dev('users-three-regions');
      assert.equal(code, 0);
      assert.deepEqual(stateful(report), []);
      assert.deepEqual([...new Set(report.changePlan.changes.filter((c) => c.op !== 'create').map((c) => `${c.op} ${c.type}`))].sort(), ['update aws:iam/rolePolicy:RolePolicy', 'update aws:lambda/function:Function']);
      const where = (name: string) => report.changePlan.changes.find((c) => c.name === name)?.group;
      assert.deepEqual([where('Users-us-west-2-table'), where('Users-us-west-2-link0-dlq'), where('Users-us-west-2-link0-role'), where('Users-us-west-2')], ['us-west-2', 'us-west-2', 'global', 'components']);
    });

    it("a removed region keeps its tables, state tables, DLQs, topic and subscription (retained); the protected tables must be unprotected first", async () => {
      const { code, report } = await dev('users-one-region');
      assert.equal(code, 1);
      const kept = stateful(report);
      assert.ok(kept.length >= 6 && kept.every((c) => c.op === 'delete' && c.retained), JSON.stringify(kept.filter((c) => !c.retained)));
      assert.deepEqual(report.changePlan.changes.filter((c) => c.risk).map((c) => c.name).sort(), ['Users-ap-southeast-2-state', 'Users-ap-southeast-2-table']);
    });

    it('prints the plan grouped by region, with what changes and why', async () => {
      let text = '';
      const code = await preview({ stack: 'dev', dir: ROOT, json: false, stackFile: join(STACKS, 'users-rekeyed.yaml'), base: join(STACKS, 'users-two-regions.yaml') }, (t) => (text += t));
      assert.equal(code, 1);
      assert.match(text, /^Changes from the base \(.*users-two-regions\.yaml\): 0 to create, 15 to update, 8 to replace, 0 to delete, 88 unchanged\n/);
      assert.match(text, /\neu-west-1\n(?: {2}~ update .*\n {8}.*\n)* {2}\+-replace {2}aws:dynamodb\/table:Table {2}Users-eu-west-1-table  \[retained: the program keeps it \(retainOnDelete\)\]\n {8}hashKey: "userId" -> "accountId"\n/);
      assert.match(text, /\n {8}ERROR: it is protected: `pulumi up` refuses to replace it; replaces retained table Users under the same name: .* fails at `pulumi up` \(it already exists\); fix: give the replacement a new name, .*\n/);
      assert.match(text, /\nglobal\n {2}~ update {3}aws:iam\/rolePolicy:RolePolicy/);
      assert.match(text, /3 change\(s\) would lose data or alerting, or fail/);
      assert.match(text, /Offline preview of ddb-replicator, stack dev: \d+ resources \(as `pulumi preview` of this change/);
    });
  });

  describe('with a git ref as the base', () => {
    let repo: string;
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { stdio: 'pipe' });

    before(() => {
      repo = join(scratch, 'repo');
      execFileSync('git', ['init', '-q', repo]);
      for (const f of ['Pulumi.yaml', 'index.ts']) copyFileSync(join(FIXTURE, f), join(repo, f));
      copyFileSync(join(FIXTURE, 'Pulumi.base.yaml'), join(repo, 'Pulumi.dev.yaml'));
      symlinkSync(join(ROOT, 'node_modules'), join(repo, 'node_modules'));
      git('add', 'Pulumi.yaml', 'index.ts', 'Pulumi.dev.yaml');
      git('-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-q', '-m', 'base');
      copyFileSync(join(FIXTURE, 'Pulumi.renamed.yaml'), join(repo, 'Pulumi.dev.yaml'));
      copyFileSync(join(FIXTURE, 'Pulumi.base.yaml'), join(repo, 'Pulumi.fresh.yaml'));
    });

    it("reads the stack file as committed at the ref (git show REF:./Pulumi.NAME.yaml)", async () => {
      const { code, report } = await plan({ dir: repo, base: 'HEAD', policyConfig: allAdvisory });
      assert.equal(code, 1);
      assert.equal(report.changePlan.base, 'HEAD:Pulumi.dev.yaml');
      assert.deepEqual(ops(report), ['replace aws:dynamodb/table:Table orders-table']);
    });

    it('plans the program as committed at the ref too: a code change that renames a resource shows as its delete and create', async () => {
      const index = join(repo, 'index.ts');
      const committed = readFileSync(index, 'utf8');
      copyFileSync(join(FIXTURE, 'Pulumi.base.yaml'), join(repo, 'Pulumi.dev.yaml'));
      writeFileSync(index, committed.replace('`${name}-dlq`', '`${name}-failed-batches`'));
      try {
        const { code, report } = await plan({ dir: repo, base: 'HEAD', policyConfig: allAdvisory });
        assert.equal(code, 1);
        assert.deepEqual(ops(report), ['create aws:sqs/queue:Queue orders-failed-batches', 'delete aws:sqs/queue:Queue orders-dlq']);
        assert.match(report.changePlan.changes.find((c) => c.op === 'delete')!.risk!, /^deletes queue /);
      } finally {
        writeFileSync(index, committed);
        copyFileSync(join(FIXTURE, 'Pulumi.renamed.yaml'), join(repo, 'Pulumi.dev.yaml'));
      }
    });

    it('plans a stack the ref does not have yet as all creates', async () => {
      const { code, report } = await plan({ dir: repo, stack: 'fresh', base: 'HEAD', policyConfig: allAdvisory });
      assert.equal(code, 0);
      assert.match(report.changePlan.base, /^HEAD has no Pulumi\.fresh\.yaml: the stack is new/);
      assert.deepEqual(report.changePlan.summary, { create: 5, update: 0, replace: 0, delete: 0, same: 0 });
    });

    it('names the fix for a bad base, and exits 2 with one line', async () => {
      await assert.rejects(plan({ dir: repo, base: 'origin/no-such-branch' }), /^Error: --base origin\/no-such-branch: no such file, and git knows no such ref: fetch it first \(git fetch origin no-such-branch\) or give a stack file$/);
      await assert.rejects(plan({ dir: scratch, stack: 'x', base: 'main' }), /--base main: no such file, and .* is not in a git repository: give a stack file, or a git ref of the program's repository/);
      assert.throws(() => parsePreviewFlags(['--base', 'HEAD', '--assume-created']), /--base and --assume-created cannot be combined/);
      const invalid = join(scratch, 'invalid-base.yaml');
      writeFileSync(invalid, 'config:\n  ddb-replicator:tables: []\n');
      await assert.rejects(plan({ base: invalid }), /^Error: the base config .*invalid-base\.yaml does not run with this program: invalid ddb-replicator stack configuration/);
      const cli = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'preview/main.ts'), '--dir', repo, '--base', 'no-such-ref'], { encoding: 'utf8', cwd: ROOT });
      assert.equal(cli.status, 2, cli.stderr);
      assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
      assert.match(cli.stderr, /^--base no-such-ref: no such file, and git knows no such ref/);
    });
  });
});
