/** One workload's result, as in bench/results/latest.json. */
export interface Row {
  workload: string;
  parallelizationFactor: number;
  records: number;
  recordsPerSecond: number;
  writesPerRecord: number;
  baselineRecordsPerSecond: number;
  ratioToBaseline: number;
  /** Live traffic of the same kind, replicated as it arrives (synthetic replica). */
  lagPerSecond: number | null;
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  peakRssMb: number;
}

/** The README's results table, written beside the JSON so that it can be pasted as it is. */
export function markdownTable(rows: Row[]): string {
  const lag = (r: Row) => (r.lagPerSecond === null ? '-' : `${r.lagP50Ms} / ${r.lagP99Ms} ms at ${r.lagPerSecond}/s`);
  const lines = rows.map((r) => `| ${r.workload} | ${r.recordsPerSecond} | ${r.writesPerRecord} | ${r.baselineRecordsPerSecond} | ${r.ratioToBaseline}x | ${lag(r)} | ${r.peakRssMb} MB |`);
  const head = '| workload | records/s | writes per record | baseline records/s | ratio | lag p50 / p99 | peak RSS |';
  return [head, '| --- | --- | --- | --- | --- | --- | --- |', ...lines].join('\n') + '\n';
}
