
export interface ReplicationPolicyInputs {
  readonly sourceTableArn: string;
  readonly streamArn: string;
  readonly replicaTableArns: readonly string[];
  /** The replication state table in the source region (fence, tombstones, review entries). */
  readonly stateTableArn: string;
  /** The state tables of the target regions (their fences). */
  readonly targetStateTableArns: readonly string[];
  readonly dlqArn: string;
  readonly logGroupArn: string;
}

/**
 * The replication function's permissions, least privilege: each statement names exact ARNs.
 * Pure, so tests can read the document without the engine.
 */
export function replicationPolicyDocument(p: ReplicationPolicyInputs) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadSourceStream',
        Effect: 'Allow',
        Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        Resource: [p.streamArn],
      },
      {
        // The event source mapping lists the table's streams; scoped to this table's stream ARNs.
        Sid: 'ListSourceStreams',
        Effect: 'Allow',
        Action: ['dynamodb:ListStreams'],
        Resource: [`${p.sourceTableArn}/stream/*`],
      },
      {
        Sid: 'WriteReplicaItems',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Resource: [...p.replicaTableArns],
      },
      {
        // The source region's fence (raised by UpdateItem), tombstones and review entries.
        Sid: 'KeepReplicationState',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'],
        Resource: [p.stateTableArn],
      },
      {
        // A target's fence: read before writing there; created as a copy where a new region has none.
        Sid: 'CheckTargetFences',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: [...p.targetStateTableArns],
      },
      {
        Sid: 'SendFailedBatchesToDlq',
        Effect: 'Allow',
        Action: ['sqs:SendMessage'],
        Resource: [p.dlqArn],
      },
      {
        Sid: 'WriteLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [`${p.logGroupArn}:*`],
      },
    ],
  };
}

export const LAMBDA_ASSUME_ROLE_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};
