export { ReplicatedTable, ReplicatedTableArgs } from './replicated-table';
export { RegionalTable, RegionalTableArgs, TABLE_GROUP_TAG } from './regional-table';
export { ReplicationLink, ReplicationLinkArgs } from './replication-link';
export { regionalProviders } from './providers';
export { BackfillWorker, BackfillWorkerArgs } from './backfill-worker';
