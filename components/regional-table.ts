import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { KeyAttribute, TableModel } from '../config/model';
import { stateTableName } from '../config/names';

/** Tag that ties the regional tables of one replicated table together (policies read it). */
export const TABLE_GROUP_TAG = 'ddb-replicator:table';
/** Tag of a replication state table: the table it serves. */
export const STATE_TABLE_TAG = 'ddb-replicator:state-of';

export interface RegionalTableArgs {
  /** The table as configured. Its role (primary or replica) changes nothing here, by design. */
  readonly table: TableModel;
  readonly region: string;
  /** Tags of both tables; default the table's. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The table in one region. Every region gets the same definition, with a NEW_AND_OLD_IMAGES stream,
 * so any replica can be promoted to primary by a config change that replaces no table. Both tables
 * are retained when a region is removed from the config, and protected while deletion protection is
 * on (otherwise as this component's `protect` says).
 */
export class RegionalTable extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;
  readonly arn: pulumi.Output<string>;
  readonly streamArn: pulumi.Output<string>;
  /** The replication state table beside it (tombstones of deleted items): config/names.ts. */
  readonly stateTable: aws.dynamodb.Table;

  constructor(name: string, args: RegionalTableArgs, opts?: pulumi.ComponentResourceOptions) {
    super('ddb-replicator:index:RegionalTable', name, {}, opts);
    const t = args.table;
    const gsiKeys = t.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, ...(g.sortKey ? [g.sortKey] : [])]);
    const provisioned = t.billing.mode === 'PROVISIONED' ? t.billing : undefined;
    // Deletion protection always protects; without it the tables follow the component's own protect
    // (another language's Construct sends protect false when unset, so false cannot mean "unprotect").
    const kept = { parent: this, protect: t.deletionProtection || undefined, retainOnDelete: true };
    const tagged = (tag: string) => withTag(args.tags ?? t.tags, tag, t.name);
    this.table = new aws.dynamodb.Table(
      `${name}-table`,
      {
        region: args.region,
        name: t.name,
        billingMode: t.billing.mode,
        readCapacity: provisioned?.readCapacity,
        writeCapacity: provisioned?.writeCapacity,
        hashKey: t.partitionKey.name,
        rangeKey: t.sortKey?.name,
        attributes: uniqueAttributes([t.partitionKey, ...(t.sortKey ? [t.sortKey] : []), ...gsiKeys]),
        globalSecondaryIndexes: t.globalSecondaryIndexes.map((g) => ({
          name: g.name,
          keySchemas: [
            { attributeName: g.partitionKey.name, keyType: 'HASH' },
            ...(g.sortKey ? [{ attributeName: g.sortKey.name, keyType: 'RANGE' }] : []),
          ],
          projectionType: g.projectionType,
          nonKeyAttributes: g.nonKeyAttributes ? [...g.nonKeyAttributes] : undefined,
          readCapacity: provisioned ? (g.readCapacity ?? provisioned.readCapacity) : undefined,
          writeCapacity: provisioned ? (g.writeCapacity ?? provisioned.writeCapacity) : undefined,
        })),
        ttl: t.ttlAttribute ? { attributeName: t.ttlAttribute, enabled: true } : undefined,
        streamEnabled: true,
        streamViewType: 'NEW_AND_OLD_IMAGES',
        pointInTimeRecovery: { enabled: true },
        // KMS encryption with the AWS managed key (aws/dynamodb).
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: t.deletionProtection,
        tags: tagged(TABLE_GROUP_TAG),
      },
      kept,
    );
    this.stateTable = new aws.dynamodb.Table(
      `${name}-state`,
      {
        region: args.region,
        name: stateTableName(t.name),
        billingMode: 'PAY_PER_REQUEST',
        hashKey: 'pk',
        attributes: [{ name: 'pk', type: 'S' }],
        ttl: { attributeName: 'expiresAt', enabled: true },
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: t.deletionProtection,
        tags: tagged(STATE_TABLE_TAG),
      },
      kept,
    );
    this.arn = this.table.arn;
    this.streamArn = this.table.streamArn;
    this.registerOutputs({ arn: this.arn, streamArn: this.streamArn, stateTableArn: this.stateTable.arn });
  }
}

/** Tags plus one more; a map whose values are Outputs stays a known map, so the group tag stays known at preview. */
function withTag(tags: pulumi.Input<Record<string, pulumi.Input<string>>>, key: string, value: string): pulumi.Input<Record<string, pulumi.Input<string>>> {
  if (pulumi.Output.isInstance(tags) || tags instanceof Promise) return pulumi.output(tags).apply((t) => ({ ...t, [key]: value }));
  return { ...(tags as Record<string, pulumi.Input<string>>), [key]: value };
}

function uniqueAttributes(keys: readonly KeyAttribute[]) {
  const byName = new Map(keys.map((k) => [k.name, k.type]));
  return [...byName].map(([name, type]) => ({ name, type }));
}
