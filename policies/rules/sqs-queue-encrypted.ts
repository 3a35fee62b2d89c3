import * as aws from '@pulumi/aws';
import { ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy';

export const sqsEncrypted: ResourceValidationPolicy = {
  name: 'sqs-queue-encrypted',
  description: 'SQS queues are encrypted at rest (SQS-managed SSE or KMS).',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(aws.sqs.Queue, (q, _args, report) => {
    if (q.sqsManagedSseEnabled !== true && !q.kmsMasterKeyId) report('the queue is not encrypted: set sqsManagedSseEnabled to true or a kmsMasterKeyId');
  }),
};
