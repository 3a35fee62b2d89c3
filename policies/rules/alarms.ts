import * as aws from '@pulumi/aws';
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from '@pulumi/policy';
import { isDynamoDbStreamArn } from './streams';

type Alarm = { metricName?: string; namespace?: string; dimensions?: Record<string, string> };
type Esm = { eventSourceArn?: string; functionName?: string; functionArn?: string; destinationConfig?: { onFailure?: { destinationArn?: string } } };

const alarmsOf = (resources: PolicyResource[]) => resources.filter((r) => r.isType(aws.cloudwatch.MetricAlarm)).map((r) => r.props as Alarm);
const streamMappings = (resources: PolicyResource[]) =>
  resources.filter((r) => r.isType(aws.lambda.EventSourceMapping) && isDynamoDbStreamArn((r.props as Esm).eventSourceArn)).map((r) => r.props as Esm);

export const iteratorAgeAlarm: StackValidationPolicy = {
  name: 'stream-function-iterator-age-alarm',
  description: 'Every function triggered by a DynamoDB stream has an IteratorAge alarm (records are trimmed after 24 hours).',
  enforcementLevel: 'mandatory',
  validateStack: (args, report) => {
    const alarms = alarmsOf(args.resources);
    for (const fn of args.resources.filter((r) => r.isType(aws.lambda.Function))) {
      const { name, arn } = fn.props as { name?: string; arn?: string };
      const triggered = streamMappings(args.resources).some((m) => [m.functionName, m.functionArn].some((f) => f !== undefined && (f === arn || f === name)));
      if (!triggered) continue;
      const watched = alarms.some((a) => a.namespace === 'AWS/Lambda' && a.metricName === 'IteratorAge' && a.dimensions?.FunctionName === name);
      if (!watched) report(`function ${fn.name} reads a DynamoDB stream but no alarm watches its IteratorAge: add one (Maximum, missing data not breaching)`, fn.urn);
    }
  },
};

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

export const alarmsHaveActions: ResourceValidationPolicy = {
  name: 'alarm-has-action',
  description: 'Every CloudWatch alarm notifies someone.',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(aws.cloudwatch.MetricAlarm, (a, _args, report) => {
    if (!a.alarmActions || a.alarmActions.length === 0 || a.actionsEnabled === false) report('the alarm has no enabled alarmActions: nobody would hear it; add an SNS topic');
  }),
};
