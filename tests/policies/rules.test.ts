import { strict as assert } from 'node:assert';
import type { Policies } from '@pulumi/policy';
import { PackConfig, PlannedResource, runPolicies } from '../../preview/policy-runner';
import { policies } from '../../policies/rules';
import { alarmsHaveActions } from '../../policies/rules/alarm-has-action';
import { dlqDepthAlarm } from '../../policies/rules/dlq-depth-alarm';
import { dlqRetention } from '../../policies/rules/dlq-retention';
import { iamNoWildcards } from '../../policies/rules/iam-no-wildcards';
import { iteratorAgeAlarm } from '../../policies/rules/iterator-age-alarm';
import { lambdaRuntimeSupported } from '../../policies/rules/lambda-runtime';
import { replicasMatchSource } from '../../policies/rules/replicas-match-source';
import { sqsEncrypted } from '../../policies/rules/sqs-queue-encrypted';
import { streamMappingSafety } from '../../policies/rules/stream-mapping-safety';
import { maxTwoStreamConsumers } from '../../policies/rules/stream-max-two-consumers';
import { streamViewForReplication } from '../../policies/rules/stream-new-and-old-images';
import { tableDeletionProtection } from '../../policies/rules/table-deletion-protection';
import { tableRecoveryAndEncryption } from '../../policies/rules/table-pitr-and-kms';
import { alarm, compliantStack, DLQ_ARN, esm, fn, queue, res, table } from '../support/policy-fixtures';

async function violations(policy: Policies[number], resources: PlannedResource[], config: PackConfig = {}) {
  return (await runPolicies([policy], resources, config)).map((v) => v.message);
}
async function expectViolation(policy: Policies[number], resources: PlannedResource[], message: RegExp, config?: PackConfig) {
  const found = await violations(policy, resources, config);
  assert.ok(found.some((m) => message.test(m)), `expected ${message} from ${policy.name}, got ${JSON.stringify(found)}`);
}

