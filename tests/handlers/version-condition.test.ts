import { strict as assert } from 'node:assert';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { createRegionalTable } from '../../local/tables';
import { isNewer, metadataAttributes, newerThanStoredCondition, padSeq, Version } from '../../handlers/versions';
import { client, tableSpec } from '../support/ddb';

const version = fc.record({
  stream: fc.constantFrom('arn:a', 'arn:b'),
  seq: fc.bigInt({ min: 1n, max: 10n ** 40n - 1n }).map((n) => padSeq(n.toString())),
  ts: fc.integer({ min: 1_700_000_000, max: 1_700_000_005 }),
});

describe('version condition on DynamoDB Local', () => {
  it('lets a write land exactly when isNewer says the incoming version is newer', async () => {
    const spec = tableSpec();
    await createRegionalTable(client('eu-west-1'), spec);
    let i = 0;
    await fc.assert(
      fc.asyncProperty(fc.option(version, { nil: undefined }), version, async (stored: Version | undefined, incoming: Version) => {
        const pk = { S: `item-${i++}` };
        if (stored) await client('eu-west-1').send(new PutItemCommand({ TableName: spec.name, Item: { pk, ...metadataAttributes(stored) } }));
        const landed = await client('eu-west-1')
          .send(new PutItemCommand({ TableName: spec.name, Item: { pk, ...metadataAttributes(incoming) }, ...newerThanStoredCondition(incoming) }))
          .then(
            () => true,
            (err: Error) => (err.name === 'ConditionalCheckFailedException' ? false : Promise.reject(err)),
          );
        assert.equal(landed, isNewer(incoming, stored));
      }),
      { numRuns: 150 },
    );
  });
});
