import { BatchWriteItemCommand, CreateTableCommand, DescribeTableCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../../cli/main';
import { client, uniqueName } from '../support/ddb';
import { localEndpoint } from '../support/setup';

/** A throwaway Pulumi project whose stack "test" holds one table replicated us-east-1 -> eu-west-1. */
export function project(table = uniqueName('Ops')) {
  const dir = mkdtempSync(join(tmpdir(), 'ddb-replicator-ops-'));
  writeFileSync(
    join(dir, 'Pulumi.test.yaml'),
    `config:\n  ddb-replicator:tables:\n    - name: ${table}\n      partitionKey: { name: pk, type: S }\n      primaryRegion: us-east-1\n      replicaRegions: [eu-west-1]\n`,
  );
  return {
    dir,
    table,
    run: async (...args: string[]) => {
      let text = '';
      const code = await cli([...args, '--dir', dir, '--stack', 'test', '--endpoint', localEndpoint()], { out: (t) => (text += t), quiet: true });
      return { code, text };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Creates a table in a region; `stream` enables NEW_AND_OLD_IMAGES (later, with UpdateTable, if asked). */
export async function createTable(region: string, name: string, stream: boolean): Promise<string | undefined> {
  await client(region).send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      ...(stream && { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }),
    }),
  );
  return (await client(region).send(new DescribeTableCommand({ TableName: name }))).Table?.LatestStreamArn;
}

export async function enableStream(region: string, name: string): Promise<string> {
  await client(region).send(new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }));
  return (await client(region).send(new DescribeTableCommand({ TableName: name }))).Table!.LatestStreamArn!;
}

/** Loads `count` items (pk item-00000..., a payload) in batches of 25. */
export async function load(region: string, name: string, count: number, value = 'v0'): Promise<void> {
  const requests = Array.from({ length: count }, (_, i) => ({ PutRequest: { Item: { pk: { S: `item-${String(i).padStart(5, '0')}` }, value: { S: value }, n: { N: String(i) } } } }));
  for (let i = 0; i < requests.length; i += 25) {
    let batch: typeof requests | undefined = requests.slice(i, i + 25);
    while (batch?.length) {
      const out = await client(region).send(new BatchWriteItemCommand({ RequestItems: { [name]: batch } }));
      batch = out.UnprocessedItems?.[name] as typeof requests | undefined;
    }
  }
}
