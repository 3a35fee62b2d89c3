import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { MappingChange, MappingControl } from '../cli/mappings';
import { linksFrom } from '../config/links';
import { linkNames, stateTableName } from '../config/names';
import type { ReplicatorConfig } from '../handlers/config';
import { DEFAULTS } from '../handlers/contract';
import { HandlerDeps, makeHandler } from '../handlers/replicate';
import { EmulatorOptions, EventSourceMappingEmulator } from './esm/emulator';
import { MemoryDestination, OnFailureDestination } from './esm/on-failure';
import type { MappingSettings } from './esm/options';
import { streamClock, watchStream } from './esm/stream-clock';
import type { DynamoDBRecord } from 'aws-lambda';
import { PROJECT_MAPPING } from './pipeline';
import { ensureStateTable, LocalTableSpec, provisionTables } from './tables';

/** One replication link, as deployed: the reader of `region`'s stream in `slot`, writing to `targets`. */
export interface LocalLink {
  readonly region: string;
  readonly slot: number;
  readonly targets: readonly string[];
  readonly functionName: string;
  readonly streamArn: string;
  readonly emulator: EventSourceMappingEmulator;
  readonly onFailure: OnFailureDestination;
  readonly config: ReplicatorConfig;
}

export interface LocalDeploymentOptions {
  readonly table: LocalTableSpec & { readonly linkSlots?: Readonly<Record<string, number>> };
  readonly clientFor: (region: string) => DynamoDBClient;
  /** Settings as this project deploys them, unless overridden. */
  readonly mapping?: Partial<MappingSettings>;
  readonly emulator?: Partial<Omit<EmulatorOptions, 'streamArn' | 'region' | 'streams' | 'invoke' | 'enabled'>>;
  readonly handler?: Partial<Omit<ReplicatorConfig, 'targets' | 'state'>>;
  readonly handlerDeps?: (link: { region: string; slot: number }) => HandlerDeps;
  /** Wraps a link's real handler, for example to inject faults. */
  readonly wrapInvoke?: (link: { region: string; slot: number }, invoke: EmulatorOptions['invoke']) => EmulatorOptions['invoke'];
  /** Default: in memory, one per link. */
  readonly onFailure?: (link: { region: string; slot: number; functionName: string }) => OnFailureDestination;
  /** The tables exist already (state tables are made sure of). */
  readonly existing?: boolean;
  /**
   * Watch every region's stream from the start (local/esm/stream-clock.ts), so records written while
   * a region's links are disabled keep their true second: a failover classifies records by it.
   */
  readonly watchStreams?: boolean;
  /**
   * The wall clock (ms) for stamps, record ages and the handlers; replaceable so a test can move time
   * forward (see `settle`) instead of waiting out a failover.
   */
  readonly clock?: () => number;
}

