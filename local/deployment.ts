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
}

export interface LocalDeployment {
  readonly links: readonly LocalLink[];
  /** Each region's stream. */
  readonly streamArns: Readonly<Record<string, string>>;
  /** Switches links' mappings on and off by function name, as the Lambda API does; checkpoints are kept. */
  readonly mappings: MappingControl;
  /** Regions whose links read now. */
  enabledRegions(): string[];
  /** Resolves once every enabled link has delivered everything written before the call. */
  waitForIdle(timeoutMs?: number): Promise<void>;
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
      const handler = makeHandler(config, opts.handlerDeps?.(id));
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
        invoke: opts.wrapInvoke ? opts.wrapInvoke(id, invoke) : invoke,
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
    waitForIdle: async (timeoutMs = 60_000) => {
      await Promise.all(links.filter((l) => l.emulator.enabled).map((l) => l.emulator.waitForIdle(timeoutMs)));
    },
    stop: async () => {
      await Promise.all(links.map((l) => l.emulator.stop()));
      streamClients.forEach((c) => c.destroy());
    },
  };
}
