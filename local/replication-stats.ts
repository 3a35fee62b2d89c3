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
}

/**
 * Per-region figures from the handler's onApplied hook. Lag is measured from the source write's
 * time as the workload knows it (`writtenAt`), since ApproximateCreationDateTime is in whole
 * seconds (stamped locally by esm/stream-clock.ts): too coarse to measure local lag with.
 */
export class ReplicationStats {
  readonly regions = new Map<string, RegionStats>();
  private readonly seen = new Set<string>();

  constructor(regions: readonly string[], private readonly writtenAt: (change: Change) => number | undefined) {
    for (const r of regions) this.regions.set(r, { recordsApplied: 0, writes: 0, staleSkipped: 0, conflicts: 0, failures: 0, lagsMs: [] });
  }

  readonly onApplied = ({ target, plan, outcome, atMs }: AppliedEvent): void => {
    const s = this.regions.get(target.region)!;
    const n = plan.changes.length;
    if (outcome.status === 'failed') s.failures += n;
    else if (outcome.status === 'skipped') s.staleSkipped += n;
    else if (outcome.status === 'kept') s.conflicts++;
    else if (outcome.status === 'applied') {
      s.recordsApplied += n;
      s.writes++;
      if (outcome.conflict) s.conflicts++;
      for (const change of plan.changes) {
        const id = `${target.region}/${change.seq}`;
        const written = this.writtenAt(change);
        if (this.seen.has(id) || written === undefined) continue;
        this.seen.add(id);
        s.lagsMs.push(Math.max(0, atMs - written));
      }
    }
  };

  total(field: 'recordsApplied' | 'writes'): number {
    return [...this.regions.values()].reduce((sum, s) => sum + s[field], 0);
  }
}

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
