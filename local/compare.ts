import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { canonicalItem, keyText, SdkItem } from '../handlers/attribute-values';

/** Every item of a table, keyed by its key text, as canonical text without replication metadata. */
export async function tableSnapshot(client: DynamoDBClient, tableName: string, keyNames: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let ExclusiveStartKey: SdkItem | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey, ConsistentRead: true }));
    for (const item of page.Items ?? []) {
      const key = keyText(Object.fromEntries(keyNames.map((k) => [k, item[k]!])));
      out.set(key, canonicalItem(item));
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out;
}

export interface Difference {
  readonly missing: string[];
  readonly extra: string[];
  readonly different: string[];
}

/** Keys (never values) that differ between a source and a replica snapshot. */
export function diffSnapshots(source: ReadonlyMap<string, string>, replica: ReadonlyMap<string, string>): Difference {
  const missing: string[] = [];
  const different: string[] = [];
  for (const [key, item] of source) {
    const other = replica.get(key);
    if (other === undefined) missing.push(key);
    else if (other !== item) different.push(key);
  }
  const extra = [...replica.keys()].filter((k) => !source.has(k));
  return { missing, extra, different };
}

export const inSync = (d: Difference) => d.missing.length + d.extra.length + d.different.length === 0;
