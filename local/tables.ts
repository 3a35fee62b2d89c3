import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import type { TableModel } from '../config/model';

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

/** Source in the primary region, one replica per replica region; returns the source stream ARN. */
export async function provisionTables(spec: LocalTableSpec, clientFor: (region: string) => DynamoDBClient): Promise<string> {
  const [streamArn] = await Promise.all([
    createRegionalTable(clientFor(spec.primaryRegion), spec),
    ...spec.replicaRegions.map((r) => createRegionalTable(clientFor(r), spec)),
  ]);
  return streamArn!;
}
