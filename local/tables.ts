import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ScalarAttributeType } from '@aws-sdk/client-dynamodb';

export interface KeyAttribute {
  readonly name: string;
  readonly type: ScalarAttributeType;
}

/** What the local runtime needs to know of a replicated table. */
export interface LocalTableSpec {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly primaryRegion: string;
  readonly replicaRegions: readonly string[];
}

/**
 * Creates the table in one region with a NEW_AND_OLD_IMAGES stream (replicas get one too, so any
 * of them can be promoted) and returns its stream ARN. Tables keep the same name in every region.
 */
export async function createRegionalTable(client: DynamoDBClient, spec: LocalTableSpec): Promise<string> {
  const keys = [spec.partitionKey, ...(spec.sortKey ? [spec.sortKey] : [])];
  await client.send(
    new CreateTableCommand({
      TableName: spec.name,
      AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
      KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
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
