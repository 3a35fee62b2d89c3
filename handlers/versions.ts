import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { METADATA } from './contract';

/**
 * The version of a replicated change, stored on the replica in one fixed-size attribute.
 *
 * Ordered by generation first (a failover starts a new primary term with a higher generation, and
 * sequence numbers of different streams are not comparable), then by the record's SequenceNumber
 * (the stream orders an item's changes; Lambda only replays them in order), then by a repair stamp:
 * 0 for replication, the time in ms for a repair, which lands just above the version it repairs and
 * below the stream's next record.
 */
export interface Version {
  readonly gen: number;
  /** SequenceNumber, left-padded to 40 digits so that string order is numeric order. */
  readonly seq: string;
  readonly repair: number;
}

export const SEQ_DIGITS = 40;
const GEN_DIGITS = 6;
const REPAIR_DIGITS = 13;
export const MAX_GENERATION = 10 ** GEN_DIGITS - 1;
const SEQUENCE_NUMBER = /^\d{1,40}$/;
const ENCODED = /^(\d{6}):(\d{40}):(\d{13})$/;

export function isSequenceNumber(seq: unknown): seq is string {
  return typeof seq === 'string' && SEQUENCE_NUMBER.test(seq);
}

export function padSeq(seq: string): string {
  return seq.padStart(SEQ_DIGITS, '0');
}

/** The version of a stream record in the term with generation `gen`. */
export function recordVersion(gen: number, sequenceNumber: string): Version {
  return { gen, seq: padSeq(sequenceNumber), repair: 0 };
}

export function encodeVersion(v: Version): string {
  return `${String(v.gen).padStart(GEN_DIGITS, '0')}:${v.seq}:${String(v.repair).padStart(REPAIR_DIGITS, '0')}`;
}

export function decodeVersion(text: string | undefined): Version | undefined {
  const m = text === undefined ? null : ENCODED.exec(text);
  return m ? { gen: Number(m[1]), seq: m[2]!, repair: Number(m[3]) } : undefined;
}

/** Negative, zero or positive as `a` is older than, the same as, or newer than `b`. */
export function compareVersions(a: Version, b: Version): number {
  const x = encodeVersion(a);
  const y = encodeVersion(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** True when `incoming` should replace `stored` (no stored version means anything is newer). */
export function isNewer(incoming: Version, stored: Version | undefined): boolean {
  return !stored || compareVersions(incoming, stored) > 0;
}

export function sameVersion(a: Version, b: Version | undefined): boolean {
  return !!b && compareVersions(a, b) === 0;
}

/** The version a replica item carries, if replication wrote it. */
export function readVersion(item: Record<string, AttributeValue> | undefined): Version | undefined {
  return decodeVersion(item?.[METADATA.version]?.S);
}

export function metadataAttributes(v: Version): Record<string, AttributeValue> {
  return { [METADATA.version]: { S: encodeVersion(v) } };
}

/** The condition form of `isNewer`: the write lands only if the replica holds no newer version. */
export function newerThanStoredCondition(v: Version) {
  return {
    ConditionExpression: 'attribute_not_exists(#repV) OR #repV < :repV',
    ExpressionAttributeNames: { '#repV': METADATA.version },
    ExpressionAttributeValues: { ':repV': { S: encodeVersion(v) } },
  };
}
