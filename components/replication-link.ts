import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { TableModel } from '../config/model';
import { linkNames, stateTableName } from '../config/names';
import { ENV } from '../handlers/contract';
import { METRIC_NAMES } from '../handlers/metrics';
import { BackfillWorker } from './backfill-worker';
import { replicationBundle } from './lambda-bundle';
import { lambdaWithRole } from './lambda-with-role';
import { replicationPolicyDocument } from './replication-policy';

/** SQS's longest retention: failed-batch coordinates outlive the 24 h stream anyway, but keep them for redrive tooling. */
export const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

export interface ReplicationLinkArgs {
  readonly table: TableModel;
  /** The region whose stream this link reads; its resources live there. */
  readonly sourceRegion: string;
  /** The link's slot in that region, 0 or 1 (config/links.ts): its names carry it. */
  readonly slot: number;
  /** Regions this link's function writes to. */
  readonly targetRegions: readonly string[];
  /** Whether the event source mapping reads: only the primary region's links do. A mapping is enabled or disabled, never recreated. */
  readonly enabled: boolean;
  readonly sourceTableArn: pulumi.Input<string>;
  readonly sourceStreamArn: pulumi.Input<string>;
  /** ARN of the replica table per target region. */
  readonly replicaTableArns: Readonly<Record<string, pulumi.Input<string>>>;
  /** The replication state table in the source region. */
  readonly stateTableArn: pulumi.Input<string>;
  /** The replication state table per target region (fences). */
  readonly targetStateTableArns: Readonly<Record<string, pulumi.Input<string>>>;
  /** Namespace of the handler's metrics. */
  readonly metricsNamespace: string;
  /** SNS topic every alarm notifies. */
  readonly alarmTopicArn: pulumi.Input<string>;
  /** Tags of every resource; default the table's. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * One reader of a region's stream: an esbuild bundle of handlers/replicate.ts with its own role,
 * log group, event source mapping, on-failure DLQ and alarms, named by source region and slot
 * (config/names.ts). Every region has its links; only the primary's mappings are enabled.
 */
export class ReplicationLink extends pulumi.ComponentResource {
  readonly sourceRegion: string;
  readonly functionName: pulumi.Output<string>;
  readonly dlqUrl: pulumi.Output<string>;
  readonly alarmNames: pulumi.Output<string>[];
  readonly eventSourceMapping: aws.lambda.EventSourceMapping;

