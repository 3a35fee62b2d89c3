import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { unknownValue as UNKNOWN } from '@pulumi/pulumi/runtime/rpc';
import { AnalyzerConnection, Diagnostic } from '../support/analyzer-client';
import { startPolicyPack } from '../support/policy-pack-process';
import { analyzedInputs, ProgramRun, runStackProgram, stackProgramRun } from '../support/program-runner';

const ROOT = resolve(__dirname, '../..');
const URN = 'urn:pulumi:dev::ddb-replicator::';
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];

const ofType = (run: ProgramRun, type: string) => run.engine.registrations.filter((r) => r.type === type);
const named = (run: ProgramRun, name: string) => run.engine.registrations.find((r) => r.name === name)!;
const errors = (run: ProgramRun) => run.engine.logs.filter((l) => l.severity === 'error').map((l) => l.message);

/** AWS's limits on the physical names this program sets: length and characters allowed. */
const PHYSICAL_NAME_LIMITS: Record<string, { max: number; chars: RegExp }> = {
  'aws:dynamodb/table:Table': { max: 255, chars: /^[A-Za-z0-9_.-]{3,}$/ },
  'aws:lambda/function:Function': { max: 64, chars: /^[A-Za-z0-9_-]+$/ },
  'aws:iam/role:Role': { max: 64, chars: /^[A-Za-z0-9+=,.@_-]+$/ },
  'aws:iam/rolePolicy:RolePolicy': { max: 128, chars: /^[A-Za-z0-9+=,.@_-]+$/ },
  'aws:sqs/queue:Queue': { max: 80, chars: /^[A-Za-z0-9_-]+$/ },
  'aws:sns/topic:Topic': { max: 256, chars: /^[A-Za-z0-9_-]+$/ },
  'aws:cloudwatch/metricAlarm:MetricAlarm': { max: 255, chars: /^[\x20-\x7e]+$/ },
  'aws:cloudwatch/logGroup:LogGroup': { max: 512, chars: /^[A-Za-z0-9_\-/.#]+$/ },
};
/** Types the provider would auto-name (adding a random suffix) if the program gave no name. */
const EXPLICITLY_NAMED = ['aws:dynamodb/table:Table', 'aws:lambda/function:Function', 'aws:iam/role:Role', 'aws:sqs/queue:Queue', 'aws:sns/topic:Topic', 'aws:cloudwatch/metricAlarm:MetricAlarm', 'aws:cloudwatch/logGroup:LogGroup'];

/** What every run of the dev stack registers, whatever the outputs: the shape of the plan. */
function assertDevStackShape(run: ProgramRun): void {
  assert.deepEqual(errors(run), [], run.stderr);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.engine.unanswered, [], 'every request the program made was answered');
  assert.ok(ofType(run, 'pulumi:pulumi:Stack').some((s) => s.urn === `${URN}pulumi:pulumi:Stack::ddb-replicator-dev`));
  // One provider serves every region: the stack's default (aws:* config), which the program does not register; each resource names its region.
  assert.deepEqual(ofType(run, 'pulumi:providers:aws'), []);
  assert.deepEqual(run.engine.registrations.filter((r) => r.custom && r.provider !== ''), [], 'no explicit provider');
  for (const region of REGIONS) {
    const table = named(run, `Users-${region}-table`);
    assert.equal(table.urn, `${URN}ddb-replicator:index:ReplicatedTable$ddb-replicator:index:RegionalTable$aws:dynamodb/table:Table::Users-${region}-table`);
    assert.equal(table.inputs.region, region, `${table.name} is created in ${region}`);
    assert.equal(table.protect, true);
    assert.deepEqual([table.inputs.name, table.inputs.streamEnabled, table.inputs.streamViewType, table.inputs.deletionProtectionEnabled], ['Users', true, 'NEW_AND_OLD_IMAGES', true]);
  }
  const mappings = ofType(run, 'aws:lambda/eventSourceMapping:EventSourceMapping');
  // Every region reads its own stream through its links (by slot); only the primary's are enabled.
  assert.deepEqual(mappings.map((m) => [m.name, m.inputs.enabled]).sort(), [
    ['Users-ap-southeast-2-link0-esm', false],
    ['Users-ap-southeast-2-link1-esm', false],
    ['Users-eu-west-1-link0-esm', false],
    ['Users-us-east-1-link0-esm', true],
    ['Users-us-east-1-link1-esm', true],
  ]);
  for (const m of mappings) {
    const region = /^Users-(.+)-link\d-esm$/.exec(m.name)![1];
    assert.equal(m.inputs.region, region, 'a mapping lives in the region whose stream it reads');
    assert.deepEqual([m.inputs.startingPosition, m.inputs.bisectBatchOnFunctionError, m.inputs.maximumRetryAttempts, m.inputs.functionResponseTypes], ['TRIM_HORIZON', true, 10, ['ReportBatchItemFailures']]);
  }
}

describe("stack program under Pulumi's own program runner (cmd/run, ResourceMonitor gRPC)", function () {
  this.timeout(600_000);
  let preview: ProgramRun;
  let up: ProgramRun;

  before(async () => {
    // Shared with tests/policies/pack-analyzer.test.ts, which hands what the update registered to AnalyzeStack.
    preview = await stackProgramRun(ROOT, 'dev', { dryRun: true });
    up = await stackProgramRun(ROOT, 'dev', { dryRun: false });
  });

  it('previews the dev stack: tables in each region, the mappings, and unknown ARNs as the engine sees them', () => {
    assertDevStackShape(preview);
    for (const m of ofType(preview, 'aws:lambda/eventSourceMapping:EventSourceMapping')) {
      assert.deepEqual([m.inputs.eventSourceArn, m.inputs.functionName, (m.inputs.destinationConfig as { onFailure: { destinationArn: unknown } }).onFailure.destinationArn], [UNKNOWN, UNKNOWN, UNKNOWN]);
    }
    // The role policy is built with apply from ARNs: at preview the whole JSON string is unknown.
    assert.deepEqual(ofType(preview, 'aws:iam/rolePolicy:RolePolicy').map((p) => p.inputs.policy), Array(10).fill(UNKNOWN), 'five links and their five backfill workers');
    const exports = preview.engine.resourceOutputs.get(`${URN}pulumi:pulumi:Stack::ddb-replicator-dev`) as { tables: { Users: { tableArns: Record<string, string> } } };
    assert.deepEqual(exports.tables.Users.tableArns, { 'us-east-1': UNKNOWN, 'eu-west-1': UNKNOWN, 'ap-southeast-2': UNKNOWN });
  });

  it('updates the dev stack: the same plan, wired with the outputs the engine returned, and exports them', () => {
    assertDevStackShape(up);
    assert.deepEqual(up.engine.registrations.map((r) => r.urn).sort(), preview.engine.registrations.map((r) => r.urn).sort());
    const streamArn = 'arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000';
    for (const m of ofType(up, 'aws:lambda/eventSourceMapping:EventSourceMapping')) assert.equal(m.inputs.eventSourceArn, streamArn.replace('us-east-1', /^Users-(.+)-link/.exec(m.name)![1]!));
    const policy = JSON.parse(String(named(up, 'Users-us-east-1-link1-policy').inputs.policy)) as { Statement: { Sid: string; Resource: string[] }[] };
    assert.deepEqual(policy.Statement.find((s) => s.Sid === 'ReadSourceStream')?.Resource, [streamArn]);
    assert.deepEqual(policy.Statement.find((s) => s.Sid === 'WriteReplicaItems')?.Resource, ['arn:aws:dynamodb:eu-west-1:123456789012:table/Users']);
    const exports = up.engine.resourceOutputs.get(`${URN}pulumi:pulumi:Stack::ddb-replicator-dev`) as { tables: { Users: { tableArns: Record<string, string>; streamArn: string } } };
    assert.equal(exports.tables.Users.tableArns['ap-southeast-2'], 'arn:aws:dynamodb:ap-southeast-2:123456789012:table/Users');
    assert.equal(exports.tables.Users.streamArn, streamArn);
  });

  it('stops on a config error with one line naming the problem, no stack trace, a non-zero exit and nothing created', async () => {
    const run = await runStackProgram(ROOT, 'dev', { dryRun: true, config: { 'ddb-replicator:metricsNamespace': 'AWS/Mine' } });
    assert.notEqual(run.code, 0);
    const [message, ...more] = errors(run);
    assert.deepEqual(more, []);
    assert.match(message!, /^invalid ddb-replicator stack configuration: ddb-replicator\.metricsNamespace is "AWS\/Mine": use 1 to 255 characters, not starting with AWS\/ \(reserved for AWS\)$/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    assert.deepEqual(run.engine.registrations.map((r) => r.type), ['pulumi:pulumi:Stack']);
  });

  it('stops on a tables value that is not a list with one line naming the fix', async () => {
    const run = await runStackProgram(ROOT, 'dev', { dryRun: true, config: { 'ddb-replicator:tables': 'Users' } });
    assert.notEqual(run.code, 0);
    assert.deepEqual(errors(run), ['invalid ddb-replicator stack configuration: ddb-replicator:tables must be a list of tables (see README, "Stack configuration")']);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });

  it('names every resource within its AWS limit for a 255-character table name and five replica regions, from the stack config through index.ts', async () => {
    const name = `${'T'.repeat(120)}.${'x'.repeat(134)}`;
    const replicas = ['eu-west-1', 'ap-southeast-2', 'us-west-2', 'eu-central-1', 'ap-northeast-1'];
    const tables = [{ name, partitionKey: { name: 'userId', type: 'S' }, primaryRegion: 'us-east-1', replicaRegions: replicas }];
    const run = await runStackProgram(ROOT, 'dev', { dryRun: true, config: { 'ddb-replicator:tables': JSON.stringify(tables) } });
    assert.deepEqual(errors(run), [], run.stderr);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.engine.unanswered, []);

    const named = run.engine.registrations.filter((r) => r.custom && r.type.startsWith('aws:') && r.inputs.name !== undefined);
    const checked = new Set<string>();
    for (const r of named) {
      const limit = PHYSICAL_NAME_LIMITS[r.type];
      assert.ok(limit, `${r.type} ${r.name} has a physical name, but no AWS limit is checked for its type: add it to PHYSICAL_NAME_LIMITS`);
      const physical = r.inputs.name;
      assert.equal(typeof physical, 'string', `${r.name}: the name is known at preview, not ${String(physical)}`);
      assert.ok((physical as string).length <= limit.max, `${r.type} ${r.name}: ${(physical as string).length} characters > ${limit.max}: ${String(physical)}`);
      assert.match(physical as string, limit.chars, `${r.type} ${r.name}: a character AWS does not allow`);
      checked.add(r.type);
    }
    // Every resource AWS names is named by the program (an auto-name would add 8 characters the limits above do not see).
    for (const type of EXPLICITLY_NAMED) {
      const all = ofType(run, type);
      assert.ok(all.length > 0, `the program registers ${type}`);
      assert.deepEqual(all.filter((r) => typeof r.inputs.name !== 'string').map((r) => r.name), [], `every ${type} has an explicit name`);
    }
    assert.deepEqual([...checked].sort(), [...Object.keys(PHYSICAL_NAME_LIMITS)].sort(), 'every limit was met by a registration');

    // Distinct where AWS needs it: IAM roles in the account, everything else within its region (tables apart from state tables).
    const scope = (r: (typeof named)[number]) => (r.type === 'aws:iam/role:Role' ? 'account' : r.type === 'aws:iam/rolePolicy:RolePolicy' ? String(r.parent) : String(r.inputs.region));
    for (const type of Object.keys(PHYSICAL_NAME_LIMITS)) {
      const keys = named.filter((r) => r.type === type).map((r) => `${scope(r)} ${String(r.inputs.name)}`);
      assert.equal(new Set(keys).size, keys.length, `${type} names collide: ${keys.filter((k, i) => keys.indexOf(k) !== i).join(', ')}`);
    }
    const dataTables = ofType(run, 'aws:dynamodb/table:Table').filter((t) => t.name.endsWith('-table'));
    assert.deepEqual(dataTables.map((t) => t.inputs.region).sort(), ['us-east-1', ...replicas].sort(), 'a table in each of the six regions');
    assert.ok(dataTables.every((t) => t.inputs.name === name), 'every regional table keeps the configured name');
    assert.ok(ofType(run, 'aws:lambda/function:Function').length >= 6, 'at least one link per region');
  });

  it("passes the policy pack on what the preview registered: no mandatory violation, the apply-built role policies as advisories", async () => {
    // run-policy-pack drops the engine address (see tests/policies/pack-analyzer.test.ts), so none is served here.
    const pack = await startPolicyPack('127.0.0.1:1');
    const analyzer = new AnalyzerConnection(pack.address);
    try {
      const found: (Diagnostic & { resource: string })[] = [];
      for (const r of preview.engine.registrations.filter((x) => x.type !== 'pulumi:pulumi:Stack')) {
        for (const d of await analyzer.analyze(analyzedInputs(preview, r))) found.push({ ...d, resource: r.name });
      }
      assert.deepEqual(found.filter((d) => d.level === 'mandatory'), []);
      assert.deepEqual(
        found.map((d) => [d.resource, d.policy, d.level]).sort(),
        ['ap-southeast-2-link0', 'ap-southeast-2-link1', 'eu-west-1-link0', 'us-east-1-link0', 'us-east-1-link1']
          .flatMap((l) => [`Users-${l}-backfill-policy`, `Users-${l}-policy`])
          .map((name) => [name, 'iam-no-wildcards', 'advisory']),
      );
      assert.ok(found.every((d) => /the policy document policy is unknown as a whole at preview/.test(d.message)));
    } finally {
      analyzer.close();
      await pack.stop();
    }
  });
});

