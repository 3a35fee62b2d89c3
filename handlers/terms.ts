import type { DynamoDBRecord } from 'aws-lambda';
import { METADATA } from './contract';
import { currentTerm, Fence, Term, termAt } from './fence';

/** What a record of a region's stream is, judged by when it was written. */
export type RecordKind =
  /** An application change of the source's current term: replicated, with the term's generation. */
  | { readonly kind: 'change'; readonly term: Term }
  /** Written by replication (or a repair) while the region was not primary: never replicated again. */
  | { readonly kind: 'echo' }
  /** An application change from an earlier term of this region, read only now (a mapping re-enabled at an old checkpoint): reported, not replicated. */
  | { readonly kind: 'old-term'; readonly term: Term }
  /** Written by something other than replication while another region was primary (a demoted primary still taking writes): reported. */
  | { readonly kind: 'stray'; readonly term: Term };

/**
 * A record is an application change exactly when its ApproximateCreationDateTime lies in the
 * source region's current term, whatever `__rep_*` attributes its images carry (an application
 * UpdateItem on a promoted replica keeps stale ones). A failover starts the new term only after
 * every older link has stopped writing (the fence check plus a wait), so a record from before the
 * term is replication's echo and one from within it is the application's.
 *
 * Outside the region's terms, a record whose write changed the item's replication version is an
 * echo (replication or a repair wrote it); anything else was written by someone else while another
 * region was primary, and is reported.
 *
 * A REMOVE outside the region's terms is always an echo: its record shows only the item deleted,
 * never who deleted it. Replication deletes items that carry no version (a former primary's own
 * writes), and so do a repair and TTL; reporting those as strays filled the review report with
 * deletions replication made and refused every planned failback to a former primary. So a deletion
 * the application makes on a region that is not primary is not told apart in the stream (it never
 * was for an item replication had written): only a diff finds it (`verify`, or `rejoin`'s).
 */
export function classify(record: DynamoDBRecord, source: string, fence: Fence): RecordKind {
  const seconds = Math.floor(record.dynamodb?.ApproximateCreationDateTime ?? 0);
  const term = termAt(fence, seconds);
  if (term.primary === source) {
    const now = currentTerm(fence);
    return now.primary === source && now.gen === term.gen ? { kind: 'change', term } : { kind: 'old-term', term };
  }
  return writtenByReplication(record) ? { kind: 'echo' } : { kind: 'stray', term };
}

function writtenByReplication(record: DynamoDBRecord): boolean {
  if (record.eventName === 'REMOVE') return true;
  const before = record.dynamodb?.OldImage?.[METADATA.version]?.S;
  const after = record.dynamodb?.NewImage?.[METADATA.version]?.S;
  return after !== undefined && after !== before;
}
