import * as aws from '@pulumi/aws';
import { StackValidationPolicy, validateStackResourcesOfType } from '@pulumi/policy';
import { isDynamoDbStreamArn } from '../lib/stream-resources';

export const maxTwoStreamConsumers: StackValidationPolicy = {
  name: 'dynamodb-stream-max-two-consumers',
  description: 'At most two event source mappings read one DynamoDB stream (DynamoDB throttles more readers per shard).',
  enforcementLevel: 'mandatory',
  validateStack: validateStackResourcesOfType(aws.lambda.EventSourceMapping, (mappings, args, report) => {
    const byStream = new Map<string, number>();
    for (const m of mappings) if (isDynamoDbStreamArn(m.eventSourceArn)) byStream.set(m.eventSourceArn, (byStream.get(m.eventSourceArn) ?? 0) + 1);
    for (const [stream, n] of byStream) if (n > 2) report(`${n} event source mappings read ${stream}: more than two readers per shard are throttled; let one function serve several targets`);
  }),
};
