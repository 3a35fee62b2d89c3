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
  /** Items written concurrently per invocation, across all targets (default 64). */
  maxConcurrency: 'MAX_CONCURRENCY',
} as const;

export const CONFLICT_POLICIES = ['source-wins', 'keep-replica'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

export const DEFAULTS = {
  conflictPolicy: 'source-wins' as ConflictPolicy,
  replicateTtlDeletes: true,
  /** A default batch (100 records) to up to two regions in one round trip: round trips set the pace. */
  maxConcurrency: 256,
} as const;

/**
 * Every attribute whose name starts with this prefix belongs to replication, not to the user:
 * it is written on replicas, stripped from source images, and ignored by every comparison.
 */
export const METADATA_PREFIX = '__rep_';

export const METADATA = {
  /** ARN of the source stream the replicated version came from. */
  stream: `${METADATA_PREFIX}stream`,
  /** The record's SequenceNumber, left-padded with zeros to 40 digits so strings sort numerically. */
  seq: `${METADATA_PREFIX}seq`,
  /** The record's ApproximateCreationDateTime (epoch seconds): orders versions across streams. */
  ts: `${METADATA_PREFIX}ts`,
} as const;

/** Stream records of TTL deletions carry this identity (DynamoDB developer guide, TTL and streams). */
export const TTL_DELETE_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' } as const;
