import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { METADATA } from './contract';

/**
 * The version of a replicated change, stored on the replica in the reserved metadata attributes.
 *
 * "Older" is defined so it holds across Lambda retries, rewinds and bisection:
 * - within one source stream, by SequenceNumber (numeric: the stream orders an item's changes);
 * - across streams (after a failover the source stream changes), by ApproximateCreationDateTime,
 *   because sequence numbers of different streams are not comparable. Ties across streams go to
 *   the incoming change, so a newly promoted primary wins over the old one within the same second.
 */
export interface Version {
  /** ARN of the source stream. */
  readonly stream: string;
  /** SequenceNumber left-padded to 40 digits: string order equals numeric order. */
  readonly seq: string;
  /** ApproximateCreationDateTime, epoch seconds. */
  readonly ts: number;
}

export const SEQ_DIGITS = 40;
const SEQUENCE_NUMBER = /^\d{1,40}$/;

export function isSequenceNumber(seq: unknown): seq is string {
  return typeof seq === 'string' && SEQUENCE_NUMBER.test(seq);
}

export function padSeq(seq: string): string {
  return seq.padStart(SEQ_DIGITS, '0');
}

/** True when `incoming` should replace `stored` (no stored version means anything is newer). */
export function isNewer(incoming: Version, stored: Version | undefined): boolean {
  if (!stored) return true;
  if (incoming.stream === stored.stream) return incoming.seq > stored.seq;
  return incoming.ts >= stored.ts;
}

export function sameVersion(a: Version, b: Version | undefined): boolean {
  return !!b && a.stream === b.stream && a.seq === b.seq;
}

/** The version a replica item carries, if replication wrote it. */
export function readVersion(item: Record<string, AttributeValue> | undefined): Version | undefined {
  const stream = item?.[METADATA.stream]?.S;
  const seq = item?.[METADATA.seq]?.S;
  const ts = item?.[METADATA.ts]?.N;
  if (stream === undefined || seq === undefined || ts === undefined) return undefined;
  return { stream, seq, ts: Number(ts) };
}

export function metadataAttributes(v: Version): Record<string, AttributeValue> {
  return { [METADATA.stream]: { S: v.stream }, [METADATA.seq]: { S: v.seq }, [METADATA.ts]: { N: String(v.ts) } };
}

/** The condition form of `isNewer`: the write lands only if the replica holds no newer version. */
export function newerThanStoredCondition(v: Version) {
  return {
    ConditionExpression:
      'attribute_not_exists(#repSeq) OR (#repStream = :repStream AND #repSeq < :repSeq) OR (#repStream <> :repStream AND #repTs <= :repTs)',
    ExpressionAttributeNames: { '#repSeq': METADATA.seq, '#repStream': METADATA.stream, '#repTs': METADATA.ts },
    ExpressionAttributeValues: { ':repStream': { S: v.stream }, ':repSeq': { S: v.seq }, ':repTs': { N: String(v.ts) } },
  };
}
