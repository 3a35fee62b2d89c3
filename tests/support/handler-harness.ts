import { DeleteItemCommand, DescribeTableCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ReplicatorConfig } from '../../handlers/config';
import { HandlerDeps, makeHandler } from '../../handlers/replicate';
import { provisionTables, LocalTableSpec } from '../../local/tables';
import { stateTableName } from '../../config/names';
import { client, diffTables, StreamTap, tableSpec } from './ddb';

/** A source table, its replicas, a tap on the source stream and a handler that logs into an array. */
export async function harness(opts: { spec?: Partial<LocalTableSpec>; config?: Partial<ReplicatorConfig> | ((spec: LocalTableSpec) => Partial<ReplicatorConfig>); deps?: HandlerDeps } = {}) {
  const spec = tableSpec({ replicaRegions: ['eu-west-1', 'ap-southeast-2'], ...opts.spec });
  const streamArn = await provisionTables(spec, client);
  const tap = new StreamTap(streamArn, spec.primaryRegion);
  const logs: Record<string, unknown>[] = [];
  const config: ReplicatorConfig = {
    targets: spec.replicaRegions.map((region) => ({ region, tableName: spec.name })),
    state: { region: spec.primaryRegion, tableName: stateTableName(spec.name) },
    ttlAttribute: spec.ttlAttribute,
    fenceCacheMs: 10_000,
    conflictPolicy: 'source-wins',
    replicateTtlDeletes: true,
    maxConcurrency: 8,
    ...(typeof opts.config === 'function' ? opts.config(spec) : opts.config),
  };
  const handler = makeHandler(config, { log: (l) => logs.push(l), ...opts.deps });
  const source = client(spec.primaryRegion);
  return {
    spec,
    config,
    streamArn,
    tap,
    logs,
    handler,
    /** The counts of the last batch log line, per target region. */
    lastBatch: () => logs.filter((l) => l.msg === 'batch').at(-1) as { targets: Record<string, Record<string, number>> } & Record<string, unknown>,
    put: (item: Record<string, unknown>) => source.send(new PutItemCommand({ TableName: spec.name, Item: marshall(item) })),
    update: (key: Record<string, unknown>, set: Record<string, unknown>) =>
      source.send(
        new UpdateItemCommand({
          TableName: spec.name,
          Key: marshall(key),
          UpdateExpression: `SET ${Object.keys(set).map((_, i) => `#a${i} = :v${i}`).join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(Object.keys(set).map((k, i) => [`#a${i}`, k])),
          ExpressionAttributeValues: marshall(Object.fromEntries(Object.values(set).map((v, i) => [`:v${i}`, v]))),
        }),
      ),
    remove: (key: Record<string, unknown>) => source.send(new DeleteItemCommand({ TableName: spec.name, Key: marshall(key) })),
    /** Writes straight to a replica, as someone outside replication would. */
    putReplica: (region: string, item: Record<string, unknown>) => client(region).send(new PutItemCommand({ TableName: spec.name, Item: marshall(item) })),
    getRaw: async (region: string, key: Record<string, unknown>) =>
      (await client(region).send(new GetItemCommand({ TableName: spec.name, Key: marshall(key), ConsistentRead: true }))).Item,
    get: async (region: string, key: Record<string, unknown>) => {
      const item = (await client(region).send(new GetItemCommand({ TableName: spec.name, Key: marshall(key), ConsistentRead: true }))).Item;
      return item && unmarshall(item);
    },
    /** The replica's own stream, to see what replication wrote there. */
    replicaStreamArn: async (region: string) => (await client(region).send(new DescribeTableCommand({ TableName: spec.name }))).Table?.LatestStreamArn,
    /** Missing, extra and different keys of a replica, compared as verify compares. */
    diff: (region: string) => diffTables(spec, region),
    close: () => tap.close(),
  };
}
