/** How Lambda reads a function's answer for a stream batch (Lambda guide, partial batch response). */
export type BatchVerdict =
  | { readonly kind: 'success' }
  /** Rewind to this sequence number: it and every later record of the batch are retried. */
  | { readonly kind: 'partial'; readonly seq: string }
  /** The whole batch failed (a malformed response): retried whole. */
  | { readonly kind: 'failure'; readonly reason: string };

/**
 * Pure. With ReportBatchItemFailures off any normal return is success. With it on: null, `[]`,
 * `{}` and an empty or null list are success; an identifier that is empty, not a string, under the
 * wrong key, or not in the batch fails the whole batch; otherwise the lowest identifier wins.
 */
export function readBatchResponse(response: unknown, batchSeqs: readonly string[], reportBatchItemFailures: boolean): BatchVerdict {
  if (!reportBatchItemFailures || response === null || response === undefined) return { kind: 'success' };
  if (Array.isArray(response) && response.length === 0) return { kind: 'success' };
  if (typeof response !== 'object') return { kind: 'success' };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'failure', reason: 'batchItemFailures is not a list' };
  if (failures.length === 0) return { kind: 'success' };
  const inBatch = new Set(batchSeqs);
  let lowest: bigint | undefined;
  let lowestSeq = '';
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '') return { kind: 'failure', reason: `invalid itemIdentifier ${JSON.stringify(id)}` };
    if (!inBatch.has(id)) return { kind: 'failure', reason: `itemIdentifier ${id} is not a sequence number of this batch` };
    const n = BigInt(id);
    if (lowest === undefined || n < lowest) [lowest, lowestSeq] = [n, id];
  }
  return { kind: 'partial', seq: lowestSeq };
}
