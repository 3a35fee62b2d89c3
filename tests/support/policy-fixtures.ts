import type { PlannedResource } from '../../preview/policy-runner';

/**
 * Resources as policies see them, in one compliant replication stack (a table with its stream, the
 * mapping reading it, the function, its DLQ and both alarms); each factory takes the inputs to break.
 */
export const STREAM = 'arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000';
export const DLQ_ARN = 'arn:aws:sqs:us-east-1:123456789012:users-dlq';

export function res(type: string, name: string, inputs: Record<string, unknown>, outputs: Record<string, unknown> = {}): PlannedResource {
  return { type, name, urn: `urn:pulumi:test::proj::${type}::${name}`, inputs, outputs: { ...inputs, ...outputs } };
}
export const table = (inputs: Record<string, unknown> = {}, name = 'users') =>
  res('aws:dynamodb/table:Table', name, {
    name: 'Users',
    hashKey: 'userId',
    attributes: [{ name: 'userId', type: 'S' }],
    streamEnabled: true,
    streamViewType: 'NEW_AND_OLD_IMAGES',
    pointInTimeRecovery: { enabled: true },
    serverSideEncryption: { enabled: true },
    deletionProtectionEnabled: true,
    tags: { 'ddb-replicator:table': 'Users' },
    ...inputs,
  }, { arn: 'arn:aws:dynamodb:us-east-1:123456789012:table/Users', streamArn: STREAM });
export const esm = (inputs: Record<string, unknown> = {}, name = 'esm') =>
  res('aws:lambda/eventSourceMapping:EventSourceMapping', name, {
    eventSourceArn: STREAM,
    functionName: 'arn:aws:lambda:us-east-1:123456789012:function:replicate',
    startingPosition: 'TRIM_HORIZON',
    bisectBatchOnFunctionError: true,
    maximumRetryAttempts: 10,
    maximumRecordAgeInSeconds: 3600,
    functionResponseTypes: ['ReportBatchItemFailures'],
    destinationConfig: { onFailure: { destinationArn: DLQ_ARN } },
    ...inputs,
  });
export const fn = (inputs: Record<string, unknown> = {}) =>
  res('aws:lambda/function:Function', 'fn', { runtime: 'nodejs22.x', ...inputs }, { name: 'replicate', arn: 'arn:aws:lambda:us-east-1:123456789012:function:replicate' });
export const queue = (inputs: Record<string, unknown> = {}) =>
  res('aws:sqs/queue:Queue', 'dlq', { sqsManagedSseEnabled: true, messageRetentionSeconds: 1_209_600, ...inputs }, { arn: DLQ_ARN, name: 'users-dlq' });
export const alarm = (metricName: string, namespace: string, dimensions: Record<string, string>, inputs: Record<string, unknown> = {}) =>
  res('aws:cloudwatch/metricAlarm:MetricAlarm', `alarm-${metricName}`, { metricName, namespace, dimensions, alarmActions: ['arn:aws:sns:us-east-1:123456789012:alarms'], ...inputs });
export const compliantStack = () => [
  table(),
  esm(),
  fn(),
  queue(),
  alarm('IteratorAge', 'AWS/Lambda', { FunctionName: 'replicate' }),
  alarm('ApproximateNumberOfMessagesVisible', 'AWS/SQS', { QueueName: 'users-dlq' }),
];
