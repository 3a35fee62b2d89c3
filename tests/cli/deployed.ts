import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableContext } from '../../cli/context';
import type { FailoverDeps, FailoverOptions } from '../../cli/failover';
import { stateTableName } from '../../config/names';
import { readFence } from '../../handlers/fence';
import { LocalDeployment, startLocalDeployment } from '../../local/deployment';
import { client, uniqueName } from '../support/ddb';
import { localEndpoint } from '../support/setup';
import { sdkDynamo } from '../../handlers/dynamo-sdk';

export const A = 'us-east-1';
export const B = 'eu-west-1';
export const C = 'ap-southeast-2';

/** A stack file for one table in A (its configured primary), B and C, and the table deployed locally with its links. */
export async function deployed() {
  const table = uniqueName('Fo');
  const dir = mkdtempSync(join(tmpdir(), 'failover-'));
  writeFileSync(join(dir, 'Pulumi.test.yaml'), `config:\n  ddb-replicator:tables:\n    - name: ${table}\n      partitionKey: { name: pk, type: S }\n      primaryRegion: ${A}\n      replicaRegions: [${B}, ${C}]\n      lambda: { timeoutSeconds: 1 }\n`);
  const spec = { name: table, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: A, replicaRegions: [B, C] };
  const deployment = await startLocalDeployment({
    table: spec,
    clientFor: client,
    watchStreams: true,
    handler: { fenceCacheMs: 0 },
    emulator: { pollIntervalMs: 20, discoveryIntervalMs: 100, retryDelayMs: 5, log: () => undefined },
    handlerDeps: () => ({ log: () => undefined }),
  });
  const ctx = tableContext({ stack: 'test', endpoint: localEndpoint(), projectDir: dir });
  const get = async (region: string, pk: string) => (await client(region).send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item?.v?.N;
  return {
    table,
    dir,
    deployment,
    ctx,
    put: (region: string, pk: string, v: number) => client(region).send(new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, v: { N: String(v) } } })),
    get,
    /** Resolves once every region in `regions` holds `v` for `pk` (the wait is for that condition, bounded generously). */
    until: async (regions: string[], pk: string, v: string | undefined, timeoutMs = 30_000) => {
      const bound = Date.now() + timeoutMs;
      for (;;) {
        const held = await Promise.all(regions.map((r) => get(r, pk)));
        if (held.every((h) => h === v)) return;
        if (Date.now() > bound) throw new Error(`${pk} is ${JSON.stringify(held)} in ${regions.join(', ')} after ${timeoutMs} ms, not ${v}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    remove: (region: string, pk: string) => client(region).send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: pk } } })),
    fence: (region: string) => readFence(sdkDynamo(client(region)), stateTableName(table)),
    /** Stops (or restarts) the region's link emulators, as a Lambda outage would, without the Lambda API. */
    links: async (region: string, on: boolean) => {
      for (const l of deployment.links.filter((l) => l.region === region)) {
        if (on && !l.emulator.enabled) l.emulator.enable();
        if (!on && l.emulator.enabled) await l.emulator.disable();
      }
    },
    close: async () => {
      await deployment.stop();
      ctx.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const options = (o: Partial<FailoverOptions> & { to: string }): FailoverOptions => ({ unplanned: false, fenceCacheSeconds: 0, clockMarginSeconds: 1, segments: 2, ...o });

export const deps = (d: LocalDeployment, sqs: SQSClient): FailoverDeps => ({
  streams: (region: string) => new DynamoDBStreamsClient({ region }),
  sqs: () => sqs,
  mappings: d.mappings,
  recordSeconds: d.recordSeconds,
});
