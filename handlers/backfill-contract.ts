/**
 * Environment of the backfill worker (handlers/backfill-worker.ts) besides REPLICA_TARGETS,
 * STATE_TABLE and TTL_ATTRIBUTE (handlers/contract.ts). Apart from the worker, so the component that
 * sets them imports no handler code.
 */
export const WORKER_ENV = {
  /** The table to copy from, in this function's region. */
  sourceTable: 'SOURCE_TABLE',
  /** JSON array of the table's key attribute names: partition key, then sort key. */
  keyAttributes: 'KEY_ATTRIBUTES',
} as const;
