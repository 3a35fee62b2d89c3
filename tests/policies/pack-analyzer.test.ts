import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { unknownValue as UNKNOWN } from '@pulumi/pulumi/runtime/rpc';
import type { Policy } from '@pulumi/policy';
import { policies } from '../../policies/rules';
import type { PlannedResource } from '../../preview/policy-runner';
import { answerInvoke, outputsFor } from '../../preview/mocks';
import { AnalyzedResource, AnalyzerConnection, Diagnostic } from '../support/analyzer-client';
import { FakeEngine, startFakeEngine } from '../support/fake-engine';
import { BROKEN_BY_POLICY, compliantStack, esm, res, table } from '../support/policy-fixtures';
import { PACK_DIR } from '../support/policy-pack-deps';
import { RunningPack, startPolicyPack } from '../support/policy-pack-process';
import { analyzedStack, stackProgramRun } from '../support/program-runner';

const ROOT = resolve(__dirname, '../..');

const PROVIDER = { type: 'pulumi:providers:aws', name: 'aws-us-east-1', urn: 'urn:pulumi:dev::ddb-replicator::pulumi:providers:aws::aws-us-east-1', properties: { region: 'us-east-1' } };
const PARENT = 'urn:pulumi:dev::ddb-replicator::ddb-replicator:index:ReplicatedTable::Users';

/** A resource as the engine sends it: JSON-clean properties (inputs for Analyze, outputs for AnalyzeStack) and options. */
function asEngineSends(r: PlannedResource, which: 'inputs' | 'outputs'): AnalyzedResource {
  const properties = JSON.parse(JSON.stringify(r[which])) as Record<string, unknown>;
  const isTable = r.type === 'aws:dynamodb/table:Table';
  return { type: r.type, name: r.name, urn: r.urn, properties, parent: PARENT, protect: isTable, deleteBeforeReplace: isTable ? false : undefined, customTimeouts: isTable ? { create: 600, update: 600, delete: 600 } : undefined, provider: PROVIDER };
}
const summary = (ds: Diagnostic[]) => ds.map((d) => `${d.level} ${d.policy}: ${d.message.split('\n').pop()}`);
/** A policy's level as the pack declares it: its own, else the pack's default, which is advisory (new PolicyPack without enforcementLevel). */
const declaredLevel = (p: Policy) => p.enforcementLevel ?? 'advisory';
const kindOf = (p: Policy) => ('validateStack' in p ? 'stack' : 'resource');

