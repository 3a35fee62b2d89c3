import * as aws from '@pulumi/aws';
import { ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from '@pulumi/policy';
import { isDynamoDbStreamArn } from './streams';

export const sqsEncrypted: ResourceValidationPolicy = {
  name: 'sqs-queue-encrypted',
  description: 'SQS queues are encrypted at rest (SQS-managed SSE or KMS).',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(aws.sqs.Queue, (q, _args, report) => {
    if (q.sqsManagedSseEnabled !== true && !q.kmsMasterKeyId) report('the queue is not encrypted: set sqsManagedSseEnabled to true or a kmsMasterKeyId');
  }),
};

export const dlqRetention: StackValidationPolicy = {
  name: 'dlq-retention',
  description: 'Queues that receive failed stream batches keep messages at least as long as configured (default 14 days).',
  enforcementLevel: 'mandatory',
  configSchema: { properties: { minimumRetentionSeconds: { type: 'integer', default: 1_209_600, minimum: 60, maximum: 1_209_600 } } },
  validateStack: (args, report) => {
    const { minimumRetentionSeconds = 1_209_600 } = args.getConfig<{ minimumRetentionSeconds?: number }>();
    const dlqs = new Set(
      args.resources
        .filter((r) => r.isType(aws.lambda.EventSourceMapping) && isDynamoDbStreamArn(r.props.eventSourceArn))
        .map((r) => r.props.destinationConfig?.onFailure?.destinationArn),
    );
    for (const q of args.resources.filter((r) => r.isType(aws.sqs.Queue) && dlqs.has(r.props.arn))) {
      const retention = q.props.messageRetentionSeconds ?? 345_600;
      if (retention < minimumRetentionSeconds) report(`queue ${q.name} keeps failed batches for ${retention} s: keep them at least ${minimumRetentionSeconds} s (messageRetentionSeconds)`, q.urn);
    }
  },
};
