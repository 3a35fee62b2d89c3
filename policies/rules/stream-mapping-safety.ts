import * as aws from '@pulumi/aws';
import { ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy';
import { isDynamoDbStreamArn } from '../lib/stream-resources';
import { read, Unchecked, UNKNOWN } from '../lib/preview-unknowns';

type Mapping = aws.lambda.EventSourceMappingArgs & Record<string, unknown>;

/** Properties only Kafka, MQ/RabbitMQ and DocumentDB sources use: present (or unknown) means not a DynamoDB stream. */
const OTHER_SOURCE_SETTINGS = ['topics', 'queues', 'selfManagedEventSource', 'amazonManagedKafkaEventSourceConfig', 'selfManagedKafkaEventSourceConfig', 'documentDbEventSourceConfig'] as const;

/**
 * Whether a mapping may read a DynamoDB stream when its source ARN is unknown (at preview the
 * table's stream is usually created by the same update). Only stream sources take a
 * startingPosition, DynamoDB Streams never AT_TIMESTAMP, and Kafka, MQ and DocumentDB sources carry
 * their own settings. What remains is a DynamoDB or a Kinesis stream; every check of this rule is
 * right for both, so a Kinesis mapping judged here is held to settings it needs anyway.
 */
function maybeDynamoDbStream(esm: Mapping): boolean {
  const start = read(() => esm.startingPosition);
  if (start === undefined || start === 'AT_TIMESTAMP') return false;
  return OTHER_SOURCE_SETTINGS.every((key) => read(() => esm[key]) === undefined);
}

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
    const source = read(() => esm.eventSourceArn);
    if (source !== UNKNOWN && !isDynamoDbStreamArn(source)) args.notApplicable('not a DynamoDB stream mapping');
    if (source === UNKNOWN && !maybeDynamoDbStream(esm as Mapping)) args.notApplicable('source ARN unknown at preview, and the settings are not a DynamoDB stream mapping\'s');
    const { maxRetryAttempts = 100, maxRecordAgeSeconds = 86_400 } = args.getConfig<{ maxRetryAttempts?: number; maxRecordAgeSeconds?: number }>();
    const unchecked = new Unchecked();

    const onFailure = unchecked.read('destinationConfig.onFailure', () => esm.destinationConfig?.onFailure);
    // An unknown destination ARN is a configured destination whose queue this update creates.
    const destination = onFailure === UNKNOWN ? UNKNOWN : read(() => onFailure?.destinationArn);
    if (destination !== UNKNOWN && !destination) {
      report('no on-failure destination: failed batches would be dropped without a trace; set destinationConfig.onFailure to an SQS queue');
    }
    const bisect = unchecked.read('bisectBatchOnFunctionError', () => esm.bisectBatchOnFunctionError);
    if (bisect !== UNKNOWN && bisect !== true) report('bisectBatchOnFunctionError is off: one bad record fails its whole batch until retries run out; turn it on');
    const retries = unchecked.read('maximumRetryAttempts', () => esm.maximumRetryAttempts);
    if (retries !== UNKNOWN && (retries === undefined || retries < 0 || retries > maxRetryAttempts)) {
      report(`maximumRetryAttempts is ${retries ?? 'unset (infinite)'}: a poison record would block its shard; use 0 to ${maxRetryAttempts}`);
    }
    const age = unchecked.read('maximumRecordAgeInSeconds', () => esm.maximumRecordAgeInSeconds);
    if (age !== UNKNOWN && (age === undefined || age < 0 || age > maxRecordAgeSeconds)) report(`maximumRecordAgeInSeconds is ${age ?? 'unset (infinite)'}: use 60 to ${maxRecordAgeSeconds}`);
    const partialBatches = unchecked.read('functionResponseTypes', () => esm.functionResponseTypes?.includes('ReportBatchItemFailures'));
    if (partialBatches !== UNKNOWN && !partialBatches) {
      report('functionResponseTypes lacks ReportBatchItemFailures: partial failures would retry whole batches (and Lambda ignores batchItemFailures without it)');
    }
    const start = unchecked.read('startingPosition', () => esm.startingPosition);
    if (start === 'LATEST') report('startingPosition is LATEST: records written while the mapping starts are skipped; use TRIM_HORIZON');
    unchecked.finish();
  }),
};
