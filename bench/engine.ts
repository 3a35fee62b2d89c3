import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { performance } from 'node:perf_hooks';
import { mapLimit } from '../handlers/concurrency';
import { startDynamoDbLocal, useLocalEndpoint } from '../local/dynamodb-local';
import { createRegionalTable } from '../local/tables';
import { startProxyThread } from './proxy-worker';
import type { Dynamo } from '../handlers/dynamo';
import { liteDynamo } from '../handlers/dynamo-lite';

export type ClientFor = (region: string) => DynamoDBClient;
/** The handler's DynamoDB, as deployed: aws-lite behind the port. */
export type DynamoFor = (region: string) => Dynamo;

/** Clients with enough sockets for a batch's concurrent writes (the SDK's default is 50). */
export const clientsFor =
  (endpoint?: string): ClientFor =>
  (region) =>
    new DynamoDBClient({ region, ...(endpoint ? { endpoint } : {}), requestHandler: { httpAgent: { maxSockets: 256 } } });

export interface Engine {
  /** Source region (and anything else) straight to DynamoDB Local. */
  readonly direct: ClientFor;
  /** The replica region: DynamoDB Local behind the round trip. */
  readonly remote: ClientFor;
  /** A replica region that answers writes itself after the round trip: the handler's own limit. */
  readonly synthetic: ClientFor;
  /** The same two, through the handler's own client. */
  readonly handlerDb: { readonly remote: DynamoFor; readonly synthetic: DynamoFor };
  stop(): Promise<void>;
}

/**
 * A fresh, warmed-up DynamoDB Local with the latency proxies in front of it. Fresh, because
 * DynamoDB Local's writes slow down as its streams grow (even after the tables are deleted): a
 * second workload on the same engine would measure the first one's leftovers. The proxies run on
 * threads of their own, so the remote region's work does not take the handler's CPU.
 */
export async function freshEngine(rttMs: number, jitterMs: number, warmSeconds: number): Promise<Engine> {
  const ddb = await startDynamoDbLocal();
  const restore = useLocalEndpoint(ddb.endpoint);
  const proxies = await Promise.all([
    startProxyThread({ target: ddb.endpoint, latencyMs: rttMs, jitterMs }),
    startProxyThread({ target: ddb.endpoint, latencyMs: rttMs, jitterMs, answerLocally: ['PutItem', 'DeleteItem'] }),
  ]);
  const direct = clientsFor();
  await writeFor(direct('eu-west-1'), warmSeconds, false);
  return {
    direct,
    remote: clientsFor(proxies[0].endpoint),
    synthetic: clientsFor(proxies[1].endpoint),
    handlerDb: { remote: (r) => liteDynamo(r, { endpoint: proxies[0].endpoint }), synthetic: (r) => liteDynamo(r, { endpoint: proxies[1].endpoint }) },
    stop: async () => {
      await Promise.all(proxies.map((p) => p.close()));
      await ddb.stop();
      restore();
    },
  };
}

/**
 * Unconditional 1 KB PutItems at concurrency 64 into a new table, through the same SDK client the
 * handler uses; returns writes per second.
 */
export async function writeFor(client: DynamoDBClient, seconds: number, stream: boolean): Promise<number> {
  const name = `engine-${stream ? 'streamed' : 'plain'}-${Math.random().toString(36).slice(2, 10)}`;
  await createRegionalTable(client, { name, partitionKey: { name: 'pk', type: 'S' }, primaryRegion: 'eu-west-1', replicaRegions: [] }, { stream });
  let n = 0;
  const end = performance.now() + seconds * 1000;
  await mapLimit(Array.from({ length: 64 }), 64, async () => {
    while (performance.now() < end) await client.send(new PutItemCommand({ TableName: name, Item: { pk: { S: `k${n++}` }, payload: { S: 'x'.repeat(1024) } } }));
  });
  return n / seconds;
}
