import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { linksFrom } from '../config/links';
import { alarmTopicName, physicalName } from '../config/names';
import { METRIC_NAMES } from '../handlers/metrics';
import { RegionalTable } from './regional-table';
import type { ReplicatedTableArgs } from './replicated-table-args';
import { ReplicationLink } from './replication-link';
import { resolveTableArgs } from './resolve-args';

/**
 * A DynamoDB table in every region of its config, each able to be the primary: every region carries
 * the same resources (table, state table, alarm topic, and the replication links reading its stream,
 * at most two), named by region and slot, never by role. Only the primary's mappings are enabled, so
 * a failover changes which mappings read and replaces nothing.
 */
export class ReplicatedTable extends pulumi.ComponentResource {
  /** Table ARN per region. */
  readonly tableArns: Record<string, pulumi.Output<string>>;
  /** The primary table's stream: what replication reads. */
  readonly streamArn: pulumi.Output<string>;
  /** DLQ URLs of the primary's links (the ones that can hold failed batches now). */
  readonly dlqUrls: pulumi.Output<string>[];
  /** Function names of the primary's links. */
  readonly functionNames: pulumi.Output<string>[];
  /** Every alarm, in every region. */
  readonly alarmNames: pulumi.Output<string>[];
  /** The alarm topic per region. */
  readonly alarmTopicArns: Record<string, pulumi.Output<string>>;

  /**
   * @param name The component's name, and the tables' unless `args.name` is set.
   * @param args The table's settings; checked with the stack config's rules, every problem named at once.
   * @param opts Resource options. The AWS provider (opts.provider, opts.providers, the parent's, or the
   *   default provider from the stack's `aws:*` config) serves every region: each regional resource
   *   names its own region. `protect` and `retainOnDelete` pass to every child.
   */
  constructor(name: string, args: ReplicatedTableArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything registers: a bad arg stops the program with one line, no stack trace.
    const { model: table, tags, alarmEmail, metricsNamespace } = resolveTableArgs(name, args, (message) => new pulumi.RunError(message));
    super('ddb-replicator:index:ReplicatedTable', name, {}, opts);
    const regions = [table.primaryRegion, ...table.replicaRegions];
    const child = { parent: this, retainOnDelete: opts?.retainOnDelete };
    // A region removed from the config keeps its topic and subscription (no re-confirmation if it returns).
    const kept = { parent: this, retainOnDelete: true };

    // Named by region, never by role: a failover changes which table is read, not which tables exist.
    const tables = Object.fromEntries(
      regions.map((region) => [region, new RegionalTable(`${name}-${region}`, { table, region, tags }, child)]),
    );
    const topics = Object.fromEntries(
      regions.map((region) => {
        const topic = new aws.sns.Topic(`${name}-${region}-alarms`, { region, name: alarmTopicName(table.name, region), tags }, kept);
        if (alarmEmail) new aws.sns.TopicSubscription(`${name}-${region}-alarms-email`, { region, topic: topic.arn, protocol: 'email', endpoint: alarmEmail }, kept);
        return [region, topic];
      }),
    );

    const links = regions.flatMap((source) =>
      linksFrom(source, regions, table.linkSlots).map(
        ({ slot, targets }) =>
          new ReplicationLink(
            `${name}-${source}-link${slot}`,
            {
              table,
              sourceRegion: source,
              slot,
              targetRegions: targets,
              enabled: source === table.primaryRegion,
              sourceTableArn: tables[source]!.arn,
              sourceStreamArn: tables[source]!.streamArn,
              replicaTableArns: Object.fromEntries(targets.map((r) => [r, tables[r]!.arn])),
              stateTableArn: tables[source]!.stateTable.arn,
              targetStateTableArns: Object.fromEntries(targets.map((r) => [r, tables[r]!.stateTable.arn])),
              metricsNamespace,
              alarmTopicArn: topics[source]!.arn,
              tags,
            },
            child,
          ),
      ),
    );
    const primaryLinks = links.filter((l) => l.sourceRegion === table.primaryRegion);
    // Writes replication will not carry (a former primary still taking writes) wait in the review report.
    const reviewAlarms = regions.map(
      (region) =>
        new aws.cloudwatch.MetricAlarm(
          `${name}-${region}-review`,
          {
            region,
            name: physicalName('alarm', table.name, `${region}-review`),
            alarmDescription: `${table.name}: writes in ${region} that replication will not carry are in the review report (ddb-replicator review)`,
            namespace: metricsNamespace,
            metricName: METRIC_NAMES.review,
            dimensions: { Table: table.name, SourceRegion: region },
            statistic: 'Sum',
            period: 300,
            evaluationPeriods: 1,
            comparisonOperator: 'GreaterThanThreshold',
            threshold: 0,
            treatMissingData: 'notBreaching',
            alarmActions: [topics[region]!.arn],
            okActions: [topics[region]!.arn],
            tags,
          },
          child,
        ),
    );

    this.tableArns = Object.fromEntries(regions.map((r) => [r, tables[r]!.arn]));
    this.streamArn = tables[table.primaryRegion]!.streamArn;
    this.dlqUrls = primaryLinks.map((l) => l.dlqUrl);
    this.functionNames = primaryLinks.map((l) => l.functionName);
    this.alarmNames = [...links.flatMap((l) => l.alarmNames), ...reviewAlarms.map((a) => a.name)];
    this.alarmTopicArns = Object.fromEntries(regions.map((r) => [r, topics[r]!.arn]));
    this.registerOutputs({
      tableArns: this.tableArns,
      streamArn: this.streamArn,
      dlqUrls: this.dlqUrls,
      functionNames: this.functionNames,
      alarmNames: this.alarmNames,
      alarmTopicArns: this.alarmTopicArns,
    });
  }
}
