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
    /** Runs a command; exit code 2 (a usage or configuration problem) rejects with its one error line. */
    run: (...args: string[]) => runCli([...args, '--dir', dir, '--stack', 'test', '--endpoint', localEndpoint()]),
    /** Runs a command and returns what it printed, whatever its exit code. */
    exec: (...args: string[]) => execCli([...args, '--dir', dir, '--stack', 'test', '--endpoint', localEndpoint()]),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs cli() and collects stdout (`text`) and stderr (`err`). */
export async function execCli(argv: string[]): Promise<{ code: number; text: string; err: string }> {
  let text = '';
  let err = '';
  const code = await cli(argv, { out: (t) => (text += t), err: (t) => (err += `${t}\n`), quiet: true });
  return { code, text, err };
}

/** As execCli, but exit code 2 rejects with the error line, as a usage or configuration problem. */
export async function runCli(argv: string[]): Promise<{ code: number; text: string }> {
  const { code, text, err } = await execCli(argv);
  if (code === 2) throw new Error(err.trim() || text);
  return { code, text };
}

/** cli() as its exit code, stdout given to `out`; exit code 2 rejects with the error line. */
export async function cliCode(argv: string[], out: (text: string) => void): Promise<number> {
  const { code, text, err } = await execCli(argv);
  out(text);
  if (code === 2) throw new Error(err.trim() || text);
  return code;
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
