import { TableContext } from './context';
import { Progress } from './progress';
import { diffSnapshots, inSync, scanSnapshot, Snapshot } from './snapshot';

export interface RegionReport {
  readonly region: string;
  readonly sourceItems: number;
  readonly replicaItems: number;
  readonly missing: string[];
  readonly extra: string[];
  readonly different: string[];
  readonly inSync: boolean;
}

/** Scans the source and each replica in parallel segments and compares them (cli/snapshot.ts). */
export async function verify(ctx: TableContext, regions: string[], segments: number, quiet = false): Promise<{ reports: RegionReport[]; source: Snapshot; replicas: Map<string, Snapshot> }> {
  const progress = new Progress('verify: scanned', undefined, process.stderr, quiet);
  const rules = ctx.rules();
  const scan = (region: string) => scanSnapshot(ctx.client(region), ctx.table.name, ctx.keyNames, { rules, segments, onPage: (n) => progress.add(n) });
  const [source, ...replicaSnapshots] = (await Promise.all([ctx.table.primaryRegion, ...regions].map(scan))) as [Snapshot, ...Snapshot[]];
  progress.finish();
  const replicas = new Map(regions.map((r, i) => [r, replicaSnapshots[i]!]));
  const reports = regions.map((region) => {
    const replica = replicas.get(region)!;
    const d = diffSnapshots(source, replica);
    return { region, sourceItems: source.states.size, replicaItems: replica.states.size, ...d, inSync: inSync(d) };
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
