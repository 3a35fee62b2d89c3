// The components surface of the package ("ddb-replicator/components", also plain "ddb-replicator").
// The component provider (provider/) serves the same classes to Python, Go, C# and YAML programs.
export { ReplicatedTable } from './replicated-table';
export { BillingMode, ConflictPolicy, KeyType, ProjectionType } from './replicated-table-args';
export type { AlarmOptions, SecondaryIndex, TableKey, LambdaOptions, ReplicatedTableArgs, StreamOptions } from './replicated-table-args';
export { RegionalTable, RegionalTableArgs, TABLE_GROUP_TAG } from './regional-table';
export { ReplicationLink, ReplicationLinkArgs } from './replication-link';
export { BackfillWorker, BackfillWorkerArgs } from './backfill-worker';
