import { EventItem, keyJson } from '../handlers/attribute-values';
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
  /** The first keys of each kind, as DynamoDB JSON (what `aws dynamodb get-item --key` takes). */
  readonly sample: { missing: EventItem[]; extra: EventItem[]; different: EventItem[] };
}

export const SAMPLE = 10;

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
    const json = (keys: string[], from: Snapshot) => keys.slice(0, SAMPLE).map((k) => keyJson(from.keys.get(k)!));
    const sample = { missing: json(d.missing, source), extra: json(d.extra, replica), different: json(d.different, source) };
    return { region, sourceItems: source.states.size, replicaItems: replica.states.size, ...d, inSync: inSync(d), sample };
  });
  return { reports, source, replicas };
}

/** Counts and a sample of keys, never values. */
export function renderVerify(table: string, reports: RegionReport[]): string {
  const lines = [`${table}: source ${reports[0]?.sourceItems ?? 0} items`];
  for (const r of reports) {
    lines.push(`  ${r.region}: ${r.replicaItems} items, ${r.missing.length} missing, ${r.extra.length} extra, ${r.different.length} different -> ${r.inSync ? 'in sync' : 'OUT OF SYNC'}`);
    for (const kind of ['missing', 'extra', 'different'] as const) {
      const total = r[kind].length;
      if (total) lines.push(`    ${kind}: ${r.sample[kind].map((k) => JSON.stringify(k)).join(' ')}${total > r.sample[kind].length ? ` (+${total - r.sample[kind].length} more)` : ''}`);
    }
  }
  return lines.join('\n');
}

/** The command's fields of the JSON envelope: counts per region and the sample of keys. */
export const verifyFields = (reports: RegionReport[]) => ({
  inSync: reports.every((r) => r.inSync),
  regions: reports.map((r) => ({ region: r.region, sourceItems: r.sourceItems, replicaItems: r.replicaItems, inSync: r.inSync, missing: r.missing.length, extra: r.extra.length, different: r.different.length, sample: r.sample })),
});
