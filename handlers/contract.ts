/**
 * The contract between the infrastructure (components/, local/) and the replication Lambda:
 * environment variable names, their defaults, and the reserved replication-metadata attributes.
 * Both sides import this module so each name is defined once.
 */

export const ENV = {
  /** JSON array of `{ "region": "...", "tableName": "..." }`: where this function writes. */
  replicaTargets: 'REPLICA_TARGETS',
  /** `source-wins` (default) or `keep-replica`. */
  conflictPolicy: 'CONFLICT_POLICY',
  /** `true` (default) or `false`: whether TTL deletions are mirrored to replicas. */
  replicateTtlDeletes: 'REPLICATE_TTL_DELETES',
  /** CloudWatch namespace for the handler's metrics; empty or unset turns metrics off. */
  metricsNamespace: 'METRICS_NAMESPACE',
  /** Items written concurrently per invocation, across all targets (default 256). */
  maxConcurrency: 'MAX_CONCURRENCY',
  /** Name of the replication state table (tombstones of deleted items), in this function's region. */
  stateTable: 'STATE_TABLE',
  /** The table's TTL attribute, if any: an expired item counts as deleted in every comparison. */
  ttlAttribute: 'TTL_ATTRIBUTE',
  /** Seconds a link may trust a region's fence before reading it again (default 10). */
  fenceCacheSeconds: 'FENCE_CACHE_SECONDS',
} as const;

export const CONFLICT_POLICIES = ['source-wins', 'keep-replica'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

export const DEFAULTS = {
  conflictPolicy: 'source-wins' as ConflictPolicy,
  replicateTtlDeletes: true,
  /** A default batch (100 records) to up to two regions in one round trip: round trips set the pace. */
  maxConcurrency: 256,
  /** The failover waits this long (plus the function timeout and a clock margin) for links to see a raised fence. */
  fenceCacheSeconds: 10,
} as const;

/**
 * Every attribute whose name starts with this prefix belongs to replication, not to the user:
 * it is written on replicas, stripped from source images, and ignored by every comparison.
 */
export const METADATA_PREFIX = '__rep_';

export const METADATA = {
  /**
   * The version of the change the replica item holds: `GGGGGG:SSSS…(40):RRRRRRRRRRRRR`, the primary
   * term's generation, the record's SequenceNumber and a repair stamp, each zero-padded so that
   * string order is version order (handlers/versions.ts). Always 61 characters.
   */
  version: `${METADATA_PREFIX}v`,
} as const;

/** Bytes the metadata adds to an item (attribute name plus value), whatever the version: 68. */
export const METADATA_BYTES = METADATA.version.length + 61;
/** DynamoDB's item size limit, 400 KB. */
export const MAX_ITEM_BYTES = 400 * 1024;

/** Stream records of TTL deletions carry this identity (DynamoDB developer guide, TTL and streams). */
export const TTL_DELETE_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' } as const;