describe('policy pack rules', () => {
  it('has unique names, descriptions and enforcement levels for every rule', () => {
    const names = policies.map((p) => p.name);
    assert.equal(new Set(names).size, names.length);
    for (const p of policies) {
      assert.ok(p.description.length > 20, p.name);
      assert.ok(p.enforcementLevel, p.name);
    }
  });

  it('passes a compliant replication stack on every rule', async () => {
    assert.deepEqual(await runPolicies(policies, compliantStack()), []);
  });

  describe('dynamodb-stream-new-and-old-images', () => {
    for (const [what, inputs] of [['another view type', { streamViewType: 'NEW_IMAGE' }], ['a disabled stream', { streamEnabled: false }]] as const) {
      it(`reports ${what} on a table read by a mapping`, () => expectViolation(streamViewForReplication, [table(inputs), esm()], /stream view is|needs NEW_AND_OLD_IMAGES/));
    }
    it('ignores tables no mapping reads', async () => assert.deepEqual(await violations(streamViewForReplication, [table({ streamViewType: 'KEYS_ONLY' })]), []));
  });

  describe('dynamodb-table-pitr-and-kms and dynamodb-table-deletion-protection', () => {
    it('reports missing point-in-time recovery', () => expectViolation(tableRecoveryAndEncryption, [table({ pointInTimeRecovery: undefined })], /point-in-time recovery is off/));
    it('reports missing encryption', () => expectViolation(tableRecoveryAndEncryption, [table({ serverSideEncryption: { enabled: false } })], /KMS server-side encryption is off/));
    it('reports missing deletion protection, at the level the pack config sets', async () => {
      const [v] = await runPolicies([tableDeletionProtection], [table({ deletionProtectionEnabled: false })], { 'dynamodb-table-deletion-protection': 'advisory' });
      assert.equal(v?.level, 'advisory');
      assert.match(v!.message, /deletion protection is off/);
      assert.deepEqual(await runPolicies([tableDeletionProtection], [table({ deletionProtectionEnabled: false })], { 'dynamodb-table-deletion-protection': 'disabled' }), []);
    });
  });

  describe('dynamodb-stream-mapping-safety', () => {
    const broken: [string, Record<string, unknown>, RegExp][] = [
      ['no on-failure destination', { destinationConfig: undefined }, /no on-failure destination/],
      ['no bisection', { bisectBatchOnFunctionError: false }, /bisectBatchOnFunctionError is off/],
      ['infinite retries', { maximumRetryAttempts: -1 }, /maximumRetryAttempts is -1/],
      ['unset retries', { maximumRetryAttempts: undefined }, /maximumRetryAttempts is unset \(infinite\)/],
      ['no maximum record age', { maximumRecordAgeInSeconds: -1 }, /maximumRecordAgeInSeconds is -1/],
      ['no partial batch responses', { functionResponseTypes: [] }, /lacks ReportBatchItemFailures/],
      ['starting at LATEST', { startingPosition: 'LATEST' }, /startingPosition is LATEST/],
    ];
    for (const [what, inputs, message] of broken) it(`reports ${what}`, () => expectViolation(streamMappingSafety, [esm(inputs)], message));
    it('uses the configured retry bound', () => expectViolation(streamMappingSafety, [esm({ maximumRetryAttempts: 10 })], /use 0 to 5/, { 'dynamodb-stream-mapping-safety': { maxRetryAttempts: 5 } }));
    it('is not applicable to mappings of other sources', async () =>
      assert.deepEqual(await violations(streamMappingSafety, [esm({ eventSourceArn: 'arn:aws:sqs:us-east-1:123456789012:q', destinationConfig: undefined })]), []));
  });

  describe('dynamodb-stream-max-two-consumers', () => {
    it('allows two readers and reports a third', async () => {
      assert.deepEqual(await violations(maxTwoStreamConsumers, [esm({}, 'a'), esm({}, 'b')]), []);
      await expectViolation(maxTwoStreamConsumers, [esm({}, 'a'), esm({}, 'b'), esm({}, 'c')], /3 event source mappings read/);
    });
  });

  describe('alarms', () => {
    it('reports a stream-triggered function without an IteratorAge alarm', () =>
      expectViolation(iteratorAgeAlarm, compliantStack().filter((r) => r.inputs.metricName !== 'IteratorAge'), /no alarm watches its IteratorAge/));
    it('reports an alarm on another function as not covering this one', () =>
      expectViolation(iteratorAgeAlarm, [...compliantStack().filter((r) => r.inputs.metricName !== 'IteratorAge'), alarm('IteratorAge', 'AWS/Lambda', { FunctionName: 'other' })], /IteratorAge/));
    it('reports a DLQ without a depth alarm', () =>
      expectViolation(dlqDepthAlarm, compliantStack().filter((r) => r.inputs.metricName !== 'ApproximateNumberOfMessagesVisible'), /no alarm watches its depth/));
    it('reports an alarm without actions, or with actions disabled', async () => {
      await expectViolation(alarmsHaveActions, [alarm('Errors', 'AWS/Lambda', {}, { alarmActions: [] })], /no enabled alarmActions/);
      await expectViolation(alarmsHaveActions, [alarm('Errors', 'AWS/Lambda', {}, { actionsEnabled: false })], /no enabled alarmActions/);
    });
  });

  describe('dynamodb-replicas-match-source', () => {
    const replica = (inputs: Record<string, unknown>) => table(inputs, 'users-eu');
    it('passes identical regional tables', async () => assert.deepEqual(await violations(replicasMatchSource, [table(), replica({})]), []));
    it('reports a replica with another key', () => expectViolation(replicasMatchSource, [table(), replica({ hashKey: 'id', attributes: [{ name: 'id', type: 'S' }] })], /differs from users/));
    it('reports a replica with another key type', () => expectViolation(replicasMatchSource, [table(), replica({ attributes: [{ name: 'userId', type: 'N' }] })], /in keys or GSIs/));
    it('reports a replica missing a GSI', () =>
      expectViolation(replicasMatchSource, [table({ globalSecondaryIndexes: [{ name: 'byEmail', keySchemas: [{ attributeName: 'email', keyType: 'HASH' }], projectionType: 'ALL' }] }), replica({})], /differs/));
  });

  describe('lambda-runtime-not-deprecated', () => {
    it('reports a deprecated runtime', () => expectViolation(lambdaRuntimeSupported, [fn({ runtime: 'nodejs16.x' })], /runtime nodejs16\.x is deprecated/));
    it('passes a current one', async () => assert.deepEqual(await violations(lambdaRuntimeSupported, [fn({ runtime: 'nodejs22.x' })]), []));
  });

  describe('iam-no-wildcards', () => {
    const doc = (Action: unknown, Resource: unknown) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action, Resource }] });
    const rolePolicy = (policy: string) => res('aws:iam/rolePolicy:RolePolicy', 'p', { role: 'r', policy });
    it('passes exact ARNs, and "*" for PutMetricData', async () => {
      assert.deepEqual(await violations(iamNoWildcards, [rolePolicy(doc(['dynamodb:PutItem'], ['arn:aws:dynamodb:eu-west-1:1:table/Users']))]), []);
      assert.deepEqual(await violations(iamNoWildcards, [rolePolicy(doc(['cloudwatch:PutMetricData'], '*'))]), []);
    });
    it('reports a "*" action', () => expectViolation(iamNoWildcards, [rolePolicy(doc('*', 'arn:aws:s3:::b'))], /action \* grants every action/));
    it('reports a service wildcard action', () => expectViolation(iamNoWildcards, [rolePolicy(doc(['sqs:*'], DLQ_ARN))], /action sqs:\* grants every action/));
    it('reports a "*" resource on DynamoDB and SQS actions', async () => {
      await expectViolation(iamNoWildcards, [rolePolicy(doc(['dynamodb:GetRecords'], '*'))], /resource \* on dynamodb:GetRecords/);
      await expectViolation(iamNoWildcards, [rolePolicy(doc(['sqs:SendMessage'], 'arn:aws:sqs:*'))], /resource \* on sqs:SendMessage/);
    });
    it('checks standalone policies and inline role policies too', async () => {
      await expectViolation(iamNoWildcards, [res('aws:iam/policy:Policy', 'p', { policy: doc('dynamodb:*', '*') })], /dynamodb:\*/);
      await expectViolation(iamNoWildcards, [res('aws:iam/role:Role', 'r', { inlinePolicies: [{ name: 'x', policy: doc(['dynamodb:PutItem'], '*') }] })], /resource \*/);
    });
  });

  describe('SQS', () => {
    it('reports an unencrypted queue', () => expectViolation(sqsEncrypted, [queue({ sqsManagedSseEnabled: false })], /not encrypted/));
    it('passes a KMS-encrypted queue', async () => assert.deepEqual(await violations(sqsEncrypted, [queue({ sqsManagedSseEnabled: undefined, kmsMasterKeyId: 'alias/aws/sqs' })]), []));
    it('reports a DLQ that keeps failed batches too briefly, using the configured retention', async () => {
      await expectViolation(dlqRetention, [esm(), queue({ messageRetentionSeconds: 86_400 })], /keeps failed batches for 86400 s: keep them at least 1209600 s/);
      assert.deepEqual(await violations(dlqRetention, [esm(), queue({ messageRetentionSeconds: 86_400 })], { 'dlq-retention': { minimumRetentionSeconds: 3600 } }), []);
    });
  });

  it('reports values unknown during preview as advisory, like the engine', async () => {
    const { unknownCheckingProxy } = await import('@pulumi/policy');
    void unknownCheckingProxy;
    const unknown = res('aws:dynamodb/table:Table', 't', { pointInTimeRecovery: { enabled: true }, serverSideEncryption: { enabled: true } });
    (unknown.inputs as Record<string, unknown>).deletionProtectionEnabled = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';
    const [v] = await runPolicies([tableDeletionProtection], [unknown]);
    assert.equal(v?.level, 'advisory');
    assert.match(v!.message, /can't be checked during preview/);
  });
});
