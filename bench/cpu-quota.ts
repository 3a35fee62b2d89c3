import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getPriority } from 'node:os';

/** Lambda gives one vCPU at 1,769 MB, and CPU in proportion to memory below that. */
export const FULL_VCPU_MB = 1769;
export const lambdaCpuShare = (memoryMb: number): number => Math.min(1, memoryMb / FULL_VCPU_MB);

const ROOT = '/sys/fs/cgroup/cpu';
const PERIOD_US = 100_000;

export interface CpuQuota {
  /** Puts a process (all its threads) under the quota. */
  add(pid: number): void;
  /** Time the kernel held the group back for its quota so far, ms. */
  throttledMs(): number;
  remove(): void;
}

/** The kernel's scheduling weight of a task at `nice` (1,024 at 0, 1.25 times more per step down). */
export const niceWeight = (nice: number): number => Math.round(1024 * 1.25 ** -nice);

/**
 * A cgroup v1 CPU quota of `share` of one core (cpu.cfs_quota_us per 100 ms period), as Lambda
 * limits a function's CPU by its memory. Needs root and the cpu controller at /sys/fs/cgroup/cpu;
 * where either is missing, says why instead, and the caller falls back to a projection.
 */
export function cpuQuota(name: string, share: number): CpuQuota | { readonly unavailable: string } {
  const dir = join(ROOT, name);
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(Math.round(PERIOD_US * share)));
    // A group competes for the CPU as one task of weight cpu.shares (default 1,024, a task at nice 0),
    // whatever its processes' own priority: give it the weight of this process's priority, so it
    // competes as the benchmark's other processes do, not below the stand-ins sharing this machine.
    writeFileSync(join(dir, 'cpu.shares'), String(niceWeight(getPriority())));
  } catch (err) {
    try {
      rmdirSync(dir);
    } catch {
      // it was never made
    }
    return { unavailable: `no CPU quota (${(err as Error).message.split('\n')[0]}): needs root and the cgroup v1 cpu controller at ${ROOT}` };
  }
  return {
    add: (pid) => writeFileSync(join(dir, 'cgroup.procs'), String(pid)),
    throttledMs: () => Number(/throttled_time (\d+)/.exec(readFileSync(join(dir, 'cpu.stat'), 'utf8'))?.[1] ?? 0) / 1e6,
    remove: () => {
      try {
        rmdirSync(dir);
      } catch {
        // a process still in it: the kernel removes nothing while one is
      }
    },
  };
}
