import { canonicalItem, keyText, SdkItem } from '../handlers/attribute-values';
import { TableContext } from './context';
import { Progress } from './progress';
import { parallelScan } from './scan';

export interface RegionReport {
  readonly region: string;
  readonly sourceItems: number;
  readonly replicaItems: number;
  readonly missing: string[];
  readonly extra: string[];
  readonly different: string[];
  readonly inSync: boolean;
}

export interface Snapshot {
  /** Canonical text of each item (replication metadata ignored), by key text. */
  readonly items: Map<string, string>;
  /** Each item's key attributes, by key text, for repairs. */
  readonly keys: Map<string, SdkItem>;
}

export async function snapshot(ctx: TableContext, region: string, segments: number, progress?: Progress): Promise<Snapshot> {
  const items = new Map<string, string>();
  const keys = new Map<string, SdkItem>();
  await parallelScan(ctx.client(region), ctx.table.name, segments, async (page) => {
    for (const item of page.items) {
      const key = Object.fromEntries(ctx.keyNames.map((k) => [k, item[k]!]));
      const text = keyText(key);
      items.set(text, canonicalItem(item));
      keys.set(text, key);
    }
    progress?.add(page.items.length);
  });
  return { items, keys };
}

/** Scans the source and each replica in parallel segments and compares them, replication metadata ignored. */
export async function verify(ctx: TableContext, regions: string[], segments: number, quiet = false): Promise<{ reports: RegionReport[]; source: Snapshot; replicas: Map<string, Snapshot> }> {
  const progress = new Progress('verify: scanned', undefined, process.stderr, quiet);
  const [source, ...replicaSnapshots] = (await Promise.all([ctx.table.primaryRegion, ...regions].map((r) => snapshot(ctx, r, segments, progress)))) as [Snapshot, ...Snapshot[]];
  progress.finish();
  const replicas = new Map(regions.map((r, i) => [r, replicaSnapshots[i]!]));
  const reports = regions.map((region) => {
    const replica = replicas.get(region)!;
    const missing: string[] = [];
    const different: string[] = [];
    for (const [key, item] of source.items) {
      const other = replica.items.get(key);
      if (other === undefined) missing.push(key);
      else if (other !== item) different.push(key);
    }
    const extra = [...replica.items.keys()].filter((k) => !source.items.has(k));
    return { region, sourceItems: source.items.size, replicaItems: replica.items.size, missing, extra, different, inSync: missing.length + extra.length + different.length === 0 };
  });
  return { reports, source, replicas };
}

/** Counts and a sample of keys, never values. */
export function renderVerify(table: string, reports: RegionReport[], sample = 10): string {
  const lines = [`${table}: source ${reports[0]?.sourceItems ?? 0} items`];
  for (const r of reports) {
    lines.push(`  ${r.region}: ${r.replicaItems} items, ${r.missing.length} missing, ${r.extra.length} extra, ${r.different.length} different -> ${r.inSync ? 'in sync' : 'OUT OF SYNC'}`);
    for (const [kind, keys] of [['missing', r.missing], ['extra', r.extra], ['different', r.different]] as const) {
      if (keys.length) lines.push(`    ${kind}: ${keys.slice(0, sample).join(' ')}${keys.length > sample ? ` (+${keys.length - sample} more)` : ''}`);
    }
  }
  return lines.join('\n');
}

export const verifyJson = (table: string, reports: RegionReport[], sample = 10) =>
  JSON.stringify(
    { table, inSync: reports.every((r) => r.inSync), regions: reports.map((r) => ({ ...r, missing: r.missing.length, extra: r.extra.length, different: r.different.length, sample: { missing: r.missing.slice(0, sample), extra: r.extra.slice(0, sample), different: r.different.slice(0, sample) } })) },
    null,
    2,
  );
