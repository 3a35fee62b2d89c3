import * as aws from '@pulumi/aws';
import { StackValidationPolicy } from '@pulumi/policy';
import { streamMappings } from '../lib/stream-resources';

export const dlqRetention: StackValidationPolicy = {
  name: 'dlq-retention',
  description: 'Queues that receive failed stream batches keep messages at least as long as configured (default 14 days).',
  enforcementLevel: 'mandatory',
  configSchema: { properties: { minimumRetentionSeconds: { type: 'integer', default: 1_209_600, minimum: 60, maximum: 1_209_600 } } },
  validateStack: (args, report) => {
    const { minimumRetentionSeconds = 1_209_600 } = args.getConfig<{ minimumRetentionSeconds?: number }>();
    const dlqs = new Set(streamMappings(args.resources).map((m) => m.destinationConfig?.onFailure?.destinationArn));
    for (const q of args.resources.filter((r) => r.isType(aws.sqs.Queue) && dlqs.has(r.props.arn))) {
      const retention = q.props.messageRetentionSeconds ?? 345_600;
      if (retention < minimumRetentionSeconds) report(`queue ${q.name} keeps failed batches for ${retention} s: keep them at least ${minimumRetentionSeconds} s (messageRetentionSeconds)`, q.urn);
    }
  },
};
