import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { unknownValue as UNKNOWN } from '@pulumi/pulumi/runtime/rpc';
import { AnalyzerConnection, Diagnostic } from '../support/analyzer-client';
import { providerUrn, Registration } from '../support/fake-engine';
import { startPolicyPack } from '../support/policy-pack-process';
import { ProgramRun, runStackProgram } from '../support/program-runner';

const ROOT = resolve(__dirname, '../..');
const URN = 'urn:pulumi:dev::ddb-replicator::';
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];

const ofType = (run: ProgramRun, type: string) => run.engine.registrations.filter((r) => r.type === type);
const named = (run: ProgramRun, name: string) => run.engine.registrations.find((r) => r.name === name)!;
const errors = (run: ProgramRun) => run.engine.logs.filter((l) => l.severity === 'error').map((l) => l.message);

/** What every run of the dev stack registers, whatever the outputs: the shape of the plan. */
function assertDevStackShape(run: ProgramRun): void {
  assert.deepEqual(errors(run), [], run.stderr);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.engine.unanswered, [], 'every request the program made was answered');
  assert.ok(ofType(run, 'pulumi:pulumi:Stack').some((s) => s.urn === `${URN}pulumi:pulumi:Stack::ddb-replicator-dev`));
  assert.deepEqual(ofType(run, 'pulumi:providers:aws').map((p) => [p.name, p.inputs.region]).sort(), REGIONS.map((r) => [`aws-${r}`, r]).sort());
  for (const region of REGIONS) {
    const table = named(run, `Users-${region}-table`);
    assert.equal(table.urn, `${URN}ddb-replicator:index:ReplicatedTable$ddb-replicator:index:RegionalTable$aws:dynamodb/table:Table::Users-${region}-table`);
    assert.equal(providerUrn(table.provider), `${URN}pulumi:providers:aws::aws-${region}`, `${table.name} is created in ${region}`);
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
    assert.equal(providerUrn(m.provider), `${URN}pulumi:providers:aws::aws-${region}`, 'a mapping lives in the region whose stream it reads');
    assert.deepEqual([m.inputs.startingPosition, m.inputs.bisectBatchOnFunctionError, m.inputs.maximumRetryAttempts, m.inputs.functionResponseTypes], ['TRIM_HORIZON', true, 10, ['ReportBatchItemFailures']]);
  }
}

describe("stack program under Pulumi's own program runner (cmd/run, ResourceMonitor gRPC)", function () {
  this.timeout(600_000);
  let preview: ProgramRun;
  let up: ProgramRun;

  before(async () => {
    preview = await runStackProgram(ROOT, 'dev', { dryRun: true });
    up = await runStackProgram(ROOT, 'dev', { dryRun: false });
  });

  it('previews the dev stack: tables in each region on their provider, the mappings, and unknown ARNs as the engine sees them', () => {
    assertDevStackShape(preview);
    for (const m of ofType(preview, 'aws:lambda/eventSourceMapping:EventSourceMapping')) {
      assert.deepEqual([m.inputs.eventSourceArn, m.inputs.functionName, (m.inputs.destinationConfig as { onFailure: { destinationArn: unknown } }).onFailure.destinationArn], [UNKNOWN, UNKNOWN, UNKNOWN]);
    }
    // The role policy is built with apply from ARNs: at preview the whole JSON string is unknown.
    assert.deepEqual(ofType(preview, 'aws:iam/rolePolicy:RolePolicy').map((p) => p.inputs.policy), Array(5).fill(UNKNOWN));
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

  it("passes the policy pack on what the preview registered: no mandatory violation, the apply-built role policies as advisories", async () => {
    // run-policy-pack drops the engine address (see tests/policies/pack-analyzer.test.ts), so none is served here.
    const pack = await startPolicyPack('127.0.0.1:1');
    const analyzer = new AnalyzerConnection(pack.address);
    try {
      const providers = new Map(ofType(preview, 'pulumi:providers:aws').map((p) => [p.urn, p]));
      const found: (Diagnostic & { resource: string })[] = [];
      // The engine analyzes a resource's inputs after its provider's Check; without a provider here they are the program's.
      for (const r of preview.engine.registrations.filter((x) => x.type !== 'pulumi:pulumi:Stack')) {
        for (const d of await analyzer.analyze(analyzed(r, providers))) found.push({ ...d, resource: r.name });
      }
      assert.deepEqual(found.filter((d) => d.level === 'mandatory'), []);
      assert.deepEqual(
        found.map((d) => [d.resource, d.policy, d.level]).sort(),
        ['ap-southeast-2-link0', 'ap-southeast-2-link1', 'eu-west-1-link0', 'us-east-1-link0', 'us-east-1-link1'].map((l) => [`Users-${l}-policy`, 'iam-no-wildcards', 'advisory']),
      );
      assert.ok(found.every((d) => /the policy document policy is unknown as a whole at preview/.test(d.message)));
    } finally {
      analyzer.close();
      await pack.stop();
    }
  });
});

function analyzed(r: Registration, providers: Map<string, Registration>) {
  const provider = r.provider ? providers.get(providerUrn(r.provider)) : undefined;
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    properties: r.inputs,
    parent: r.parent,
    protect: r.protect,
    provider: provider && { type: provider.type, name: provider.name, urn: provider.urn, properties: provider.inputs },
  };
}
