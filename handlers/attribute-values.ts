import { createHash } from 'node:crypto';
import type { AttributeValue as SdkValue } from '@aws-sdk/client-dynamodb';
import type { AttributeValue as EventValue } from 'aws-lambda';
import { METADATA_PREFIX } from './contract';
import { canonicalNumber } from './numbers';

export type SdkItem = Record<string, SdkValue>;
export type EventItem = Record<string, EventValue>;
/** Either wire form: stream events carry binaries as base64 strings, the SDK as Uint8Array. */
type AnyValue = EventValue | SdkValue;
type AnyItem = Record<string, AnyValue>;

export const isMetadata = (name: string): boolean => name.startsWith(METADATA_PREFIX);

/** Converts a stream image (base64 binaries) to the SDK's form, dropping replication metadata. */
export function toSdkItem(image: EventItem): SdkItem {
  const out: SdkItem = {};
  for (const [name, value] of Object.entries(image)) {
    if (!isMetadata(name)) out[name] = toSdkValue(value);
  }
  return out;
}

function toSdkValue(v: EventValue): SdkValue {
  if (v.B !== undefined) return { B: Buffer.from(v.B, 'base64') };
  if (v.BS !== undefined) return { BS: v.BS.map((b) => Buffer.from(b, 'base64')) };
  if (v.L !== undefined) return { L: v.L.map(toSdkValue) };
  if (v.M !== undefined) return { M: Object.fromEntries(Object.entries(v.M).map(([k, x]) => [k, toSdkValue(x)])) };
  return v as SdkValue; // S, N, BOOL, NULL, SS, NS carry no binary and have the same shape
}

/** Converts an SDK item (Uint8Array binaries) to the stream-event form the plans carry. */
export function toEventItem(item: SdkItem): EventItem {
  return Object.fromEntries(Object.entries(item).filter(([n]) => !isMetadata(n)).map(([n, v]) => [n, toEventValue(v)]));
}

function toEventValue(v: SdkValue): EventValue {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  if (v.B !== undefined) return { B: b64(v.B) };
  if (v.BS !== undefined) return { BS: v.BS.map(b64) };
  if (v.L !== undefined) return { L: v.L.map(toEventValue) };
  if (v.M !== undefined) return { M: Object.fromEntries(Object.entries(v.M).map(([k, x]) => [k, toEventValue(x)])) };
  return v as EventValue;
}

/**
 * A canonical text of an item's user data: replication metadata removed, map keys and set
 * members sorted, binaries in base64, numbers in one spelling (handlers/numbers.ts). Equal items
 * give equal texts whichever wire form or spelling they came in. Throws on a value it cannot read.
 */
export function canonicalItem(item: AnyItem): string {
  const names = Object.keys(item).filter((n) => !isMetadata(n)).sort();
  return `{${names.map((n) => `${JSON.stringify(n)}:${canonicalValue(item[n]!)}`).join(',')}}`;
}

function canonicalValue(v: AnyValue): string {
  const b64 = (b: string | Uint8Array) => (typeof b === 'string' ? b : Buffer.from(b).toString('base64'));
  const sorted = (xs: string[]) => JSON.stringify([...xs].sort());
  if (v.S !== undefined) return `S${JSON.stringify(v.S)}`;
  if (v.N !== undefined) return `N${canonicalNumber(v.N)}`;
  if (v.B !== undefined) return `B${b64(v.B)}`;
  if (v.BOOL !== undefined) return `BOOL${v.BOOL}`;
  if (v.NULL !== undefined) return 'NULL';
  if (v.SS !== undefined) return `SS${sorted(v.SS)}`;
  if (v.NS !== undefined) return `NS${sorted(v.NS.map(canonicalNumber))}`;
  if (v.BS !== undefined) return `BS${sorted((v.BS as (string | Uint8Array)[]).map(b64))}`;
  if (v.L !== undefined) return `L[${(v.L as AnyValue[]).map(canonicalValue).join(',')}]`;
  if (v.M !== undefined) {
    const m = v.M as Record<string, AnyValue>;
    return `M{${Object.keys(m).sort().map((k) => `${JSON.stringify(k)}:${canonicalValue(m[k]!)}`).join(',')}}`;
  }
  throw new TypeError(`unsupported attribute value with keys [${Object.keys(v).join(', ')}]`);
}

export const ABSENT = 'absent';

/** A short, value-free fingerprint of an item's user data, safe to log; `absent` for no item. */
export function digest(item: AnyItem | undefined): string {
  if (!item) return ABSENT;
  return createHash('sha256').update(canonicalItem(item)).digest('hex').slice(0, 16);
}

/** The text form of an item's key, for logs and for grouping records of one item. */
export function keyText(keys: AnyItem): string {
  return canonicalItem(keys);
}

/**
 * An item's key in DynamoDB JSON ({"pk":{"S":"a"}}, binaries in base64): what `aws dynamodb
 * get-item --key` takes, so logs and reports print keys people can paste. Never holds values.
 */
export function keyJson(keys: AnyItem): EventItem {
  const b64 = (b: string | Uint8Array) => (typeof b === 'string' ? b : Buffer.from(b).toString('base64'));
  return Object.fromEntries(Object.entries(keys).map(([n, v]) => [n, v.B !== undefined ? { B: b64(v.B) } : (v as EventValue)]));
}
