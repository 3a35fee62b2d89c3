import { CloudWatchClient, MetricDatum, PutMetricDataCommand, StandardUnit } from '@aws-sdk/client-cloudwatch';

/** What one invocation did for one replica region; records, not writes. */
export interface TargetCounts {
  replicated: number;
  staleSkipped: number;
  duplicates: number;
  conflicts: number;
  failures: number;
  /** Changes this link could not write because the region's fence names another primary: reported for review. */
  fenced: number;
  /** Changes not written to a region whose fence is behind (not yet rejoined). */
  notAdmitted: number;
  writes: number;
  /** ms from each applied record's ApproximateCreationDateTime to its write. */
  latenciesMs: number[];
}

export const emptyCounts = (): TargetCounts => ({
  replicated: 0,
  staleSkipped: 0,
  duplicates: 0,
  conflicts: 0,
  failures: 0,
  fenced: 0,
  notAdmitted: 0,
  writes: 0,
  latenciesMs: [],
});

export const METRIC_NAMES = {
  replicated: 'RecordsReplicated',
  staleSkipped: 'StaleRecordsSkipped',
  duplicates: 'DuplicateRecords',
  conflicts: 'Conflicts',
  failures: 'FailedRecords',
  fenced: 'FencedRecords',
  notAdmitted: 'RecordsNotAdmitted',
  latency: 'ReplicationLatency',
  echoes: 'EchoRecordsSkipped',
  review: 'RecordsForReview',
} as const;

/** PutMetricData accepts at most 150 distinct values per metric. */
const MAX_VALUES = 150;

/** Pure: the metric data of one invocation: per target (dimensions Table, TargetRegion) and per link (Table, SourceRegion). */
export function buildMetricData(
  table: string,
  sourceRegion: string,
  byRegion: ReadonlyMap<string, TargetCounts>,
  link: { readonly echoes: number; readonly review: number },
  timestamp: Date,
): MetricDatum[] {
  const linkDims = [
    { Name: 'Table', Value: table },
    { Name: 'SourceRegion', Value: sourceRegion },
  ];
  const data: MetricDatum[] = [
    { MetricName: METRIC_NAMES.echoes, Dimensions: linkDims, Timestamp: timestamp, Unit: StandardUnit.Count, Value: link.echoes },
    { MetricName: METRIC_NAMES.review, Dimensions: linkDims, Timestamp: timestamp, Unit: StandardUnit.Count, Value: link.review },
  ];
  for (const [region, c] of byRegion) {
    const Dimensions = [
      { Name: 'Table', Value: table },
      { Name: 'TargetRegion', Value: region },
    ];
    const count = (name: string, value: number): MetricDatum => ({ MetricName: name, Dimensions, Timestamp: timestamp, Unit: StandardUnit.Count, Value: value });
    data.push(
      count(METRIC_NAMES.replicated, c.replicated),
      count(METRIC_NAMES.staleSkipped, c.staleSkipped),
      count(METRIC_NAMES.duplicates, c.duplicates),
      count(METRIC_NAMES.conflicts, c.conflicts),
      count(METRIC_NAMES.failures, c.failures),
      count(METRIC_NAMES.fenced, c.fenced),
      count(METRIC_NAMES.notAdmitted, c.notAdmitted),
    );
    if (c.latenciesMs.length > 0) {
      const { values, counts } = histogram(c.latenciesMs);
      data.push({ MetricName: METRIC_NAMES.latency, Dimensions, Timestamp: timestamp, Unit: StandardUnit.Milliseconds, Values: values, Counts: counts });
    }
  }
  return data;
}

/** Values with their counts, coarsened to fewer significant digits while there are too many distinct ones. */
function histogram(latencies: number[]): { values: number[]; counts: number[] } {
  const tally = (digits: number) => {
    const m = new Map<number, number>();
    for (const l of latencies) {
      const v = l <= 0 ? 0 : digits ? Number(Math.round(l).toPrecision(digits)) : Math.round(l);
      m.set(v, (m.get(v) ?? 0) + 1);
    }
    return m;
  };
  let m = tally(0);
  for (const digits of [2, 1]) if (m.size > MAX_VALUES) m = tally(digits);
  const entries = [...m];
  return { values: entries.map(([v]) => v), counts: entries.map(([, n]) => n) };
}

export type MetricsSender = Pick<CloudWatchClient, 'send'>;

export async function publishMetrics(client: MetricsSender, namespace: string, data: MetricDatum[]): Promise<void> {
  if (data.length > 0) await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data }));
}