describe("policy pack under Pulumi's own runner (run-policy-pack, analyzer gRPC)", function () {
  this.timeout(600_000); // the pack type-checks before it serves; the stack program type-checks and runs
  let engine: FakeEngine;
  let pack: RunningPack | undefined;
  let analyzer: AnalyzerConnection;

  before(async () => {
    engine = await startFakeEngine({ project: 'ddb-replicator', stack: 'dev', dryRun: true, defaultRegion: 'us-east-1', outputsFor, invoke: (t) => answerInvoke(t) });
    pack = await startPolicyPack(engine.address);
    analyzer = new AnalyzerConnection(pack.address);
  });

  after(async () => {
    analyzer?.close();
    await pack?.stop();
    await engine?.stop();
  });

  it('lists every rule of policies/rules with its enforcement level, under the pack name and package version (GetAnalyzerInfo)', async () => {
    const info = await analyzer.info();
    assert.equal(info.name, 'ddb-replicator');
    assert.equal(info.version, (JSON.parse(readFileSync(join(PACK_DIR, 'package.json'), 'utf8')) as { version: string }).version);
    assert.match(readFileSync(join(PACK_DIR, 'PulumiPolicy.yaml'), 'utf8'), /^runtime: nodejs$/m);
    assert.deepEqual(
      info.policies.map((p) => [p.name, p.level]),
      policies.map((p) => [p.name, declaredLevel(p)]),
    );
  });

  it('passes every compliant resource (Analyze, inputs) and the compliant stack (AnalyzeStack, outputs)', async () => {
    for (const r of compliantStack()) assert.deepEqual(summary(await analyzer.analyze(asEngineSends(r, 'inputs'))), [], r.type);
    assert.deepEqual(summary(await analyzer.analyzeStack(compliantStack().map((r) => asEngineSends(r, 'outputs')))), []);
  });

  it('has a broken resource or stack for every policy of the pack, and none for a policy it does not have', () => {
    assert.deepEqual(Object.keys(BROKEN_BY_POLICY).sort(), policies.map((p) => p.name).sort());
  });

  // One test per policy the pack declares: a new policy without a fixture in BROKEN_BY_POLICY fails here.
  for (const policy of policies) {
    const kind = kindOf(policy);
    const level = declaredLevel(policy);
    const rpc = kind === 'stack' ? 'AnalyzeStack' : 'Analyze';
    it(`${policy.name}: a broken ${kind} gets its violation at the level the pack declares, ${level}${level === 'advisory' ? ' (declared advisory, so it does not block)' : ''} (${rpc})`, async () => {
      const fixture = BROKEN_BY_POLICY[policy.name];
      assert.ok(fixture, `no broken resource or stack for ${policy.name}: add one to BROKEN_BY_POLICY in tests/support/policy-fixtures.ts`);
      assert.equal(fixture.kind, kind, `${policy.name} is a ${kind} policy`);
      const found =
        fixture.kind === 'stack'
          ? await analyzer.analyzeStack(fixture.stack().map((r) => asEngineSends(r, 'outputs')))
          : await analyzer.analyze(asEngineSends(fixture.resource(), 'inputs'));
      assert.deepEqual(found.map((d) => [d.policy, d.level]), [[policy.name, level]], JSON.stringify(summary(found)));
      assert.match(found[0]!.message, fixture.message);
    });
  }

  // What the stack program registers, run through cmd/run against the fake engine as an update (the run tests/pulumi/program-runner.test.ts checks, shared).
  const devStackUp = async () => {
    const up = await stackProgramRun(ROOT, 'dev', { dryRun: false });
    assert.equal(up.code, 0, up.stderr);
    return up;
  };

  it('passes the dev stack as the program registers it (AnalyzeStack on every resource, with the outputs the engine answered): no violation', async () => {
    const stack = analyzedStack(await devStackUp());
    const mappings = stack.filter((r) => r.type === 'aws:lambda/eventSourceMapping:EventSourceMapping');
    assert.equal(mappings.length, 5);
    assert.ok(mappings.every((m) => /^arn:aws:dynamodb:[a-z0-9-]+:123456789012:table\/Users\/stream\//.test(String(m.properties.eventSourceArn))), 'the mappings carry the stream ARNs the stack policies follow');
    const found = await analyzer.analyzeStack(stack);
    assert.deepEqual(found.filter((d) => d.level === 'mandatory'), []);
    assert.deepEqual(summary(found), []);
  });

  it('finds what the stack policies look for in those resources: without the DLQ and iterator-age alarms, one violation per link', async () => {
    const unwatched = analyzedStack(await devStackUp()).filter((r) => !['ApproximateNumberOfMessagesVisible', 'IteratorAge'].includes(String(r.properties.metricName)));
    const found = await analyzer.analyzeStack(unwatched);
    const links = ['ap-southeast-2-link0', 'ap-southeast-2-link1', 'eu-west-1-link0', 'us-east-1-link0', 'us-east-1-link1'];
    assert.deepEqual(
      found.map((d) => [d.policy, d.level, d.urn.split('::').pop()]).sort(),
      [...links.map((l) => ['dlq-depth-alarm', 'mandatory', `Users-${l}-dlq`]), ...links.map((l) => ['stream-function-iterator-age-alarm', 'mandatory', `Users-${l}-fn`])].sort(),
    );
  });

  it('at preview: checks the known settings of resources whose ARNs are unknown, and says what it cannot check', async () => {
    // As the engine sends a preview of new resources: outputs of other new resources are the unknown sentinel.
    const brokenMapping = esm({ eventSourceArn: UNKNOWN, functionName: UNKNOWN, destinationConfig: undefined, bisectBatchOnFunctionError: false, maximumRetryAttempts: -1, maximumRecordAgeInSeconds: -1, functionResponseTypes: [], startingPosition: 'LATEST' });
    const mapping = await analyzer.analyze(asEngineSends(brokenMapping, 'inputs'));
    assert.equal(mapping.length, 6, JSON.stringify(summary(mapping)));
    assert.ok(mapping.every((d) => d.policy === 'dynamodb-stream-mapping-safety' && d.level === 'mandatory'));

    const applyBuilt = await analyzer.analyze(asEngineSends(res('aws:iam/rolePolicy:RolePolicy', 'p', { role: UNKNOWN, policy: UNKNOWN }), 'inputs'));
    assert.deepEqual(applyBuilt.map((d) => [d.policy, d.level]), [['iam-no-wildcards', 'advisory']]);
    assert.match(applyBuilt[0]!.message, /can't run policy 'iam-no-wildcards' from policy pack 'ddb-replicator@v0\.1\.0' during preview: the policy document policy is unknown as a whole at preview/);

    // A rule that reads an unknown value without care: the whole validation becomes one advisory, never a pass.
    const unknownFlag = await analyzer.analyze(asEngineSends(table({ deletionProtectionEnabled: UNKNOWN }), 'inputs'));
    assert.deepEqual(unknownFlag.map((d) => [d.policy, d.level]), [['dynamodb-table-deletion-protection', 'advisory']]);
    assert.match(unknownFlag[0]!.message, /during preview: string value at \.deletionProtectionEnabled can't be known during preview/);
  });

  it('stops on SIGTERM; the runner never calls the engine it was given (run-policy-pack drops the address)', async () => {
    analyzer.close();
    assert.equal(await pack!.stop(), 'SIGTERM');
    pack = undefined;
    assert.deepEqual([engine.logs, engine.registrations, engine.unanswered], [[], [], []]);
  });
});
