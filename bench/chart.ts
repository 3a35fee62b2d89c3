import type { Row } from './table';

/** A small grouped bar chart (log scale) of records per second, ours against the baseline. */
export function renderChart(rows: Row[]): string {
  const width = 920;
  const barH = 16;
  const rowH = 2 * barH + 18;
  const left = 380;
  const max = Math.max(...rows.flatMap((r) => [r.recordsPerSecond, r.baselineRecordsPerSecond]), 10);
  const x = (v: number) => ((width - left - 90) * Math.log10(Math.max(1, v))) / Math.log10(max);
  const bars = rows
    .map((r, i) => {
      const y = 30 + i * rowH;
      return [
        `<text x="4" y="${y + barH + 4}" font-size="12">${r.workload}</text>`,
        `<rect x="${left}" y="${y}" width="${x(r.recordsPerSecond).toFixed(1)}" height="${barH}" fill="#2b7bb9"/>`,
        `<text x="${left + x(r.recordsPerSecond) + 4}" y="${y + 12}" font-size="11">${r.recordsPerSecond}/s</text>`,
        `<rect x="${left}" y="${y + barH + 2}" width="${x(r.baselineRecordsPerSecond).toFixed(1)}" height="${barH}" fill="#bbbbbb"/>`,
        `<text x="${left + x(r.baselineRecordsPerSecond) + 4}" y="${y + barH + 14}" font-size="11">${r.baselineRecordsPerSecond}/s</text>`,
      ].join('');
    })
    .join('\n');
  const height = 40 + rows.length * rowH;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<text x="4" y="16" font-size="13">Records per second through one shard (log scale): ddb-replicator (blue) vs one-at-a-time baseline (grey)</text>
${bars}
</svg>
`;
}
