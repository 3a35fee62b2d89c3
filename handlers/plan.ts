import type { DynamoDBRecord } from 'aws-lambda';
import { EventItem, keyText } from './attribute-values';
import { ConfigError } from './config';
import { TTL_DELETE_IDENTITY } from './contract';
import { StateRules, stateDigest } from './item-state';
import { isSequenceNumber, recordVersion, Version } from './versions';

/** One stream record, checked and reduced to what replication needs. */
export interface Change {
  readonly seq: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly keys: EventItem;
  readonly before?: EventItem;
  readonly after?: EventItem;
  readonly version: Version;
  /** ApproximateCreationDateTime in epoch milliseconds. */
  readonly createdAtMs: number;
}

/** What to do to one item on every replica: its changes in stream order, coalesced into one write. */
export interface ItemPlan {
  readonly key: string;
  readonly keys: EventItem;
  readonly changes: readonly Change[];
  /** The end state: the last change's NewImage, or no item when it was a REMOVE. */
  readonly final: EventItem | undefined;
  readonly version: Version;
  /**
   * State digests (handlers/item-state.ts) of every state the replica may hold before this write
   * without a conflict: the state before the first change, and the state after each change (a
   * replay after a partial apply).
   */
  readonly expectedBefore: ReadonlySet<string>;
}

export interface RejectedRecord {
  readonly seq: string;
  readonly reason: string;
}

export interface BatchPlan {
  readonly items: ItemPlan[];
  /** TTL deletions left out because REPLICATE_TTL_DELETES is false. */
  readonly ttlSkipped: number;
  /** Records that no write can apply; reported as failures so they reach the on-failure destination. */
  readonly rejected: RejectedRecord[];
}

const EVENT_NAMES = new Set(['INSERT', 'MODIFY', 'REMOVE']);

/** Error in the event itself that no retry can fix; the handler throws it. */
export class EventError extends Error {
  override name = 'EventError';
}

export function isTtlDelete(r: DynamoDBRecord): boolean {
  const id = r.userIdentity as { type?: string; principalId?: string } | undefined;
  return r.eventName === 'REMOVE' && id?.type === TTL_DELETE_IDENTITY.type && id?.principalId === TTL_DELETE_IDENTITY.principalId;
}

/**
 * Pure: stream records in, per-item plans out. Keeps each item's changes in stream order and
 * stops an item's plan at its first rejected record, so later changes of that item are retried
 * after it rather than applied past it.
 */
export interface PlanOptions {
  readonly replicateTtlDeletes: boolean;
  /** Generation of the primary term the records belong to. */
  readonly generation: number;
  readonly rules: StateRules;
}

export function planBatch(records: readonly DynamoDBRecord[], opts: PlanOptions): BatchPlan {
  const byKey = new Map<string, Change[]>();
  const blocked = new Set<string>();
  const rejected: RejectedRecord[] = [];
  let ttlSkipped = 0;

  for (const record of records) {
    const seq = record.dynamodb?.SequenceNumber;
    if (!isSequenceNumber(seq)) {
      throw new EventError(
        `record ${record.eventID ?? '(no eventID)'} has SequenceNumber ${JSON.stringify(seq)}: expected 1-40 digits; ` +
          'this function must be triggered by a DynamoDB stream event source mapping',
      );
    }
    const viewType = record.dynamodb?.StreamViewType;
    if (viewType !== undefined && viewType !== 'NEW_AND_OLD_IMAGES') {
      throw new ConfigError(
        `the source stream's view type is ${viewType}: replication needs NEW_AND_OLD_IMAGES (re-enable the stream with that view type)`,
      );
    }
    const keys = record.dynamodb?.Keys;
    if (!keys || Object.keys(keys).length === 0) {
      rejected.push({ seq, reason: 'record has no Keys' });
      continue;
    }
    let key: string;
    try {
      key = keyText(keys);
    } catch (err) {
      rejected.push({ seq, reason: `record Keys cannot be read: ${(err as Error).message}` });
      continue;
    }
    if (blocked.has(key)) continue;
    if (!opts.replicateTtlDeletes && isTtlDelete(record)) {
      ttlSkipped++;
      continue;
    }
    const change = toChange(record, seq, keys, opts);
    if (typeof change === 'string') {
      rejected.push({ seq, reason: change });
      blocked.add(key);
      continue;
    }
    const list = byKey.get(key);
    if (list) list.push(change);
    else byKey.set(key, [change]);
  }

  const items = [...byKey].map(([key, changes]) => toPlan(key, changes, opts.rules));
  return { items, ttlSkipped, rejected };
}

/** A change, or why the record cannot be applied (it is then reported failed, alone). */
function toChange(record: DynamoDBRecord, seq: string, keys: EventItem, opts: PlanOptions): Change | string {
  const eventName = record.eventName;
  if (!eventName || !EVENT_NAMES.has(eventName)) return `unknown eventName ${JSON.stringify(eventName)}`;
  const { NewImage: after, OldImage: before, ApproximateCreationDateTime: created } = record.dynamodb ?? {};
  if (eventName !== 'REMOVE' && !after) return `${eventName} record has no NewImage`;
  if (eventName !== 'INSERT' && !before) return `${eventName} record has no OldImage`;
  if (typeof created !== 'number' || !Number.isFinite(created)) return 'record has no numeric ApproximateCreationDateTime';
  const change: Change = {
    seq,
    eventName,
    keys,
    before: eventName === 'INSERT' ? undefined : before,
    after: eventName === 'REMOVE' ? undefined : after,
    version: recordVersion(opts.generation, seq),
    createdAtMs: created * 1000,
  };
  try {
    stateDigest(change.before, opts.rules);
    stateDigest(change.after, opts.rules);
  } catch (err) {
    return `record image cannot be read: ${(err as Error).message}`;
  }
  return change;
}

function toPlan(key: string, changes: Change[], rules: StateRules): ItemPlan {
  const last = changes[changes.length - 1]!;
  const expectedBefore = new Set<string>([stateDigest(changes[0]!.before, rules)]);
  for (const c of changes.slice(0, -1)) expectedBefore.add(stateDigest(c.after, rules));
  return { key, keys: last.keys, changes, final: last.after, version: last.version, expectedBefore };
}
