import { strict as assert } from 'node:assert';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { createRegionalTable } from '../../local/tables';
import { isNewer, metadataAttributes, newerThanStoredCondition, padSeq, Version } from '../../handlers/versions';
import { client, tableSpec } from '../support/ddb';

// Few distinct values per field, so equal and neighbouring versions come up often.
const version = fc.record({
  gen: fc.integer({ min: 1, max: 3 }),
  seq: fc.oneof(fc.bigInt({ min: 1n, max: 10n ** 40n - 1n }), fc.constantFrom(5n, 6n, 10n ** 22n)).map((n) => padSeq(n.toString())),
  repair: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 }), fc.constant(1_700_000_000_000)),
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
