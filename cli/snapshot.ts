import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { keyText, SdkItem } from '../handlers/attribute-values';
import { StateRules, stateDigest } from '../handlers/item-state';
import { parallelScan } from './scan';

/** A table's items as state digests (values, not spellings; replication metadata ignored), by key text. */
export interface Snapshot {
  readonly states: Map<string, string>;
  /** Each item's key attributes, by key text, for repairs. */
  readonly keys: Map<string, SdkItem>;
}

/**
 * Scans a table in parallel segments. Items whose TTL has passed are left out: they are logically
 * deleted, and each region's TTL removes them on its own schedule (handlers/item-state.ts).
 */
export async function scanSnapshot(
  client: DynamoDBClient,
  table: string,
  keyNames: readonly string[],
  opts: { rules: StateRules; segments?: number; onPage?: (items: number) => void },
): Promise<Snapshot> {
  const states = new Map<string, string>();
  const keys = new Map<string, SdkItem>();
  await parallelScan(client, table, opts.segments ?? 1, async (page) => {
    for (const item of page.items) {
      const state = stateDigest(item, opts.rules);
      if (state === 'absent') continue;
      const key = Object.fromEntries(keyNames.map((k) => [k, item[k]!]));
      const text = keyText(key);
      states.set(text, state);
      keys.set(text, key);
    }
    opts.onPage?.(page.items.length);
  });
  return { states, keys };
}

export interface Difference {
  readonly missing: string[];
  readonly extra: string[];
  readonly different: string[];
}

/** Keys (never values) that differ between a source and a replica snapshot. */
export function diffSnapshots(source: Snapshot, replica: Snapshot): Difference {
  const missing: string[] = [];
  const different: string[] = [];
  for (const [key, state] of source.states) {
    const other = replica.states.get(key);
    if (other === undefined) missing.push(key);
    else if (other !== state) different.push(key);
  }
  const extra = [...replica.states.keys()].filter((k) => !source.states.has(k));
  return { missing, extra, different };
}

export const inSync = (d: Difference) => d.missing.length + d.extra.length + d.different.length === 0;
