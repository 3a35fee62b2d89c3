import { createHash } from 'node:crypto';

/**
 * Physical names of every resource a replicated table deploys: explicit and deterministic (the same
 * config always gives the same names), within each AWS limit for any legal table name (3-255
 * characters of A-Z a-z 0-9 _ - .) and any region, and readable where they can be: table name and
 * region first. When a name must be cut, or a character replaced, a short hash of the full name keeps
 * distinct inputs distinct.
 */
export const NAME_RULES = {
  /** DynamoDB table: 3-255 of A-Z a-z 0-9 _ - . */
  table: { limit: 255, invalid: /[^A-Za-z0-9_.-]/g },
  /** Lambda function: 1-64 of A-Z a-z 0-9 _ - */
  function: { limit: 64, invalid: /[^A-Za-z0-9_-]/g },
  /** IAM role: 1-64 of A-Z a-z 0-9 and + = , . @ _ - (global: the region is part of the name). */
  role: { limit: 64, invalid: /[^A-Za-z0-9+=,.@_-]/g },
  /** SQS queue: 1-80 of A-Z a-z 0-9 _ - */
  queue: { limit: 80, invalid: /[^A-Za-z0-9_-]/g },
  /** SNS topic: 1-256 of A-Z a-z 0-9 _ - */
  topic: { limit: 256, invalid: /[^A-Za-z0-9_-]/g },
  /** CloudWatch alarm: 1-255 printable ASCII. */
  alarm: { limit: 255, invalid: /[^\x20-\x7e]/g },
  /** CloudWatch log group: 1-512 of A-Z a-z 0-9 _ - / . # */
  logGroup: { limit: 512, invalid: /[^A-Za-z0-9_\-/.#]/g },
} as const;

export type NameKind = keyof typeof NAME_RULES;

const HASH_LENGTH = 8;
const hashOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH);

/**
 * `<table><joiner><rest>`, or, when that is too long or holds a character the kind does not allow,
 * `<table cut>-<hash><joiner><rest>`: the rest (region, slot, role of the resource) is never cut.
 */
export function physicalName(kind: NameKind, table: string, rest: string, joiner = '-'): string {
  const { limit, invalid } = NAME_RULES[kind];
  const full = `${table}${joiner}${rest}`;
  const clean = full.replace(invalid, '-');
  if (clean === full && clean.length <= limit) return full;
  const tail = `-${hashOf(full)}${joiner}${rest.replace(invalid, '-')}`;
  return `${table.replace(invalid, '-').slice(0, limit - tail.length)}${tail}`;
}

/** The replication state table beside a replicated table, in every region: tombstones and the failover fence. */
export const stateTableName = (table: string) => physicalName('table', table, 'replication', '.');

/** Names of one replication link: the reader of `sourceRegion`'s stream in `slot` (0 or 1). */
export function linkNames(table: string, sourceRegion: string, slot: number) {
  const link = `${sourceRegion}-link${slot}`;
  const functionName = physicalName('function', table, link);
  return {
    functionName,
    roleName: physicalName('role', table, link),
    queueName: physicalName('queue', table, `${link}-dlq`),
    logGroupName: `/aws/lambda/${functionName}`,
    alarmName: (what: string) => physicalName('alarm', table, `${link}-${what}`),
  };
}

/** The SNS topic every alarm of a region notifies. */
export const alarmTopicName = (table: string, region: string) => physicalName('topic', table, `${region}-alarms`);

/** The backfill worker beside a replication link: it copies existing items to the link's targets. */
export function backfillWorkerNames(table: string, sourceRegion: string, slot: number) {
  const worker = `${sourceRegion}-link${slot}-backfill`;
  const functionName = physicalName('function', table, worker);
  return { functionName, roleName: physicalName('role', table, worker), logGroupName: `/aws/lambda/${functionName}` };
}
