import type { ConflictPolicy } from '../handlers/contract';

/**
 * The validated model of a stack's configuration: what `config/parse.ts` produces from
 * `ddb-replicator:*` keys, and what the stack program, the local runtime and the CLI all read.
 */
export type KeyType = 'S' | 'N' | 'B';

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyType;
}

export interface GlobalSecondaryIndex {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Default ALL. */
  readonly projectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  /** Only with INCLUDE. */
  readonly nonKeyAttributes?: readonly string[];
  /** Only with PROVISIONED billing; default: the table's capacities. */
  readonly readCapacity?: number;
  readonly writeCapacity?: number;
}

export type Billing = { readonly mode: 'PAY_PER_REQUEST' } | { readonly mode: 'PROVISIONED'; readonly readCapacity: number; readonly writeCapacity: number };

export interface StreamSettings {
  /** 1-10000, default 100. */
  readonly batchSize: number;
  /** 0-300, default 0. */
  readonly batchingWindowSeconds: number;
  /** 0-10000, default 10 (never unbounded: a poison record would block its shard for a day). */
  readonly maximumRetryAttempts: number;
  /** 60-86400, default 3600 (stream records live 24 h). */
  readonly maximumRecordAgeSeconds: number;
  /** 1-10, default 1. */
  readonly parallelizationFactor: number;
}

export interface AlarmThresholds {
  /** IteratorAge Maximum above this many ms alarms; default 60000. */
  readonly iteratorAgeMs: number;
  /** ReplicationLatency Maximum above this many ms alarms; default 120000. */
  readonly replicationLatencyMs: number;
  /** Conflicts Sum per 5 minutes above this alarms; default 0 (any conflict). */
  readonly conflicts: number;
}

export interface LambdaSettings {
  /** 128-10240, default 1024 (the benchmark's Lambda-shaped rows: CPU comes with memory). */
  readonly memoryMb: number;
  /** 1-900, default 60. */
  readonly timeoutSeconds: number;
}

export interface TableModel {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalSecondaryIndexes: readonly GlobalSecondaryIndex[];
  readonly primaryRegion: string;
  /** At least one; none equal to the primary, none repeated. */
  readonly replicaRegions: readonly string[];
  /**
   * Regions whose replication link slot (0 or 1) is pinned; the others get a stable hash of their
   * name (config/links.ts). A region keeps its slot for life: change a pin only with drained DLQs.
   */
  readonly linkSlots: Readonly<Record<string, number>>;
  readonly billing: Billing;
  readonly ttlAttribute?: string;
  readonly conflictPolicy: ConflictPolicy;
  readonly replicateTtlDeletes: boolean;
  readonly stream: StreamSettings;
  readonly alarms: AlarmThresholds;
  readonly lambda: LambdaSettings;
  /** Default true. */
  readonly deletionProtection: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

export interface StackModel {
  readonly tables: readonly TableModel[];
  /** Where alarm notifications go; none subscribes no e-mail. */
  readonly alarmEmail?: string;
  /** CloudWatch namespace of the handler's metrics; default "DdbReplicator". */
  readonly metricsNamespace: string;
}
