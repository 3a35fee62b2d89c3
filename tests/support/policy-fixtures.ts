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

const TABLE_TYPE = 'aws:dynamodb/table:Table';
const QUEUE_TYPE = 'aws:sqs/queue:Queue';

/** What breaks one policy: a resource (resource policies, judged by Analyze) or a stack (stack policies, by AnalyzeStack). */
export type BrokenFixture =
  | { readonly kind: 'resource'; readonly resource: () => PlannedResource; readonly message: RegExp }
  | { readonly kind: 'stack'; readonly stack: () => PlannedResource[]; readonly message: RegExp };

/**
 * For every policy of the pack, by name: the compliant stack broken in exactly one way that policy
 * forbids, and the message its violation carries. A policy without an entry here fails
 * tests/policies/pack-analyzer.test.ts.
 */
export const BROKEN_BY_POLICY: Readonly<Record<string, BrokenFixture>> = {
  'dynamodb-stream-new-and-old-images': {
    kind: 'stack',
    stack: () => compliantStack().map((r) => (r.type === TABLE_TYPE ? table({ streamViewType: 'NEW_IMAGE' }) : r)),
    message: /table users is read by an event source mapping but its stream view is NEW_IMAGE: replication needs NEW_AND_OLD_IMAGES/,
  },
  'dynamodb-table-pitr-and-kms': { kind: 'resource', resource: () => table({ pointInTimeRecovery: { enabled: false } }), message: /point-in-time recovery is off/ },
  'dynamodb-table-deletion-protection': { kind: 'resource', resource: () => table({ deletionProtectionEnabled: false }), message: /deletion protection is off/ },
  'dynamodb-stream-mapping-safety': { kind: 'resource', resource: () => esm({ destinationConfig: undefined }), message: /no on-failure destination/ },
  'dynamodb-stream-max-two-consumers': {
    kind: 'stack',
    stack: () => [...compliantStack(), esm({}, 'esm-2'), esm({}, 'esm-3')],
    message: /3 event source mappings read arn:aws:dynamodb:us-east-1:123456789012:table\/Users\/stream\//,
  },
  'stream-function-iterator-age-alarm': {
    kind: 'stack',
    stack: () => compliantStack().filter((r) => r.inputs.metricName !== 'IteratorAge'),
    message: /function fn reads a DynamoDB stream but no alarm watches its IteratorAge/,
  },
  'dlq-depth-alarm': {
    kind: 'stack',
    stack: () => compliantStack().filter((r) => r.inputs.metricName !== 'ApproximateNumberOfMessagesVisible'),
    message: /queue dlq receives failed batches but no alarm watches its depth/,
  },
  'alarm-has-action': { kind: 'resource', resource: () => alarm('Errors', 'AWS/Lambda', { FunctionName: 'replicate' }, { alarmActions: [] }), message: /the alarm has no enabled alarmActions/ },
  'dynamodb-replicas-match-source': {
    kind: 'stack',
    stack: () => [...compliantStack(), table({ hashKey: 'accountId', attributes: [{ name: 'accountId', type: 'S' }] }, 'users-replica')],
    message: /table users-replica differs from users \(both "Users"\) in keys or GSIs/,
  },
  'lambda-runtime-not-deprecated': { kind: 'resource', resource: () => fn({ runtime: 'nodejs18.x' }), message: /runtime nodejs18\.x is deprecated/ },
  'iam-no-wildcards': {
    kind: 'resource',
    resource: () => res('aws:iam/rolePolicy:RolePolicy', 'p', { role: 'r', policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: 'arn:aws:dynamodb:us-east-1:1:table/Users' }] }) }),
    message: /action dynamodb:\* grants every action/,
  },
  'sqs-queue-encrypted': { kind: 'resource', resource: () => queue({ sqsManagedSseEnabled: false }), message: /the queue is not encrypted/ },
  'dlq-retention': {
    kind: 'stack',
    stack: () => compliantStack().map((r) => (r.type === QUEUE_TYPE ? queue({ messageRetentionSeconds: 345_600 }) : r)),
    message: /queue dlq keeps failed batches for 345600 s: keep them at least 1209600 s/,
  },
};
