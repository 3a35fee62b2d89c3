/** Event source mapping settings, named and bounded as in Lambda's CreateEventSourceMapping. */
export interface MappingSettings {
  /** TRIM_HORIZON (default here, as this project deploys) or LATEST; AT_TIMESTAMP is not allowed for DynamoDB. */
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** 1-10,000, default 100. */
  readonly batchSize: number;
  /** 0-300, default 0 (invoke as soon as records are available). */
  readonly maximumBatchingWindowInSeconds: number;
  readonly bisectBatchOnFunctionError: boolean;
  /** -1 (until the record expires) or 0-10,000. */
  readonly maximumRetryAttempts: number;
  /** -1 (no limit) or 60-604,800. */
  readonly maximumRecordAgeInSeconds: number;
  /** FunctionResponseTypes: ["ReportBatchItemFailures"]. */
  readonly reportBatchItemFailures: boolean;
  /** 1-10 concurrent batches per shard; records of one item (same keys) stay in order. */
  readonly parallelizationFactor: number;
}

export const LAMBDA_DEFAULTS: MappingSettings = {
  startingPosition: 'TRIM_HORIZON',
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0,
  bisectBatchOnFunctionError: false,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  reportBatchItemFailures: false,
  parallelizationFactor: 1,
};

/** Checks settings with Lambda's own limits; the message names the setting, the value and what is allowed. */
export function validateSettings(s: MappingSettings): MappingSettings {
  const fail = (name: string, value: unknown, allowed: string) => {
    throw new RangeError(`event source mapping ${name} is ${JSON.stringify(value)}: ${allowed}`);
  };
  const int = (v: number) => Number.isInteger(v);
  if (!['TRIM_HORIZON', 'LATEST'].includes(s.startingPosition)) fail('StartingPosition', s.startingPosition, 'use TRIM_HORIZON or LATEST (AT_TIMESTAMP is not supported for DynamoDB streams)');
  if (!int(s.batchSize) || s.batchSize < 1 || s.batchSize > 10_000) fail('BatchSize', s.batchSize, 'use a whole number from 1 to 10000');
  const w = s.maximumBatchingWindowInSeconds;
  if (!int(w) || w < 0 || w > 300) fail('MaximumBatchingWindowInSeconds', w, 'use a whole number from 0 to 300');
  const r = s.maximumRetryAttempts;
  if (!int(r) || r < -1 || r > 10_000) fail('MaximumRetryAttempts', r, 'use -1 (retry until the record expires) or 0 to 10000');
  const a = s.maximumRecordAgeInSeconds;
  if (!int(a) || !(a === -1 || (a >= 60 && a <= 604_800))) fail('MaximumRecordAgeInSeconds', a, 'use -1 (no limit) or 60 to 604800');
  const p = s.parallelizationFactor;
  if (!int(p) || p < 1 || p > 10) fail('ParallelizationFactor', p, 'use a whole number from 1 to 10');
  return s;
}
