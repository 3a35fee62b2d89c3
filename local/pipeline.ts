import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { TableModel } from '../config/model';
import { ReplicatorConfig } from '../handlers/config';
import { DEFAULTS } from '../handlers/contract';
import { HandlerDeps, makeHandler } from '../handlers/replicate';
import { EmulatorOptions, EventSourceMappingEmulator } from './esm/emulator';
import { MemoryDestination, OnFailureDestination } from './esm/on-failure';
import { MappingSettings } from './esm/options';
import { StreamClock, StreamWatch, streamClock, watchStream } from './esm/stream-clock';
import { ensureStateTable, LocalTableSpec, provisionTables } from './tables';
import { stateTableName } from '../config/names';

export interface LocalReplication<D extends OnFailureDestination = MemoryDestination> {
  readonly streamArn: string;
  readonly emulator: EventSourceMappingEmulator;
  /** Where discarded batches go: in memory unless the options name a destination. */
  readonly onFailure: D;
  readonly config: ReplicatorConfig;
  /** Stamps the source stream's ApproximateCreationDateTime (shared with any other mapping of it). */
  readonly clock: StreamClock;
  stop(): Promise<void>;
}

export interface LocalReplicationOptions<D extends OnFailureDestination = MemoryDestination> {
  readonly table: LocalTableSpec;
  readonly clientFor: (region: string) => DynamoDBClient;
  /** Settings as this project deploys them, unless overridden. */
  readonly mapping?: Partial<MappingSettings>;
  readonly emulator?: Partial<Omit<EmulatorOptions, 'streamArn' | 'region' | 'streams' | 'invoke'>>;
  readonly handler?: Partial<Omit<ReplicatorConfig, 'targets' | 'state'>>;
  readonly handlerDeps?: HandlerDeps;
  /** Wraps the real handler, for example to inject faults in tests. */
  readonly wrapInvoke?: (invoke: EmulatorOptions['invoke']) => EmulatorOptions['invoke'];
  /** Default: in memory. The local runtime passes a real SQS queue (local/sqs.ts). */
  readonly onFailure?: D;
  /** Skip CreateTable when the tables exist already. */
  readonly existingStreamArn?: string;
  /**
   * Watch the source stream from now on (stream-clock.ts), so records keep their true second even
   * when no mapping reads them yet or while it is disabled; stopped by `stop()`. Default false:
   * the emulator, which starts at once, stamps records itself (up to a poll interval late).
   */
  readonly watchStream?: boolean;
}

/** The mapping settings this project deploys (see components/): the safe ones, not Lambda's defaults. */
export const PROJECT_MAPPING: MappingSettings = {
  startingPosition: 'TRIM_HORIZON',
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0,
  bisectBatchOnFunctionError: true,
  maximumRetryAttempts: 10,
  maximumRecordAgeInSeconds: 3600,
  reportBatchItemFailures: true,
  parallelizationFactor: 1,
};

/** The handler and mapping settings a stack's table deploys with, for the local runtime. */
export function settingsFromModel(t: TableModel): Pick<LocalReplicationOptions, 'mapping' | 'handler'> {
  return {
    mapping: {
      batchSize: t.stream.batchSize,
      maximumBatchingWindowInSeconds: t.stream.batchingWindowSeconds,
      maximumRetryAttempts: t.stream.maximumRetryAttempts,
      maximumRecordAgeInSeconds: t.stream.maximumRecordAgeSeconds,
      parallelizationFactor: t.stream.parallelizationFactor,
    },
    handler: { conflictPolicy: t.conflictPolicy, replicateTtlDeletes: t.replicateTtlDeletes },
  };
}

/** Tables, the real handler and an event source mapping emulator between them, on DynamoDB Local. */
export async function startLocalReplication<D extends OnFailureDestination = MemoryDestination>(opts: LocalReplicationOptions<D>): Promise<LocalReplication<D>> {
  const { table } = opts;
  const streamArn = opts.existingStreamArn ?? (await provisionTables(table, opts.clientFor));
  if (opts.existingStreamArn) await Promise.all([table.primaryRegion, ...table.replicaRegions].map((r) => ensureStateTable(opts.clientFor(r), table.name)));
  const watch: StreamWatch | undefined = opts.watchStream ? watchStream(streamArn, table.primaryRegion, { log: opts.emulator?.log }) : undefined;
  const config: ReplicatorConfig = {
    targets: table.replicaRegions.map((region) => ({ region, tableName: table.name })),
    state: { region: table.primaryRegion, tableName: stateTableName(table.name) },
    ttlAttribute: table.ttlAttribute,
    fenceCacheMs: DEFAULTS.fenceCacheSeconds * 1000,
    conflictPolicy: 'source-wins',
    replicateTtlDeletes: true,
    maxConcurrency: DEFAULTS.maxConcurrency,
    ...opts.handler,
  };
  const handler = makeHandler(config, opts.handlerDeps);
  const invoke: EmulatorOptions['invoke'] = (event) => handler(event);
  const onFailure = opts.onFailure ?? (new MemoryDestination() as OnFailureDestination as D);
  const streams = new DynamoDBStreamsClient({ region: table.primaryRegion });
  const emulator = new EventSourceMappingEmulator({
    ...PROJECT_MAPPING,
    ...opts.mapping,
    onFailure,
    ...opts.emulator,
    streamArn,
    region: table.primaryRegion,
    streams,
    invoke: opts.wrapInvoke ? opts.wrapInvoke(invoke) : invoke,
    functionArn: `arn:aws:lambda:${table.primaryRegion}:000000000000:function:${table.name}-replicate`,
  }).start();
  return {
    streamArn,
    emulator,
    onFailure,
    config,
    clock: streamClock(streamArn, table.primaryRegion),
    stop: async () => {
      await emulator.stop();
      await watch?.stop();
      streams.destroy();
    },
  };
}
