import type * as pulumi from '@pulumi/pulumi';

// The ReplicatedTable's args, in Pulumi's conventions: every field documented with its default.
// Fields that decide which resources exist (regions, keys, indexes, billing) are plain values,
// known when the component is constructed; values another resource may produce are Inputs.
// The same keys, rules and messages as a `ddb-replicator:tables` entry (config/parse.ts readTable).
// Other Pulumi languages get these types through the component provider (provider/), whose schema
// is inferred from this file: enums are `as const` objects, lists are mutable arrays, no unions,
// and type names carry no Args suffix (generated SDKs add their own).

/** The type of a key attribute. */
export const KeyType = {
  /** String. */
  S: 'S',
  /** Number. */
  N: 'N',
  /** Binary. */
  B: 'B',
} as const;
export type KeyType = (typeof KeyType)[keyof typeof KeyType];

/** How a change that meets a replica item changed by someone else is resolved. */
export const ConflictPolicy = {
  /** The source's change is written; the conflict is counted and logged (keys only). */
  SourceWins: 'source-wins',
  /** The replica's item is kept; the conflict is counted and logged (keys only). */
  KeepReplica: 'keep-replica',
} as const;
export type ConflictPolicy = (typeof ConflictPolicy)[keyof typeof ConflictPolicy];

/** How the tables are billed. */
export const BillingMode = {
  /** On demand. */
  PayPerRequest: 'PAY_PER_REQUEST',
  /** Provisioned capacity: set readCapacity and writeCapacity. */
  Provisioned: 'PROVISIONED',
} as const;
export type BillingMode = (typeof BillingMode)[keyof typeof BillingMode];

/** Which attributes a global secondary index projects. */
export const ProjectionType = {
  All: 'ALL',
  KeysOnly: 'KEYS_ONLY',
  /** The keys and nonKeyAttributes. */
  Include: 'INCLUDE',
} as const;
export type ProjectionType = (typeof ProjectionType)[keyof typeof ProjectionType];

/** A key attribute: its name and type. */
export interface TableKey {
  /** Attribute name, 1 to 255 characters; not starting with `__rep_` (replication metadata). */
  name: string;
  /** S, N or B. */
  type: KeyType;
}

/** A global secondary index, the same in every region. */
export interface SecondaryIndex {
  /** Index name, 3 to 255 characters from A-Z a-z 0-9 _ - . */
  name: string;
  partitionKey: TableKey;
  sortKey?: TableKey;
  /** Default ALL. */
  projectionType?: ProjectionType;
  /** The attributes an INCLUDE index projects; only with INCLUDE. */
  nonKeyAttributes?: string[];
  /** Only with PROVISIONED billing; default the table's readCapacity. */
  readCapacity?: number;
  /** Only with PROVISIONED billing; default the table's writeCapacity. */
  writeCapacity?: number;
}

/** The event source mappings that read the primary's stream. */
export interface StreamOptions {
  /** Records per batch, 1 to 10000; default 100. */
  batchSize?: number;
  /** Seconds to gather a batch, 0 to 300; default 0. */
  batchingWindowSeconds?: number;
  /** Retries of a failed batch, 0 to 10000; default 10 (never unbounded: a poison record would block its shard for a day). */
  maximumRetryAttempts?: number;
  /** Oldest record retried, 60 to 86400 seconds; default 3600. */
  maximumRecordAgeSeconds?: number;
  /** Concurrent batches per shard, 1 to 10; default 1. */
  parallelizationFactor?: number;
}

/** Alarm thresholds, per link. */
export interface AlarmOptions {
  /** IteratorAge maximum in milliseconds above which the link alarms; default 60000. */
  iteratorAgeMs?: number;
  /** ReplicationLatency maximum in milliseconds above which the link alarms; default 120000. */
  replicationLatencyMs?: number;
  /** Conflicts per 5 minutes above which the link alarms; default 0 (any conflict). */
  conflicts?: number;
}

/** The replication functions. */
export interface LambdaOptions {
  /** Memory in MB, 128 to 10240 (CPU grows with it); default 1024 (see README, "Benchmark"). */
  memoryMb?: number;
  /** Timeout in seconds, 1 to 900; default 60. */
  timeoutSeconds?: number;
}

/** The arguments of a ReplicatedTable. */
export interface ReplicatedTableArgs {
  /** The table's name in every region; default the component's name. 3 to 255 characters from A-Z a-z 0-9 _ - . */
  name?: string;
  /** The partition key. */
  partitionKey: TableKey;
  /** The sort key; default none. */
  sortKey?: TableKey;
  /** Global secondary indexes, the same in every region; default none. */
  globalSecondaryIndexes?: SecondaryIndex[];
  /** The region applications write to, such as us-east-1. Changing it (with `ddb-replicator failover`) replaces nothing. */
  primaryRegion: string;
  /** At least one other region, each listed once. */
  replicaRegions: string[];
  /**
   * Link slot (0 or 1) per region whose slot is pinned; the others get a stable hash of their name.
   * A region keeps its slot for life: change a pin only with drained DLQs. Default none pinned.
   */
  linkSlots?: Record<string, number>;
  /** Default PAY_PER_REQUEST. */
  billingMode?: BillingMode;
  /** Read capacity units, 1 to 40000; only with PROVISIONED billing, and then required. */
  readCapacity?: number;
  /** Write capacity units, 1 to 40000; only with PROVISIONED billing, and then required. */
  writeCapacity?: number;
  /** The TTL attribute, enabled in every region; default none. */
  ttlAttribute?: string;
  /** Default source-wins. */
  conflictPolicy?: ConflictPolicy;
  /** Whether items TTL deletes in the primary are deleted in the replicas; default true. */
  replicateTtlDeletes?: boolean;
  /** The event source mappings; every field has a default. */
  stream?: StreamOptions;
  /** Alarm thresholds; every field has a default. */
  alarms?: AlarmOptions;
  /** The replication functions; every field has a default. */
  lambda?: LambdaOptions;
  /** Deletion protection of every table, and Pulumi's `protect` on them unless the component's options set it; default true. */
  deletionProtection?: boolean;
  /** Tags of every resource, at most 50; default none. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** An e-mail address subscribed to the alarm topic of every region; default none. */
  alarmEmail?: pulumi.Input<string>;
  /** CloudWatch namespace of the replication metrics, not starting with AWS/; default DdbReplicator. */
  metricsNamespace?: string;
}
