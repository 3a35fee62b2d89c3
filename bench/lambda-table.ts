import type { ClientCost } from './client-cost';
import { PRICES } from './lambda-cost';
import type { LambdaShapedRow } from './lambda-shaped';

const memory = (r: LambdaShapedRow) => (r.memoryMb === null ? 'full core' : `${r.memoryMb} MB`);
const rate = (r: LambdaShapedRow) => (r.projectedRecordsPerSecond === null ? `${r.recordsPerSecond}` : `${r.projectedRecordsPerSecond} (projected)`);

/** The Lambda-shaped rows as a markdown table, cost beside throughput. */
export function lambdaTable(rows: readonly LambdaShapedRow[], replicaUsdPerMillion: number): string {
  const head =
    '| client | memory (CPU share) | records/s | CPU ms per record | per replica write | ms per invocation | GB-s per 1M records | requests per 1M | Lambda $ per 1M records | replica writes $ per 1M |';
  const lines = rows.map(
    (r) =>
      `| ${r.client} | ${memory(r)} (${r.cpuShare}) | ${rate(r)} | ${r.cpuMsPerRecord} | ${r.cpuMsPerReplicaWrite} | ${r.invocationMs} | ${r.cost?.gbSecondsPerMillionRecords ?? '-'} | ${r.cost?.requestsPerMillionRecords ?? '-'} | ${r.cost ? `$${r.cost.lambdaUsdPerMillionRecords}` : '-'} | $${replicaUsdPerMillion} |`,
  );
  return [head, '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |', ...lines].join('\n') + '\n';
}

export function clientCostTable(costs: readonly ClientCost[]): string {
  return ['| client | CPU ms per conditional PutItem |', '| --- | --- |', ...costs.map((c) => `| ${c.client} | ${c.cpuMsPerRequest} |`)].join('\n') + '\n';
}

export const pricesNote = () =>
  `Prices: ${PRICES.region} list prices checked ${PRICES.checked}: Lambda arm64 $${PRICES.lambdaArm64PerGbSecond} per GB-second and $${PRICES.lambdaPerMillionRequests} per million requests; DynamoDB on-demand $${PRICES.dynamoDbPerMillionWriteUnits} per million write units.\n`;

/** Records per second per memory size, one bar per client, with the 1,000/s line of a saturated partition. */
export function renderLambdaChart(rows: readonly LambdaShapedRow[]): string {
  const width = 820;
  const left = 230;
  const barH = 16;
  const max = Math.max(1200, ...rows.map((r) => r.projectedRecordsPerSecond ?? r.recordsPerSecond));
  const x = (v: number) => ((width - left - 80) * v) / max;
  const bars = rows
    .map((r, i) => {
      const y = 30 + i * (barH + 8);
      const v = r.projectedRecordsPerSecond ?? r.recordsPerSecond;
      const fill = r.client === 'aws-lite' ? '#2b7bb9' : '#bbbbbb';
      return `<text x="4" y="${y + 12}" font-size="12">${r.client}, ${memory(r)}</text><rect x="${left}" y="${y}" width="${x(v).toFixed(1)}" height="${barH}" fill="${fill}"/><text x="${left + x(v) + 4}" y="${y + 12}" font-size="11">${v}/s</text>`;
    })
    .join('\n');
  const height = 40 + rows.length * (barH + 8);
  const line = left + x(1000);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<text x="4" y="16" font-size="13">Lambda-shaped: records/s through one shard under each memory's CPU share (70 ms, batch 100, 2 regions)</text>
${bars}
<line x1="${line.toFixed(1)}" y1="24" x2="${line.toFixed(1)}" y2="${height - 4}" stroke="#c0392b" stroke-dasharray="4 3"/>
<text x="${(line + 3).toFixed(1)}" y="${height - 6}" font-size="10" fill="#c0392b">1,000/s: a saturated partition</text>
</svg>
`;
}
