import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mapLimit } from '../handlers/concurrency';

export interface Workload {
  readonly name: string;
  readonly records: number;
  readonly itemBytes: number;
  /** Key of the i-th write, and whether it deletes. */
  readonly op: (i: number, random: () => number) => { key: string; remove: boolean };
}

/** Zipf-like: key k is chosen with probability proportional to 1/(k+1)^1.2 among `keys`. */
function zipf(keys: number, random: () => number): number {
  const weights = Array.from({ length: keys }, (_, k) => 1 / (k + 1) ** 1.2);
  const total = weights.reduce((a, b) => a + b, 0);
  let x = random() * total;
  for (let k = 0; k < keys; k++) if ((x -= weights[k]!) <= 0) return k;
  return keys - 1;
}

export function workloads(scale: number): Workload[] {
  const n = (x: number) => Math.max(100, Math.round(x * scale));
  return [
    { name: 'uniform 1 KB', records: n(5000), itemBytes: 1024, op: (i) => ({ key: `u-${i}`, remove: false }) },
    { name: 'hot keys 1 KB', records: n(5000), itemBytes: 1024, op: (_i, r) => ({ key: `hot-${zipf(20, r)}`, remove: false }) },
    { name: 'mixed 1 KB', records: n(5000), itemBytes: 1024, op: (_i, r) => ({ key: `m-${Math.floor(r() * 500)}`, remove: r() < 0.2 }) },
    { name: 'uniform 50 KB', records: n(1000), itemBytes: 50 * 1024, op: (i) => ({ key: `big-${i}`, remove: false }) },
  ];
}

export interface Op {
  readonly i: number;
  readonly key: string;
  readonly remove: boolean;
}

/** The workload's writes, the same ones for the same seed. */
export function opsOf(w: Workload, count = w.records, seed = 1): Op[] {
  let s = seed;
  const random = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: count }, (_, i) => ({ i, ...w.op(i, random) }));
}

/**
 * One write to the source table. Returns whether it made a stream record: a put always does (each
 * carries its own `n`), a delete only when the item existed.
 */
export async function writeOp(client: DynamoDBClient, table: string, o: Op, payload: string): Promise<boolean> {
  if (!o.remove) {
    await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: o.key }, n: { N: String(o.i) }, payload: { S: payload } } }));
    return true;
  }
  const { Attributes } = await client.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: o.key } }, ReturnValues: 'ALL_OLD' }));
  return Attributes !== undefined;
}

/** Writes the workload into the source table (the stream then holds exactly these records). */
export async function writeWorkload(client: DynamoDBClient, table: string, w: Workload): Promise<void> {
  const payload = 'x'.repeat(w.itemBytes);
  // Writes to one key keep their order: each key's writes run in one lane.
  const lanes = new Map<string, Op[]>();
  for (const o of opsOf(w)) lanes.set(o.key, [...(lanes.get(o.key) ?? []), o]);
  await mapLimit([...lanes.values()], 32, async (lane) => {
    for (const o of lane) await writeOp(client, table, o, payload);
  });
}
