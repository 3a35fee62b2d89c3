import * as aws from '@pulumi/aws';
import { StackValidationPolicy } from '@pulumi/policy';
import { alarmsOf, streamMappings } from '../lib/stream-resources';

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