  constructor(name: string, args: ReplicationLinkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('ddb-replicator:index:ReplicationLink', name, {}, opts);
    const { table } = args;
    this.sourceRegion = args.sourceRegion;
    // The SDK passes only protect from a component to its children; retainOnDelete is passed on here.
    const parent = { parent: this, retainOnDelete: opts?.retainOnDelete };
    const tags = args.tags ?? table.tags;
    // pulumi-aws v7 pins each regional resource to its region: one AWS provider serves them all.
    const region = args.sourceRegion;
    const names = linkNames(table.name, args.sourceRegion, args.slot);

    // Failed batches' coordinates outlive the link: a removed region keeps its DLQ, and its messages.
    const dlq = new aws.sqs.Queue(`${name}-dlq`, { region, name: names.queueName, messageRetentionSeconds: DLQ_RETENTION_SECONDS, sqsManagedSseEnabled: true, tags }, { parent: this, retainOnDelete: true });
    const { fn, policy } = lambdaWithRole(
      name,
      {
        region,
        names,
        bundle: replicationBundle(),
        policyName: 'replication',
        policy: (logGroupArn) =>
          pulumi
            .all([
              args.sourceTableArn,
              args.sourceStreamArn,
              pulumi.all(args.targetRegions.map((r) => args.replicaTableArns[r]!)),
              args.stateTableArn,
              pulumi.all(args.targetRegions.map((r) => args.targetStateTableArns[r]!)),
              dlq.arn,
              logGroupArn,
            ])
            .apply(([sourceTableArn, streamArn, replicaTableArns, stateTableArn, targetStateTableArns, dlqArn, logGroupArn]) =>
              JSON.stringify(
                replicationPolicyDocument({ sourceTableArn, streamArn, replicaTableArns, stateTableArn, targetStateTableArns, dlqArn, logGroupArn }),
              ),
            ),
        memorySize: table.lambda.memoryMb,
        timeout: table.lambda.timeoutSeconds,
        environment: {
          [ENV.replicaTargets]: JSON.stringify(args.targetRegions.map((region) => ({ region, tableName: table.name }))),
          [ENV.stateTable]: stateTableName(table.name),
          ...(table.ttlAttribute && { [ENV.ttlAttribute]: table.ttlAttribute }),
          [ENV.conflictPolicy]: table.conflictPolicy,
          [ENV.replicateTtlDeletes]: String(table.replicateTtlDeletes),
          [ENV.metricsNamespace]: args.metricsNamespace,
        },
        tags,
      },
      parent,
    );

    // Copies existing items to this link's targets on demand: ddb-replicator backfill --workers N.
    const { sourceRegion, slot, targetRegions, sourceTableArn, replicaTableArns, stateTableArn } = args;
    new BackfillWorker(`${name}-backfill`, { table, sourceRegion, slot, targetRegions, sourceTableArn, replicaTableArns, stateTableArn, tags }, parent);

    const s = table.stream;
    this.eventSourceMapping = new aws.lambda.EventSourceMapping(
      `${name}-esm`,
      {
        region,
        eventSourceArn: args.sourceStreamArn,
        functionName: fn.arn,
        enabled: args.enabled,
        startingPosition: 'TRIM_HORIZON',
        batchSize: s.batchSize,
        maximumBatchingWindowInSeconds: s.batchingWindowSeconds,
        parallelizationFactor: s.parallelizationFactor,
        maximumRetryAttempts: s.maximumRetryAttempts,
        maximumRecordAgeInSeconds: s.maximumRecordAgeSeconds,
        bisectBatchOnFunctionError: true,
        functionResponseTypes: ['ReportBatchItemFailures'],
        destinationConfig: { onFailure: { destinationArn: dlq.arn } },
      },
      { ...parent, dependsOn: [policy] },
    );

    const alarm = (suffix: string, a: Omit<aws.cloudwatch.MetricAlarmArgs, 'alarmActions' | 'okActions' | 'comparisonOperator' | 'treatMissingData'>) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${suffix}`,
        {
          region,
          name: names.alarmName(suffix),
          comparisonOperator: 'GreaterThanThreshold',
          // Idle streams and empty queues emit no data points: silence is healthy.
          treatMissingData: 'notBreaching',
          alarmActions: [args.alarmTopicArn],
          okActions: [args.alarmTopicArn],
          tags,
          ...a,
        },
        parent,
      );
    const fnDims = { FunctionName: fn.name };
    const alarms = [
      alarm('iterator-age', {
        alarmDescription: `${table.name}: replication is falling behind the source stream (records are trimmed after 24 h)`,
        namespace: 'AWS/Lambda',
        metricName: 'IteratorAge',
        dimensions: fnDims,
        statistic: 'Maximum',
        period: 60,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        threshold: table.alarms.iteratorAgeMs,
      }),
      alarm('dlq-messages', {
        alarmDescription: `${table.name}: failed batches are waiting in the DLQ; redrive them before the stream trims their records`,
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: dlq.name },
        statistic: 'Maximum',
        period: 60,
        evaluationPeriods: 1,
        threshold: 0,
      }),
      alarm('errors', {
        alarmDescription: `${table.name}: the replication function failed (configuration errors, timeouts)`,
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions: fnDims,
        statistic: 'Sum',
        period: 60,
        evaluationPeriods: 1,
        threshold: 0,
      }),
      alarm('throttles', {
        alarmDescription: `${table.name}: the replication function is throttled`,
        namespace: 'AWS/Lambda',
        metricName: 'Throttles',
        dimensions: fnDims,
        statistic: 'Sum',
        period: 60,
        evaluationPeriods: 1,
        threshold: 0,
      }),
      ...args.targetRegions.flatMap((region) => {
        const dimensions = { Table: table.name, TargetRegion: region };
        return [
          alarm(`latency-${region}`, {
            alarmDescription: `${table.name}: replication to ${region} is slow (p99 from stream record to replica write)`,
            namespace: args.metricsNamespace,
            metricName: METRIC_NAMES.latency,
            dimensions,
            extendedStatistic: 'p99',
            period: 60,
            evaluationPeriods: 5,
            datapointsToAlarm: 3,
            threshold: table.alarms.replicationLatencyMs,
          }),
          alarm(`conflicts-${region}`, {
            alarmDescription: `${table.name}: the replica in ${region} was changed outside replication`,
            namespace: args.metricsNamespace,
            metricName: METRIC_NAMES.conflicts,
            dimensions,
            statistic: 'Sum',
            period: 300,
            evaluationPeriods: 1,
            threshold: table.alarms.conflicts,
          }),
        ];
      }),
    ];

    this.functionName = fn.name;
    this.dlqUrl = dlq.url;
    this.alarmNames = alarms.map((a) => a.name);
    this.registerOutputs({ functionName: this.functionName, dlqUrl: this.dlqUrl, alarmNames: this.alarmNames });
  }
}
