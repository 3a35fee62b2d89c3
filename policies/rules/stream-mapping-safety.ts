import * as aws from '@pulumi/aws';
import { ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy';
import { isDynamoDbStreamArn } from '../lib/stream-resources';

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