export interface LocalDeployment {
  readonly links: readonly LocalLink[];
  /** Each region's stream. */
  readonly streamArns: Readonly<Record<string, string>>;
  /** Switches links' mappings on and off by function name, as the Lambda API does; checkpoints are kept. */
  readonly mappings: MappingControl;
  /** Regions whose links read now. */
  enabledRegions(): string[];
  /** When a record of a region's stream was written, as the emulators stamp it (whole seconds, not DynamoDB Local's minutes). */
  recordSeconds(r: DynamoDBRecord, shardId: string, region: string): number;
  /** Resolves once every enabled link has delivered everything written before the call. */
  waitForIdle(timeoutMs?: number): Promise<void>;
  /**
   * Resolves once every invocation running at the call has ended and every record written before it
   * is stamped: what a failover's wait (fence cache + function timeout) guarantees, without the wait.
   */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole replication layer of one table, locally, laid out as the components deploy it: the
 * table and its state table in every region, and in every region up to two links (by slot) reading
 * that region's stream, each the real handler behind an event source mapping emulator. Only the
 * primary's mappings are enabled; `mappings` switches them, as the failover command does.
 */
export async function startLocalDeployment(opts: LocalDeploymentOptions): Promise<LocalDeployment> {
  const { table } = opts;
  const regions = [table.primaryRegion, ...table.replicaRegions];
  if (opts.existing) await Promise.all(regions.map((r) => ensureStateTable(opts.clientFor(r), table.name)));
  else await provisionTables(table, opts.clientFor);
  const streamArns: Record<string, string> = {};
  for (const r of regions) {
    const { Table } = await opts.clientFor(r).send(new DescribeTableCommand({ TableName: table.name }));
    streamArns[r] = Table!.LatestStreamArn!;
  }

  const watches = opts.watchStreams ? regions.map((r) => watchStream(streamArns[r]!, r, { log: opts.emulator?.log, now: opts.clock })) : [];
  const running = new Set<Promise<unknown>>();
  const tracked = (invoke: EmulatorOptions['invoke']): EmulatorOptions['invoke'] => (event) => {
    const call = invoke(event);
    running.add(call);
    void call.finally(() => running.delete(call)).catch(() => undefined);
    return call;
  };
  const streamClients = new Map(regions.map((r) => [r, new DynamoDBStreamsClient({ region: r })]));
  const links: LocalLink[] = [];
  for (const region of regions) {
    for (const { slot, targets } of linksFrom(region, regions, table.linkSlots)) {
      const id = { region, slot };
      const { functionName } = linkNames(table.name, region, slot);
      const config: ReplicatorConfig = {
        targets: targets.map((t) => ({ region: t, tableName: table.name })),
        state: { region, tableName: stateTableName(table.name) },
        ttlAttribute: table.ttlAttribute,
        fenceCacheMs: DEFAULTS.fenceCacheSeconds * 1000,
        conflictPolicy: 'source-wins',
        replicateTtlDeletes: true,
        maxConcurrency: DEFAULTS.maxConcurrency,
        ...opts.handler,
      };
      const handler = makeHandler(config, { ...(opts.clock && { now: opts.clock }), ...opts.handlerDeps?.(id) });
      const invoke: EmulatorOptions['invoke'] = (event) => handler(event);
      const onFailure = opts.onFailure?.({ ...id, functionName }) ?? new MemoryDestination();
      const emulator = new EventSourceMappingEmulator({
        ...PROJECT_MAPPING,
        ...opts.mapping,
        onFailure,
        ...opts.emulator,
        streamArn: streamArns[region]!,
        region,
        streams: streamClients.get(region)!,
        invoke: tracked(opts.wrapInvoke ? opts.wrapInvoke(id, invoke) : invoke),
        ...(opts.clock && { clock: opts.clock }),
        functionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
        enabled: region === table.primaryRegion,
      }).start();
      links.push({ region, slot, targets, functionName, streamArn: streamArns[region]!, emulator, onFailure, config });
    }
  }

  const mappings: MappingControl = {
    async setEnabled(region, functionName, enabled): Promise<MappingChange> {
      const link = links.find((l) => l.region === region && l.functionName === functionName);
      if (!link) return 'missing';
      if (link.emulator.enabled === enabled) return 'unchanged';
      if (enabled) link.emulator.enable();
      else await link.emulator.disable();
      return enabled ? 'enabled' : 'disabled';
    },
  };

  return {
    links,
    streamArns,
    mappings,
    enabledRegions: () => [...new Set(links.filter((l) => l.emulator.enabled).map((l) => l.region))],
    recordSeconds: (r, shardId, region) => streamClock(streamArns[region]!, region).stampOf(shardId, r.dynamodb!.SequenceNumber!) ?? r.dynamodb!.ApproximateCreationDateTime!,
    settle: async () => {
      await Promise.allSettled([...running]);
      await Promise.all(watches.map((w) => w.caughtUp()));
    },
    waitForIdle: async (timeoutMs = 60_000) => {
      await Promise.all(links.filter((l) => l.emulator.enabled).map((l) => l.emulator.waitForIdle(timeoutMs)));
    },
    stop: async () => {
      await Promise.all(links.map((l) => l.emulator.stop()));
      await Promise.all(watches.map((w) => w.stop()));
      streamClients.forEach((c) => c.destroy());
    },
  };
}
