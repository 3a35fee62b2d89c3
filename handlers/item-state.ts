import { ABSENT, digest } from './attribute-values';

type AnyItem = Parameters<typeof digest>[0];

/** How to read an item's state at one moment: its table's TTL attribute, and now. */
export interface StateRules {
  readonly ttlAttribute?: string;
  readonly nowSeconds: number;
}

/** DynamoDB's TTL ignores expiry times more than five years in the past (developer guide, TTL). */
const TTL_HORIZON_SECONDS = 5 * 365 * 24 * 3600;

/**
 * An item is logically deleted once its TTL time has passed: DynamoDB deletes it within days, in
 * each region on its own schedule, so until then one region may hold it while another does not.
 */
export function isExpired(item: AnyItem, rules: StateRules): boolean {
  const raw = rules.ttlAttribute ? item?.[rules.ttlAttribute]?.N : undefined;
  if (raw === undefined) return false;
  const at = Number(raw);
  return Number.isFinite(at) && at <= rules.nowSeconds && at >= rules.nowSeconds - TTL_HORIZON_SECONDS;
}

/**
 * The one comparison of item states used by replication, verify and reconcile: a digest of the user
 * data (values, not spellings), with an expired item the same as no item.
 */
export function stateDigest(item: AnyItem, rules: StateRules): string {
  return !item || isExpired(item, rules) ? ABSENT : digest(item);
}
