
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

/** EMF takes at most 100 values per metric in one document. */
const MAX_VALUES = 100;

/** One CloudWatch embedded metric format (EMF) document: the metadata under `_aws`, dimensions and values at the top. */
export type EmfDocument = Record<string, unknown> & {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
};

/**
 * Pure: one invocation's metrics as EMF documents, per link (dimensions Table, SourceRegion) and per
 * target (Table, TargetRegion). Written to stdout as log lines, CloudWatch Logs turns them into
 * metrics: no API call waits on the batch's critical path, and none can fail it.
 */
export function buildMetricDocuments(
  namespace: string,
  table: string,
  sourceRegion: string,
  byRegion: ReadonlyMap<string, TargetCounts>,
  link: { readonly echoes: number; readonly review: number },
  timestampMs: number,
): EmfDocument[] {
  const doc = (dimensions: Record<string, string>, values: Record<string, number | number[]>, unit: (name: string) => string): EmfDocument => ({
    _aws: { Timestamp: timestampMs, CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [Object.keys(dimensions)], Metrics: Object.keys(values).map((Name) => ({ Name, Unit: unit(Name) })) }] },
    ...dimensions,
    ...values,
  });
  const counts = () => 'Count';
  const docs = [doc({ Table: table, SourceRegion: sourceRegion }, { [METRIC_NAMES.echoes]: link.echoes, [METRIC_NAMES.review]: link.review }, counts)];
  for (const [region, c] of byRegion) {
    const dims = { Table: table, TargetRegion: region };
    docs.push(
      doc(
        dims,
        {
          [METRIC_NAMES.replicated]: c.replicated,
          [METRIC_NAMES.staleSkipped]: c.staleSkipped,
          [METRIC_NAMES.duplicates]: c.duplicates,
          [METRIC_NAMES.conflicts]: c.conflicts,
          [METRIC_NAMES.failures]: c.failures,
          [METRIC_NAMES.fenced]: c.fenced,
          [METRIC_NAMES.notAdmitted]: c.notAdmitted,
        },
        counts,
      ),
    );
    // Every latency is a value of its own (percentile alarms read them), at most 100 a document.
    const latencies = c.latenciesMs.map((l) => Math.max(0, Math.round(l)));
    for (let i = 0; i < latencies.length; i += MAX_VALUES) docs.push(doc(dims, { [METRIC_NAMES.latency]: latencies.slice(i, i + MAX_VALUES) }, () => 'Milliseconds'));
  }
  return docs;
}

/** Pure JSON lines on stdout: Lambda's Text log format would prefix what console.log writes. */
export const writeStdoutLine = (line: string): void => void process.stdout.write(`${line}\n`);
