import { strict as assert } from 'node:assert';
import type { Policies } from '@pulumi/policy';
import { PlannedResource, runPolicies } from '../../preview/policy-runner';
import { iamNoWildcards } from '../../policies/rules/iam-no-wildcards';
import { streamMappingSafety } from '../../policies/rules/stream-mapping-safety';
import { esm, res } from '../support/policy-fixtures';
import { unknownValue as UNKNOWN } from '@pulumi/pulumi/runtime/rpc';

// What a real `pulumi preview` of new resources sends (see tests/pulumi/program-runner.test.ts):
// the stream ARN, the function and the DLQ ARN are outputs of resources the same update creates.
const newMapping = (inputs: Record<string, unknown> = {}) =>
  esm({ eventSourceArn: UNKNOWN, functionName: UNKNOWN, destinationConfig: { onFailure: { destinationArn: UNKNOWN } }, ...inputs });

async function run(policy: Policies[number], resources: PlannedResource[]) {
  const found = await runPolicies([policy], resources);
  return { mandatory: found.filter((v) => v.level === 'mandatory').map((v) => v.message), advisory: found.filter((v) => v.level === 'advisory').map((v) => v.message) };
}

describe('rules at preview: known settings first, unknown values as one advisory', () => {
  describe('dynamodb-stream-mapping-safety', () => {
    it('passes a compliant mapping whose source, function and DLQ ARNs are unknown, without an advisory', async () => {
      assert.deepEqual(await run(streamMappingSafety, [newMapping()]), { mandatory: [], advisory: [] });
    });

    it('reports all six broken settings of a mapping whose source ARN is unknown as mandatory', async () => {
      const broken = newMapping({
        destinationConfig: undefined,
        bisectBatchOnFunctionError: false,
        maximumRetryAttempts: -1,
        maximumRecordAgeInSeconds: -1,
        functionResponseTypes: [],
        startingPosition: 'LATEST',
      });
      const { mandatory, advisory } = await run(streamMappingSafety, [broken]);
      assert.deepEqual(advisory, []);
      assert.equal(mandatory.length, 6, JSON.stringify(mandatory));
      for (const m of [/no on-failure destination/, /bisectBatchOnFunctionError is off/, /maximumRetryAttempts is -1/, /maximumRecordAgeInSeconds is -1/, /lacks ReportBatchItemFailures/, /startingPosition is LATEST/]) {
        assert.ok(mandatory.some((v) => m.test(v)), `${m} in ${JSON.stringify(mandatory)}`);
      }
    });

    it('checks the known settings and names the unknown one in a single advisory', async () => {
      const { mandatory, advisory } = await run(streamMappingSafety, [newMapping({ maximumRetryAttempts: UNKNOWN, bisectBatchOnFunctionError: false })]);
      assert.deepEqual(mandatory.length, 1);
      assert.match(mandatory[0]!, /bisectBatchOnFunctionError is off/);
      assert.equal(advisory.length, 1);
      assert.match(advisory[0]!, /can't be checked during preview: maximumRetryAttempts is unknown until the resources it depends on exist; pulumi up checks it/);
    });

    it('is not applicable when the unknown source cannot be a DynamoDB stream (no startingPosition, Kafka topics, AT_TIMESTAMP)', async () => {
      for (const inputs of [{ startingPosition: undefined }, { topics: ['orders'] }, { startingPosition: 'AT_TIMESTAMP' }, { queues: UNKNOWN }]) {
        assert.deepEqual(await run(streamMappingSafety, [newMapping({ ...inputs, destinationConfig: undefined, bisectBatchOnFunctionError: false })]), { mandatory: [], advisory: [] }, JSON.stringify(inputs));
      }
    });

    it('still ignores a known non-DynamoDB source', async () => {
      assert.deepEqual(await run(streamMappingSafety, [newMapping({ eventSourceArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/clicks', destinationConfig: undefined })]), { mandatory: [], advisory: [] });
    });
  });

  describe('iam-no-wildcards', () => {
    const rolePolicy = (policy: unknown) => res('aws:iam/rolePolicy:RolePolicy', 'p', { role: UNKNOWN, policy });

    it('says clearly when the whole document is unknown (built with apply from new ARNs), as one advisory', async () => {
      const { mandatory, advisory } = await run(iamNoWildcards, [rolePolicy(UNKNOWN)]);
      assert.deepEqual(mandatory, []);
      assert.equal(advisory.length, 1);
      assert.match(advisory[0]!, /the policy document policy is unknown as a whole at preview: it is built \(with apply or interpolation\) from outputs of resources this update creates/);
      assert.match(advisory[0]!, /pulumi up checks them$/);
    });

    it('checks actions of a document whose resources are unknown, then names the unknown resource', async () => {
      const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['dynamodb:*'], Resource: [UNKNOWN] }, { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: UNKNOWN }] };
      const { mandatory, advisory } = await run(iamNoWildcards, [rolePolicy(doc)]);
      assert.deepEqual(mandatory, ['action dynamodb:* grants every action: name the actions']);
      assert.equal(advisory.length, 1);
      assert.match(advisory[0]!, /policy\.Statement\[0\]\.Resource\[0\], policy\.Statement\[1\]\.Resource are unknown until the resources they depend on exist/);
    });

    it('still reports a known "*" resource beside an unknown one', async () => {
      const doc = { Statement: [{ Effect: 'Allow', Action: ['dynamodb:PutItem'], Resource: [UNKNOWN, '*'] }] };
      const { mandatory, advisory } = await run(iamNoWildcards, [rolePolicy(doc)]);
      assert.deepEqual(mandatory, ['resource * on dynamodb:PutItem: name the exact table, stream or queue ARNs']);
      assert.equal(advisory.length, 1);
    });

    it('checks the known inline policies of a role and names the unknown one', async () => {
      const known = JSON.stringify({ Statement: [{ Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::b' }] });
      const role = res('aws:iam/role:Role', 'r', { inlinePolicies: [{ name: 'a', policy: known }, { name: 'b', policy: UNKNOWN }] });
      const { mandatory, advisory } = await run(iamNoWildcards, [role]);
      assert.deepEqual(mandatory, ['action * grants every action: name the actions']);
      assert.equal(advisory.length, 1);
      assert.match(advisory[0]!, /the policy document inlinePolicies\[1\]\.policy is unknown as a whole at preview/);
    });
  });
});
