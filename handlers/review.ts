import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import type { EventItem } from './attribute-values';
import type { Dynamo } from './dynamo';

type Client = Dynamo;

/**
 * Why a write is in the review report:
 * - `fenced`: the application wrote it in a region that is no longer primary, and a fence stopped
 *   replication from carrying it to a region (the old primary's unreplicated tail);
 * - `old-term`: the application wrote it in an earlier term of this region, and replication reads it
 *   only now (a mapping re-enabled at an old checkpoint): not replicated, since newer terms came since;
 * - `stray`: written in a region while another was primary, by something other than replication;
 * - `newer-on-replica`: after an unplanned failover, a replica held a newer version of the old term
 *   than the new primary (a write the old primary replicated there but not to the new primary);
 * - `rejoin-diff`: a returning region held this item differently from the primary when it rejoined.
 */
export type ReviewKind = 'fenced' | 'old-term' | 'stray' | 'newer-on-replica' | 'rejoin-diff';

/** One write to review: keys and versions, never values. */
export interface ReviewEntry {
  readonly kind: ReviewKind;
  /** The item's key, as DynamoDB JSON (binaries base64): paste it into `aws dynamodb get-item --key`. */
  readonly key: EventItem;
  /** Where the write was found. */
  readonly region: string;
  /** The region it did not reach, when there is one. */
  readonly target?: string;
  /** The stream record's SequenceNumber, or the item's replication version. */
  readonly version?: string;
  /** When it was written (the record's ApproximateCreationDateTime), epoch seconds. */
  readonly writtenAt?: number;
  /** Digests of the states involved, never values. */
  readonly detail?: string;
}

export const REVIEW_PREFIX = 'review#';
/** Review entries outlive the stream's 24 hours by far: an operator has a month to look. */
export const REVIEW_TTL_SECONDS = 30 * 24 * 3600;

const entryKey = (e: ReviewEntry) =>
  `${REVIEW_PREFIX}${e.kind}#${createHash('sha256').update(JSON.stringify([e.key, e.region, e.target ?? '', e.version ?? '', e.detail ?? ''])).digest('base64url')}`;

/** Records entries in a region's state table; writing the same entry twice keeps one. */
export async function writeReviewEntries(client: Client, stateTable: string, entries: readonly ReviewEntry[], nowSeconds: number): Promise<void> {
  const byKey = new Map(entries.map((e) => [entryKey(e), e]));
  const items = [...byKey].map(([pk, e]) => ({
    PutRequest: {
      Item: {
        pk: { S: pk },
        kind: { S: e.kind },
        key: { S: JSON.stringify(e.key) },
        region: { S: e.region },
        ...(e.target && { target: { S: e.target } }),
        ...(e.version && { version: { S: e.version } }),
        ...(e.writtenAt !== undefined && { writtenAt: { N: String(e.writtenAt) } }),
        ...(e.detail && { detail: { S: e.detail } }),
        recordedAt: { N: String(nowSeconds) },
        expiresAt: { N: String(nowSeconds + REVIEW_TTL_SECONDS) },
      } satisfies Record<string, AttributeValue>,
    },
  }));
  for (let i = 0; i < items.length; i += 25) {
    let batch = items.slice(i, i + 25);
    for (let attempt = 0; batch.length > 0; attempt++) {
      if (attempt > 8) throw new Error(`review entries in ${stateTable} stayed unprocessed after ${attempt} attempts (throttled)`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      const out = await client.call('BatchWriteItem', { RequestItems: { [stateTable]: batch } });
      batch = (out.UnprocessedItems?.[stateTable] ?? []) as typeof batch;
    }
  }
}

export interface RecordedReview extends ReviewEntry {
  readonly id: string;
  readonly recordedAt: number;
}

/** Every review entry of a region's state table. */
export async function readReviewEntries(client: Client, stateTable: string): Promise<RecordedReview[]> {
  const out: RecordedReview[] = [];
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.call('Scan', {
      TableName: stateTable,
      FilterExpression: 'begins_with(pk, :p)',
      ExpressionAttributeValues: { ':p': { S: REVIEW_PREFIX } },
      ExclusiveStartKey,
      ConsistentRead: true,
    });
    for (const i of page.Items ?? []) {
      out.push({
        id: i.pk!.S!,
        kind: i.kind!.S as ReviewKind,
        key: JSON.parse(i.key!.S!),
        region: i.region!.S!,
        ...(i.target?.S && { target: i.target.S }),
        ...(i.version?.S && { version: i.version.S }),
        ...(i.writtenAt?.N && { writtenAt: Number(i.writtenAt.N) }),
        ...(i.detail?.S && { detail: i.detail.S }),
        recordedAt: Number(i.recordedAt?.N ?? 0),
      });
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out.sort((a, b) => (a.writtenAt ?? 0) - (b.writtenAt ?? 0) || a.id.localeCompare(b.id));
}
