import { createHash } from 'node:crypto';

/**
 * Physical names that always fit AWS's limits: readable parts first, and when the whole would be
 * too long, a cut with a short hash of the whole appended, so distinct inputs keep distinct names.
 */
export function fitName(name: string, limit: number): string {
  if (name.length <= limit) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, limit - hash.length - 1)}-${hash}`;
}

/** DynamoDB table names: 3-255 characters. */
export const TABLE_NAME_LIMIT = 255;

/** The replication state table beside a replicated table, in every region: tombstones (and, later, the failover fence). */
export const stateTableName = (table: string) => fitName(`${table}.replication`, TABLE_NAME_LIMIT);
