import * as aws from '@pulumi/aws';
import { ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType, validateStackResourcesOfType } from '@pulumi/policy';

/** An event source mapping reads a DynamoDB stream when its source ARN is a table's stream ARN. */
export const isDynamoDbStreamArn = (arn: unknown): arn is string => typeof arn === 'string' && /^arn:aws[\w-]*:dynamodb:[^:]*:[^:]*:table\/[^/]+\/stream\//.test(arn);

export const streamMappingSafety: ResourceValidationPolicy = {
  name: 'dynamodb-stream-mapping-safety',
  description:
    'A Lambda event source mapping on a DynamoDB stream has an on-failure destination, bisection, finite retries, a maximum record age, ReportBatchItemFailures, and does not start at LATEST.',
  enforcementLevel: 'mandatory',
  configSchema: {
    properties: {
      maxRetryAttempts: { type: 'integer', default: 100, minimum: 0, description: 'Largest MaximumRetryAttempts allowed.' },
      maxRecordAgeSeconds: { type: 'integer', default: 86_400, minimum: 60, description: 'Largest MaximumRecordAgeInSeconds allowed.' },
    },
  },
  validateResource: validateResourceOfType(aws.lambda.EventSourceMapping, (esm, args, report) => {
    if (!isDynamoDbStreamArn(esm.eventSourceArn)) args.notApplicable('not a DynamoDB stream mapping');
    const { maxRetryAttempts = 100, maxRecordAgeSeconds = 86_400 } = args.getConfig<{ maxRetryAttempts?: number; maxRecordAgeSeconds?: number }>();
    if (!esm.destinationConfig?.onFailure?.destinationArn) report('no on-failure destination: failed batches would be dropped without a trace; set destinationConfig.onFailure to an SQS queue');
    if (esm.bisectBatchOnFunctionError !== true) report('bisectBatchOnFunctionError is off: one bad record fails its whole batch until retries run out; turn it on');
    const retries = esm.maximumRetryAttempts;
    if (retries === undefined || retries < 0 || retries > maxRetryAttempts) {
      report(`maximumRetryAttempts is ${retries ?? 'unset (infinite)'}: a poison record would block its shard; use 0 to ${maxRetryAttempts}`);
    }
    const age = esm.maximumRecordAgeInSeconds;
    if (age === undefined || age < 0 || age > maxRecordAgeSeconds) report(`maximumRecordAgeInSeconds is ${age ?? 'unset (infinite)'}: use 60 to ${maxRecordAgeSeconds}`);
    if (!esm.functionResponseTypes?.includes('ReportBatchItemFailures')) {
      report('functionResponseTypes lacks ReportBatchItemFailures: partial failures would retry whole batches (and Lambda ignores batchItemFailures without it)');
    }
    if (esm.startingPosition === 'LATEST') report('startingPosition is LATEST: records written while the mapping starts are skipped; use TRIM_HORIZON');
  }),
};

type Esm = aws.lambda.EventSourceMappingArgs & { eventSourceArn?: string };

export const streamViewForReplication: StackValidationPolicy = {
  name: 'dynamodb-stream-new-and-old-images',
  description: 'A table whose stream a Lambda event source mapping reads has a stream with NEW_AND_OLD_IMAGES.',
  enforcementLevel: 'mandatory',
  validateStack: (args, report) => {
    const read = new Set(args.resources.filter((r) => r.isType(aws.lambda.EventSourceMapping)).map((r) => (r.props as Esm).eventSourceArn).filter(isDynamoDbStreamArn));
    for (const t of args.resources.filter((r) => r.isType(aws.dynamodb.Table))) {
      const p = t.props as { streamArn?: string; streamEnabled?: boolean; streamViewType?: string };
      if (p.streamArn && read.has(p.streamArn) && (p.streamEnabled !== true || p.streamViewType !== 'NEW_AND_OLD_IMAGES')) {
        report(`table ${t.name} is read by an event source mapping but its stream view is ${p.streamViewType ?? 'unset'}: replication needs NEW_AND_OLD_IMAGES`, t.urn);
      }
    }
  },
};

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
