import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import type { TableModel } from '../config/model';
import { stateTableName } from '../config/names';

/** What the local runtime needs of a table: the stack model's table, or just its keys and regions. */
export type LocalTableSpec = Pick<TableModel, 'name' | 'partitionKey' | 'sortKey' | 'primaryRegion' | 'replicaRegions'> &
  Partial<Pick<TableModel, 'globalSecondaryIndexes' | 'ttlAttribute'>>;

/**
 * Creates the table in one region with a NEW_AND_OLD_IMAGES stream (replicas get one too, so any
 * of them can be promoted) and returns its stream ARN. Tables keep the same name in every region.
 * Only the benchmark leaves the stream out (`stream: false`; the ARN is then empty).
 */
export async function createRegionalTable(client: DynamoDBClient, spec: LocalTableSpec, { stream = true } = {}): Promise<string> {
  const keys = [spec.partitionKey, ...(spec.sortKey ? [spec.sortKey] : [])];
  const indexes = spec.globalSecondaryIndexes ?? [];
  const attributes = new Map([...keys, ...indexes.flatMap((g) => [g.partitionKey, ...(g.sortKey ? [g.sortKey] : [])])].map((k) => [k.name, k.type]));
  const keySchema = (pk: { name: string }, sk?: { name: string }) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  await client.send(
    new CreateTableCommand({
      TableName: spec.name,
      AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
      KeySchema: keySchema(spec.partitionKey, spec.sortKey),
      GlobalSecondaryIndexes: indexes.length
        ? indexes.map((g) => ({
            IndexName: g.name,
            KeySchema: keySchema(g.partitionKey, g.sortKey),
            Projection: { ProjectionType: g.projectionType, NonKeyAttributes: g.nonKeyAttributes ? [...g.nonKeyAttributes] : undefined },
          }))
        : undefined,
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: stream ? { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } : undefined,
    }),
  );
  if (spec.ttlAttribute) {
    await client.send(new UpdateTimeToLiveCommand({ TableName: spec.name, TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true } }));
  }
  if (!stream) return '';
  const { Table } = await client.send(new DescribeTableCommand({ TableName: spec.name }));
  if (!Table?.LatestStreamArn) throw new Error(`table ${spec.name} has no stream after creation`);
  return Table.LatestStreamArn;
}

/**
 * The replication state table (tombstones; config/names.ts names it), as the components deploy it:
 * key `pk`, TTL on `expiresAt`. Does nothing if it exists.
 */
export async function ensureStateTable(client: DynamoDBClient, table: string): Promise<void> {
  const TableName = stateTableName(table);
  try {
    await client.send(
      new CreateTableCommand({ TableName, AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }),
    );
  } catch (err) {
    if (err instanceof ResourceInUseException || (err as Error).name === 'ResourceInUseException') return;
    throw err;
  }
  await client.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } }));
}

/** Source in the primary region, one replica per replica region, each with its state table; returns the source stream ARN. */
export async function provisionTables(spec: LocalTableSpec, clientFor: (region: string) => DynamoDBClient): Promise<string> {
  const regions = [spec.primaryRegion, ...spec.replicaRegions];
  const [streamArn] = await Promise.all([
    ...regions.map((r) => createRegionalTable(clientFor(r), spec)),
    ...regions.map((r) => ensureStateTable(clientFor(r), spec.name)),
  ]);
  return streamArn!;
}
