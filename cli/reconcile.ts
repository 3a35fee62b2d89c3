import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { SdkItem } from '../handlers/attribute-values';
import { mapLimit } from '../handlers/concurrency';
import { SyncResult, syncItem } from '../handlers/repair';
import { TableContext } from './context';
import { Failures } from './failures';
import { verify } from './verify';
import { sdkDynamo } from '../handlers/dynamo-sdk';

export interface ReconcileReport {
  readonly region: string;
  repaired: number;
  /** The replica changed during the run (live replication), or was already equal: left to replication. */
  skipped: number;
  /** Written into an empty slot, then removed again because the source item was deleted meanwhile. */
  undone: number;
  /** Writes that failed, undos included. */
  failed: number;
}

/**
 * Verifies, then repairs each difference through handlers/repair.ts: the replica is read first and
 * the source second (strongly consistent, never what the scan saw), and the write lands only if the
 * replica did not change in between, so a change replicated during the run is never overwritten.
 * Items that failed go to `failures`, by key and error.
 */
export async function reconcile(ctx: TableContext, regions: string[], segments: number, quiet = false, failures = new Failures()): Promise<ReconcileReport[]> {
  const { reports, source, replicas } = await verify(ctx, regions, segments, quiet);
  const generation = await ctx.generation();
  const out: ReconcileReport[] = [];
  for (const r of reports) {
    const report: ReconcileReport = { region: r.region, repaired: 0, skipped: 0, undone: 0, failed: 0 };
    const keyOf = (k: string) => source.keys.get(k) ?? replicas.get(r.region)!.keys.get(k)!;
    await mapLimit([...r.missing, ...r.different, ...r.extra], 16, async (k) => {
      const keys = keyOf(k);
      const result = await syncItem({
        mode: 'repair',
        replica: sdkDynamo(ctx.client(r.region)),
        target: { region: r.region, tableName: ctx.table.name },
        keys,
        readSource: () => readSourceItem(ctx, keys),
        generation,
        rules: ctx.rules(),
      });
      countSync(report, result);
      const error = syncError(result);
      if (error) failures.add(r.region, keys, error);
    });
    out.push(report);
  }
  return out;
}

/** Why an item's sync failed, or undefined when it did not: the write's error, or the undo's. */
export function syncError(result: SyncResult): string | undefined {
  if (result.outcome.status === 'failed') return result.outcome.error;
  if (result.undo === 'failed') return 'written into an empty slot, but the source item was deleted meanwhile and removing it again failed: run reconcile again';
  return undefined;
}

export const renderReconcile = (regions: ReconcileReport[]) =>
  regions.map((r) => `${r.region}: repaired ${r.repaired}, left to live replication ${r.skipped}, deletions kept ${r.undone}, failed ${r.failed}`).join('\n');

/** A strongly consistent read of the source item. */
export async function readSourceItem(ctx: TableContext, keys: SdkItem): Promise<SdkItem | undefined> {
  return (await ctx.client(ctx.table.primaryRegion).send(new GetItemCommand({ TableName: ctx.table.name, Key: keys, ConsistentRead: true }))).Item;
}

/** Adds one item's sync result to a report: an undo that failed counts as failed, not as done. */
export function countSync(report: { repaired: number; skipped: number; undone: number; failed: number }, result: SyncResult): void {
  const o = result.outcome;
  if (o.status === 'failed' || result.undo === 'failed') report.failed++;
  else if (result.undo === 'undone' || result.undo === 'superseded') report.undone++;
  else if (o.status === 'applied') report.repaired++;
  else report.skipped++;
}
