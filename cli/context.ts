import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TableModel } from '../config/model';
import { loadStackModel } from '../config/stack-file';
import { stateTableName } from '../config/names';
import { Fence, initialFence, readFence } from '../handlers/fence';
import type { StateRules } from '../handlers/item-state';

import { CliError } from './errors';
import { sdkDynamo } from '../handlers/dynamo-sdk';

export { CliError };

export interface TableContext {
  readonly table: TableModel;
  readonly keyNames: string[];
  /** DynamoDB client per region; `--endpoint` points every region at one local endpoint. */
  client(region: string): DynamoDBClient;
  sourceStreamArn(): Promise<string>;
  /** The stream of the table in any region. */
  streamArnOf(region: string): Promise<string>;
  /** How item states compare now (the table's TTL attribute). */
  rules(): StateRules;
  /** Generation of the current primary term, for repair versions. */
  generation(): Promise<number>;
  close(): void;
}

/** Loads the stack's table and makes clients, as every subcommand needs. */
export function tableContext(opts: { stack: string; table?: string; endpoint?: string; projectDir: string }): TableContext {
  const model = loadStackModel(opts.stack, opts.projectDir);
  const table = opts.table ? model.tables.find((t) => t.name === opts.table) : model.tables.length === 1 ? model.tables[0] : undefined;
  if (!table) {
    throw new CliError(`${opts.table ? `--table ${opts.table} is not in` : 'choose a table with --table; there are several in'} stack ${opts.stack}: ${model.tables.map((t) => t.name).join(', ')}`);
  }
  if (opts.endpoint) {
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  }
  const clients = new Map<string, DynamoDBClient>();
  const client = (region: string) => clients.get(region) ?? clients.set(region, tagRegion(new DynamoDBClient({ region, ...(opts.endpoint && { endpoint: opts.endpoint }) }), region)).get(region)!;
  return {
    table,
    keyNames: [table.partitionKey.name, ...(table.sortKey ? [table.sortKey.name] : [])],
    client,
    sourceStreamArn() {
      return this.streamArnOf(this.table.primaryRegion);
    },
    async streamArnOf(region: string) {
      const { Table } = await client(region).send(new DescribeTableCommand({ TableName: this.table.name }));
      if (!Table?.LatestStreamArn) throw new CliError(`table ${this.table.name} in ${region} has no stream: deploy the stack first`);
      return Table.LatestStreamArn;
    },
    rules() {
      return { ttlAttribute: this.table.ttlAttribute, nowSeconds: Math.floor(Date.now() / 1000) };
    },
    async generation() {
      // A stack deployed before fences existed has no state table yet: its one term is the first.
      const fence = await readFence(sdkDynamo(client(this.table.primaryRegion)), stateTableName(this.table.name)).catch((err: Error) => {
        if (err.name === 'ResourceNotFoundException') return undefined;
        throw err;
      });
      return fence?.generation ?? 1;
    },
    close: () => clients.forEach((c) => c.destroy()),
  };
}

/**
 * The context with the table's primary as the fences say, not as the stack config does: after a
 * failover the config may lag behind, and nothing may write into the current primary, repairs
 * included. Regions that do not answer are skipped; `note` says when the config is stale.
 */
export async function atCurrentPrimary(ctx: TableContext): Promise<{ ctx: TableContext; fence: Fence; note?: string }> {
  const regions = [ctx.table.primaryRegion, ...ctx.table.replicaRegions];
  const fences = await Promise.all(regions.map((r) => readFence(sdkDynamo(ctx.client(r)), stateTableName(ctx.table.name)).catch(() => undefined)));
  const fence = fences.reduce<Fence | undefined>((a, f) => (f && (!a || f.generation > a.generation) ? f : a), undefined) ?? initialFence(ctx.table.primaryRegion);
  if (fence.primary === ctx.table.primaryRegion || !regions.includes(fence.primary)) return { ctx, fence };
  const table = { ...ctx.table, primaryRegion: fence.primary, replicaRegions: regions.filter((r) => r !== fence.primary) };
  const note = `the fences say ${fence.primary} is the primary (generation ${fence.generation}), the stack config still says ${ctx.table.primaryRegion}: using ${fence.primary}; commit the failover to the config`;
  return { ctx: { ...ctx, table }, fence, note };
}

/** Marks the SDK's errors with the region asked, so an error line can name it (cli/errors.ts). */
function tagRegion(client: DynamoDBClient, region: string): DynamoDBClient {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (err && typeof err === 'object') (err as { region?: string }).region ??= region;
        throw err;
      }
    },
    { step: 'initialize', name: 'ddbReplicatorRegionTag' },
  );
  return client;
}

/** The replica regions a command works on: all, or the one its `flag` names (never the primary). */
export function replicaRegionsOf(table: TableModel, region?: string, flag = '--region'): string[] {
  if (region === undefined) return [...table.replicaRegions];
  const replicas = table.replicaRegions.join(', ');
  if (region === table.primaryRegion) throw new CliError(`${flag} ${region}: ${region} is the primary of ${table.name}, which this command never writes into; use a replica region: ${replicas}`);
  if (!table.replicaRegions.includes(region)) throw new CliError(`${flag} ${region} is not a replica region of ${table.name}: use one of ${replicas}`);
  return [region];
}
