import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** Either wire form: the SDK's (Uint8Array binaries) or DynamoDB JSON's (base64 strings). */
type Value = AttributeValue | { B?: string; BS?: string[]; [k: string]: unknown };
type Item = Record<string, Value>;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
const raw = (b: Uint8Array | string) => (typeof b === 'string' ? Buffer.byteLength(b, 'base64') : b.byteLength);

/**
 * Bytes of a number as DynamoDB counts them (developer guide, "Item sizes and formats"): about one
 * byte per two significant digits, plus one; leading and trailing zeroes do not count.
 */
export function numberSize(n: string): number {
  const mantissa = n.trim().replace(/^[+-]/, '').replace(/e.*$/i, '').replace('.', '');
  const digits = mantissa.replace(/^0+/, '').replace(/0+$/, '').length;
  return Math.ceil(digits / 2) + 1;
}

/** Bytes of one attribute value, without its name. */
export function valueSize(v: Value): number {
  if (v.S !== undefined) return utf8(v.S as string);
  if (v.N !== undefined) return numberSize(v.N as string);
  if (v.B !== undefined) return raw(v.B as Uint8Array | string);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) return (v.SS as string[]).reduce((a, s) => a + utf8(s), 0);
  if (v.NS !== undefined) return (v.NS as string[]).reduce((a, s) => a + numberSize(s), 0);
  if (v.BS !== undefined) return (v.BS as (Uint8Array | string)[]).reduce((a, b) => a + raw(b), 0);
  // A list or map: 3 bytes, plus 1 byte per element, plus its elements (a map's with their names).
  if (v.L !== undefined) return 3 + (v.L as Value[]).reduce((a, x) => a + 1 + valueSize(x), 0);
  if (v.M !== undefined) return 3 + Object.entries(v.M as Item).reduce((a, [k, x]) => a + 1 + utf8(k) + valueSize(x), 0);
  throw new TypeError(`unsupported attribute value with keys [${Object.keys(v).join(', ')}]`);
}

/** An item's size as DynamoDB meters it: every attribute's name (UTF-8 bytes) plus its value. */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((a, [name, v]) => a + utf8(name) + valueSize(v), 0);
}

/** Write capacity units of writing an item of `bytes`: one per started 1 KB. */
export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
/** Read capacity units (strongly consistent) of reading `bytes`: one per started 4 KB. */
export const readUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));
