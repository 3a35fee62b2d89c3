import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mapLimit } from '../handlers/concurrency';
import { syncItem } from '../handlers/repair';
import { TableContext } from './context';
import { verify } from './verify';

export interface ReconcileReport {
  readonly region: string;
  repaired: number;
  /** The replica changed during the run (live replication): left to replication. */
  skipped: number;
  conflicts: number;
  undone: number;
  failed: number;
}

/**
 * Verifies, then repairs each difference from the source's current state, re-read with a strongly
 * consistent read (never what the scan saw: it may be stale), through the same conditional apply
 * as replication, so a change replicated during the run is never overwritten.
 */
export async function reconcile(ctx: TableContext, regions: string[], segments: number, quiet = false): Promise<ReconcileReport[]> {
  const { reports, source, replicas } = await verify(ctx, regions, segments, quiet);
  const sourceStreamArn = await ctx.sourceStreamArn();
  const readSource = async (keys: Record<string, unknown>) =>
    (await ctx.client(ctx.table.primaryRegion).send(new GetItemCommand({ TableName: ctx.table.name, Key: keys as never, ConsistentRead: true }))).Item;
  const out: ReconcileReport[] = [];
  for (const r of reports) {
    const report: ReconcileReport = { region: r.region, repaired: 0, skipped: 0, conflicts: 0, undone: 0, failed: 0 };
    const keyOf = (k: string) => source.keys.get(k) ?? replicas.get(r.region)!.keys.get(k)!;
    await mapLimit([...r.missing, ...r.different, ...r.extra], 16, async (k) => {
      const keys = keyOf(k);
      const result = await syncItem({
        mode: 'repair',
        replica: ctx.client(r.region),
        target: { region: r.region, tableName: ctx.table.name },
        keys,
        source: await readSource(keys),
        reread: () => readSource(keys),
        sourceStreamArn,
        policy: 'source-wins',
      });
      const o = result.outcome;
      if (o.status === 'applied') report.repaired++;
      else if (o.status === 'failed') report.failed++;
      else report.skipped++;
      if (o.status === 'applied' && o.conflict) report.conflicts++;
      if (result.undone) report.undone++;
    });
    out.push(report);
  }
  return out;
}
