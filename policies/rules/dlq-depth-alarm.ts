import * as aws from '@pulumi/aws';
import { StackValidationPolicy } from '@pulumi/policy';
import { alarmsOf, streamMappings } from '../lib/stream-resources';

export const dlqDepthAlarm: StackValidationPolicy = {
  name: 'dlq-depth-alarm',
  description: 'Every SQS queue used as an on-failure destination has an ApproximateNumberOfMessagesVisible alarm.',
  enforcementLevel: 'mandatory',
  validateStack: (args, report) => {
    const dlqArns = new Set(streamMappings(args.resources).map((m) => m.destinationConfig?.onFailure?.destinationArn));
    const alarms = alarmsOf(args.resources);
    for (const q of args.resources.filter((r) => r.isType(aws.sqs.Queue))) {
      const { arn, name } = q.props as { arn?: string; name?: string };
      if (!dlqArns.has(arn)) continue;
      const watched = alarms.some((a) => a.namespace === 'AWS/SQS' && a.metricName === 'ApproximateNumberOfMessagesVisible' && a.dimensions?.QueueName === name);
      if (!watched) report(`queue ${q.name} receives failed batches but no alarm watches its depth: alarm on ApproximateNumberOfMessagesVisible > 0`, q.urn);
    }
  },
};
