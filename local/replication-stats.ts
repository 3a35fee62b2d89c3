import type { Change } from '../handlers/plan';
import type { AppliedEvent } from '../handlers/replicate';

export interface RegionStats {
  recordsApplied: number;
  writes: number;
  staleSkipped: number;
  conflicts: number;
  failures: number;
  /** ms from the source write (as the workload timed it) to the replica write, one per applied record. */
  lagsMs: number[];
  /**
   * For every applied record, the workload's or anyone else's: the replica write's second minus the
   * record's ApproximateCreationDateTime (stamped by the stream watcher), whole seconds as on AWS.
   */
  streamLagsS: number[];
}

/**
 * Per-region figures from the handler's onApplied hook. Two lags: from the source write's time as
 * the workload knows it (`writtenAt`, ms), and for any write from ApproximateCreationDateTime
 * (stamped locally by esm/stream-clock.ts), which is whole seconds: the only time a write made
 * with another client carries.
 */
export class ReplicationStats {
  readonly regions = new Map<string, RegionStats>();
  private readonly seen = new Set<string>();
  /** The last failed write, for --watch: its error names the cause. */
  lastFailure?: { region: string; error: string };

  constructor(regions: readonly string[], private readonly writtenAt: (change: Change) => number | undefined) {
    for (const r of regions) this.regions.set(r, { recordsApplied: 0, writes: 0, staleSkipped: 0, conflicts: 0, failures: 0, lagsMs: [], streamLagsS: [] });
  }

  readonly onApplied = ({ target, plan, outcome, atMs }: AppliedEvent): void => {
    const s = this.regions.get(target.region)!;
    const n = plan.changes.length;
    if (outcome.status === 'failed') {
      s.failures += n;
      this.lastFailure = { region: target.region, error: outcome.error };
    } else if (outcome.status === 'skipped') s.staleSkipped += n;
    else if (outcome.status === 'kept') s.conflicts++;
    else if (outcome.status === 'applied') {
      s.recordsApplied += n;
      s.writes++;
      if (outcome.conflict) s.conflicts++;
      for (const change of plan.changes) {
        const id = `${target.region}/${change.seq}`;
        if (this.seen.has(id)) continue;
        this.seen.add(id);
        s.streamLagsS.push(Math.max(0, Math.floor(atMs / 1000) - Math.floor(change.createdAtMs / 1000)));
        const written = this.writtenAt(change);
        if (written !== undefined) s.lagsMs.push(Math.max(0, atMs - written));
      }
    }
  };

  total(field: 'recordsApplied' | 'writes' | 'failures'): number {
    return [...this.regions.values()].reduce((sum, s) => sum + s[field], 0);
  }
}

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
