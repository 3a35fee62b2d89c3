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

/** Writes the workload into the source table (the stream then holds exactly these records). */
export async function writeWorkload(client: DynamoDBClient, table: string, w: Workload, seed = 1): Promise<void> {
  let s = seed;
  const random = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const ops = Array.from({ length: w.records }, (_, i) => ({ i, ...w.op(i, random) }));
  const payload = 'x'.repeat(w.itemBytes);
  // Writes to one key keep their order: each key's writes run in one lane.
  const lanes = new Map<string, typeof ops>();
  for (const o of ops) lanes.set(o.key, [...(lanes.get(o.key) ?? []), o]);
  await mapLimit([...lanes.values()], 32, async (lane) => {
    for (const o of lane) {
      if (o.remove) await client.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: o.key } } }));
      else await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: o.key }, n: { N: String(o.i) }, payload: { S: payload } } }));
    }
  });
}
