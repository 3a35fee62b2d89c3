import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { TableModel } from '../config/model';
import { groupReplicaRegions } from './consumer-groups';
import { RegionalTable } from './regional-table';
import { ReplicationLink } from './replication-link';

export interface ReplicatedTableArgs {
  /** The validated table from the stack config (config/parse.ts). */
  readonly table: TableModel;
  /** An AWS provider for every region the table lives in (components/providers.ts). */
  readonly providers: Readonly<Record<string, aws.Provider>>;
  /** Namespace of the handler's metrics; default "DdbReplicator". */
  readonly metricsNamespace?: string;
  /** E-mail subscribed to the alarm topic; default none. */
  readonly alarmEmail?: string;
}

/**
 * A DynamoDB table in its primary region, a replica in each replica region, and the replication
 * links between them (at most two stream readers), with DLQs and alarms.
 */
export class ReplicatedTable extends pulumi.ComponentResource {
  /** Table ARN per region. */
  readonly tableArns: Record<string, pulumi.Output<string>>;
  /** The primary table's stream: what replication reads. */
  readonly streamArn: pulumi.Output<string>;
  readonly dlqUrls: pulumi.Output<string>[];
  readonly functionNames: pulumi.Output<string>[];
  readonly alarmNames: pulumi.Output<string>[];
  readonly alarmTopicArn: pulumi.Output<string>;

  constructor(name: string, args: ReplicatedTableArgs, opts?: pulumi.ComponentResourceOptions) {
    super('ddb-replicator:index:ReplicatedTable', name, {}, opts);
    const { table, providers } = args;
    const regions = [table.primaryRegion, ...table.replicaRegions];
    for (const region of regions) {
      if (!providers[region]) throw new Error(`ReplicatedTable ${name}: no AWS provider for region ${region}; pass one per region (components/providers.ts)`);
    }

    // Named by region, never by role: a failover changes which table is read, not which tables exist.
    const tables = Object.fromEntries(
      regions.map((region) => [region, new RegionalTable(`${name}-${region}`, { table, region }, { parent: this, providers: [providers[region]!] })]),
    );
    const primary = tables[table.primaryRegion]!;
    const inPrimary = { parent: this, providers: [providers[table.primaryRegion]!] };

    const topic = new aws.sns.Topic(`${name}-alarms`, { tags: table.tags }, { parent: this, provider: providers[table.primaryRegion] });
    if (args.alarmEmail) {
      new aws.sns.TopicSubscription(`${name}-alarms-email`, { topic: topic.arn, protocol: 'email', endpoint: args.alarmEmail }, { parent: this, provider: providers[table.primaryRegion] });
    }

    const links = groupReplicaRegions(table.replicaRegions).map(
      (targetRegions) =>
        new ReplicationLink(
          `${name}-to-${targetRegions.join('-')}`,
          {
            table,
            targetRegions,
            sourceTableArn: primary.arn,
            sourceStreamArn: primary.streamArn,
            replicaTableArns: Object.fromEntries(targetRegions.map((r) => [r, tables[r]!.arn])),
            stateTableArn: primary.stateTable.arn,
            metricsNamespace: args.metricsNamespace ?? 'DdbReplicator',
            alarmTopicArn: topic.arn,
          },
          inPrimary,
        ),
    );

    this.tableArns = Object.fromEntries(regions.map((r) => [r, tables[r]!.arn]));
    this.streamArn = primary.streamArn;
    this.dlqUrls = links.map((l) => l.dlqUrl);
    this.functionNames = links.map((l) => l.functionName);
    this.alarmNames = links.flatMap((l) => l.alarmNames);
    this.alarmTopicArn = topic.arn;
    this.registerOutputs({
      tableArns: this.tableArns,
      streamArn: this.streamArn,
      dlqUrls: this.dlqUrls,
      functionNames: this.functionNames,
      alarmNames: this.alarmNames,
      alarmTopicArn: this.alarmTopicArn,
    });
  }
}
