import * as aws from '@pulumi/aws';
import type { PolicyResource } from '@pulumi/policy';

/** An event source mapping reads a DynamoDB stream when its source ARN is a table's stream ARN. */
export const isDynamoDbStreamArn = (arn: unknown): arn is string => typeof arn === 'string' && /^arn:aws[\w-]*:dynamodb:[^:]*:[^:]*:table\/[^/]+\/stream\//.test(arn);

export type MappingProps = { eventSourceArn?: string; functionName?: string; functionArn?: string; destinationConfig?: { onFailure?: { destinationArn?: string } } };
export type AlarmProps = { metricName?: string; namespace?: string; dimensions?: Record<string, string> };

/** Event source mappings of a stack that read DynamoDB streams (stack policies see outputs). */
export const streamMappings = (resources: PolicyResource[]) =>
  resources.filter((r) => r.isType(aws.lambda.EventSourceMapping) && isDynamoDbStreamArn((r.props as MappingProps).eventSourceArn)).map((r) => r.props as MappingProps);

export const alarmsOf = (resources: PolicyResource[]) => resources.filter((r) => r.isType(aws.cloudwatch.MetricAlarm)).map((r) => r.props as AlarmProps);

/** This project tags every regional table of one replicated table with its name. */
export const REPLICA_GROUP_TAG = 'ddb-replicator:table';
