import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unknownValue as UNKNOWN } from '@pulumi/pulumi/runtime/rpc';
import { policies } from '../../policies/rules';
import type { PlannedResource } from '../../preview/policy-runner';
import { answerInvoke, outputsFor } from '../../preview/mocks';
import { AnalyzedResource, AnalyzerConnection, Diagnostic } from '../support/analyzer-client';
import { FakeEngine, startFakeEngine } from '../support/fake-engine';
import { alarm, compliantStack, esm, fn, queue, res, table } from '../support/policy-fixtures';
import { PACK_DIR } from '../support/policy-pack-deps';
import { RunningPack, startPolicyPack } from '../support/policy-pack-process';

const PROVIDER = { type: 'pulumi:providers:aws', name: 'aws-us-east-1', urn: 'urn:pulumi:dev::ddb-replicator::pulumi:providers:aws::aws-us-east-1', properties: { region: 'us-east-1' } };
const PARENT = 'urn:pulumi:dev::ddb-replicator::ddb-replicator:index:ReplicatedTable::Users';

/** A resource as the engine sends it: JSON-clean properties (inputs for Analyze, outputs for AnalyzeStack) and options. */
function asEngineSends(r: PlannedResource, which: 'inputs' | 'outputs'): AnalyzedResource {
  const properties = JSON.parse(JSON.stringify(r[which])) as Record<string, unknown>;
  const isTable = r.type === 'aws:dynamodb/table:Table';
  return { type: r.type, name: r.name, urn: r.urn, properties, parent: PARENT, protect: isTable, deleteBeforeReplace: isTable ? false : undefined, customTimeouts: isTable ? { create: 600, update: 600, delete: 600 } : undefined, provider: PROVIDER };
}
const summary = (ds: Diagnostic[]) => ds.map((d) => `${d.level} ${d.policy}: ${d.message.split('\n').pop()}`);

describe("policy pack under Pulumi's own runner (run-policy-pack, analyzer gRPC)", function () {
  this.timeout(300_000);
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
      policies.map((p) => [p.name, p.enforcementLevel]),
    );
    assert.ok(info.policies.every((p) => p.level === 'mandatory'));
  });

  it('passes every compliant resource (Analyze, inputs) and the compliant stack (AnalyzeStack, outputs)', async () => {
    for (const r of compliantStack()) assert.deepEqual(summary(await analyzer.analyze(asEngineSends(r, 'inputs'))), [], r.type);
    assert.deepEqual(summary(await analyzer.analyzeStack(compliantStack().map((r) => asEngineSends(r, 'outputs')))), []);
  });

  it('gives each broken resource its mandatory violation (Analyze)', async () => {
    const broken: [PlannedResource, string, RegExp][] = [
      [esm({ destinationConfig: undefined }), 'dynamodb-stream-mapping-safety', /no on-failure destination/],
      [queue({ sqsManagedSseEnabled: false }), 'sqs-queue-encrypted', /the queue is not encrypted/],
      [table({ pointInTimeRecovery: { enabled: false } }), 'dynamodb-table-pitr-and-kms', /point-in-time recovery is off/],
      [res('aws:iam/rolePolicy:RolePolicy', 'p', { role: 'r', policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: 'arn:aws:dynamodb:us-east-1:1:table/Users' }] }) }), 'iam-no-wildcards', /action dynamodb:\* grants every action/],
    ];
    for (const [resource, policy, message] of broken) {
      const found = await analyzer.analyze(asEngineSends(resource, 'inputs'));
      assert.equal(found.length, 1, JSON.stringify(summary(found)));
      assert.equal(found[0]!.policy, policy);
      assert.equal(found[0]!.level, 'mandatory');
      assert.match(found[0]!.message, message);
    }
  });

  it('gives each broken stack its mandatory violation (AnalyzeStack)', async () => {
    const threeReaders = [...compliantStack(), esm({}, 'esm-2'), esm({}, 'esm-3')];
    const noIteratorAlarm = compliantStack().filter((r) => r.inputs.metricName !== 'IteratorAge');
    for (const [stack, policy, message] of [
      [threeReaders, 'dynamodb-stream-max-two-consumers', /3 event source mappings read arn:aws:dynamodb:us-east-1:123456789012:table\/Users\/stream\//],
      [noIteratorAlarm, 'stream-function-iterator-age-alarm', /function fn reads a DynamoDB stream but no alarm watches its IteratorAge/],
    ] as const) {
      const found = await analyzer.analyzeStack(stack.map((r) => asEngineSends(r, 'outputs')));
      assert.deepEqual(found.map((d) => [d.policy, d.level]), [[policy, 'mandatory']], JSON.stringify(summary(found)));
      assert.match(found[0]!.message, message);
    }
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
