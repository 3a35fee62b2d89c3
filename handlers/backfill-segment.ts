import { DynamoDBClient, GetItemCommand, ScanCommand, ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { EventItem, keyText, SdkItem, toEventItem, toSdkItem } from './attribute-values';
import type { ReplicaTarget } from './config';
import { METADATA_BYTES } from './contract';
import type { StateRules } from './item-state';
import { itemSize, readUnits, writeUnits } from './item-size';
import type { RateLimiter } from './rate-limit';
import { SyncResult, syncItem } from './repair';
import { sdkDynamo } from './dynamo-sdk';

type Client = Pick<DynamoDBClient, 'send'>;

/** An item whose last attempt failed: its key (DynamoDB JSON) and why, never its values. */
export interface FailedItem {
  readonly key: EventItem;
  readonly error: string;
}

/** Where one scan segment stands. It is persisted, so it holds keys and counts, never values. */
export interface SegmentState {
  /** Every item up to this key, in scan order, is done; absent: nothing yet. DynamoDB JSON. */
  after?: EventItem;
  /** Items done beyond `after` (keyText): those of the page in flight that finished out of order. */
  done: string[];
  finished: boolean;
  copied: number;
  /** Already on the replica (written by replication or an earlier run): left as it is. */
  skipped: number;
  /** Copied into an empty slot, then removed again because the source item was deleted meanwhile. */
  undone: number;
  /** Items whose last attempt failed: the next run retries them first. */
  failures: FailedItem[];
}

export type ItemOutcome = 'copied' | 'skipped' | 'undone' | 'failed';
export type SegmentEnd = 'finished' | 'stopped' | 'too-many-failures';

export const freshSegment = (): SegmentState => ({ done: [], finished: false, copied: 0, skipped: 0, undone: 0, failures: [] });

/** Items a segment has dealt with, failed ones included: what progress counts. */
export const processedItems = (s: SegmentState) => s.copied + s.skipped + s.undone + s.failures.length;

export interface SegmentArgs {
  readonly source: Client;
  readonly replica: Client;
  /** The source table; the replica's is `target.tableName`. */
  readonly tableName: string;
  readonly target: ReplicaTarget;
  readonly keyNames: readonly string[];
  readonly segment: number;
  readonly totalSegments: number;
  /** Generation of the current primary term (repair versions). */
  readonly generation: number;
  readonly rules: () => StateRules;
  /** Mutated in place as items finish; any snapshot of it covers every write acknowledged so far. */
  readonly state: SegmentState;
  /** The state moved: persist it soon. */
  readonly changed: () => void;
  /** Once aborted: no new page or item; the call returns when the items in flight settle. */
  readonly signal: AbortSignal;
  /** Items per scan page (Scan's Limit); default DynamoDB's 1 MB pages. */
  readonly pageSize?: number;
  /** Items in flight at once (default 16). */
  readonly concurrency?: number;
  readonly reads?: RateLimiter;
  readonly writes?: RateLimiter;
  readonly onItem?: (outcome: ItemOutcome) => void;
  /** Stop the segment once this many items failed (a persisted list must stay small); default 500. */
  readonly maxFailures?: number;
}

/**
 * Copies one parallel-scan segment into a replica through handlers/repair.ts, item by item: the
 * items a previous run failed first (re-read from the source), then the scan from where it stood.
 * Progress is kept per item (`after` plus the done keys of the page in flight), so a stop loses
 * nothing acknowledged and redoes nothing finished.
 */
export async function runSegment(a: SegmentArgs): Promise<SegmentEnd> {
  const { state } = a;
  const halt = new AbortController();
  const signal = AbortSignal.any([a.signal, halt.signal]);
  const concurrency = a.concurrency ?? 16;
  const inFlight = new Set<Promise<void>>();
  const slot = async () => {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
  };
  const start = (work: () => Promise<void>) => {
    const p = work().finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  const keysOf = (item: SdkItem) => Object.fromEntries(a.keyNames.map((k) => [k, item[k]!]));
  const record = (keys: SdkItem, result: { outcome: ItemOutcome; error?: string }) => {
    if (result.outcome === 'failed') {
      state.failures.push({ key: toEventItem(keys), error: result.error!.slice(0, 300) });
      if (state.failures.length >= (a.maxFailures ?? 500)) halt.abort();
    } else state[result.outcome]++;
    a.onItem?.(result.outcome);
  };

  // Failed items first, in repair mode: the replica may hold a copy whose undo failed.
  for (const failed of state.failures.splice(0)) {
    await slot();
    if (signal.aborted) {
      state.failures.push(failed);
      continue;
    }
    start(async () => {
      const keys = toSdkItem(failed.key);
      record(keys, await copyItem(a, keys, undefined, signal));
      a.changed();
    });
  }
  await Promise.all(inFlight);

  const doneKeys = new Set(state.done);
  let startKey = state.after && toSdkItem(state.after);
  while (!state.finished && !signal.aborted) {
    let page: ScanCommandOutput;
    try {
      page = await a.source.send(
        new ScanCommand({ TableName: a.tableName, Segment: a.segment, TotalSegments: a.totalSegments, ExclusiveStartKey: startKey, Limit: a.pageSize, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }),
        { abortSignal: signal },
      );
    } catch (err) {
      if (signal.aborted) break;
      throw err;
    }
    const items = page.Items ?? [];
    await a.reads?.take(page.ConsumedCapacity?.CapacityUnits ?? readUnits(items.reduce((n, i) => n + itemSize(i), 0)), signal);
    const keys = items.map((i) => keyText(keysOf(i)));
    const isDone = keys.map((k) => doneKeys.has(k));
    let prefix = 0; // items before it are all done
    const advance = () => {
      const from = prefix;
      while (prefix < items.length && isDone[prefix]) doneKeys.delete(keys[prefix++]!);
      if (prefix > from) state.after = toEventItem(keysOf(items[prefix - 1]!));
      state.done = [...doneKeys];
    };
    advance();
    for (let i = prefix; i < items.length && !signal.aborted; i++) {
      if (isDone[i]) continue;
      const item = items[i]!;
      await slot();
      await a.writes?.take(writeUnits(itemSize(item) + METADATA_BYTES), signal);
      if (signal.aborted) break;
      start(async () => {
        record(keysOf(item), await copyItem(a, keysOf(item), item, signal));
        isDone[i] = true;
        doneKeys.add(keys[i]!);
        advance();
        a.changed();
      });
    }
    await Promise.all(inFlight);
    if (prefix < items.length) break; // stopped within the page
    startKey = page.LastEvaluatedKey;
    if (startKey) state.after = toEventItem(startKey);
    else Object.assign(state, { finished: true, after: undefined, done: [] });
    a.changed();
  }
  if (halt.signal.aborted) return 'too-many-failures';
  return state.finished ? 'finished' : 'stopped';
}

/** One item through the conditional apply: `scanned` as the scan saw it, or re-read (a retry). */
async function copyItem(a: SegmentArgs, keys: SdkItem, scanned: SdkItem | undefined, signal: AbortSignal): Promise<{ outcome: ItemOutcome; error?: string }> {
  const readSource = async () => {
    const { Item } = await a.source.send(new GetItemCommand({ TableName: a.tableName, Key: keys, ConsistentRead: true }));
    await a.reads?.take(readUnits(Item ? itemSize(Item) : 0), signal);
    return Item;
  };
  const result = await syncItem({ mode: scanned ? 'backfill' : 'repair', replica: sdkDynamo(a.replica), target: a.target, keys, scanned, readSource, generation: a.generation, rules: a.rules() });
  return outcomeOf(result);
}

function outcomeOf(r: SyncResult): { outcome: ItemOutcome; error?: string } {
  if (r.outcome.status === 'failed') return { outcome: 'failed', error: r.outcome.error };
  if (r.undo === 'failed') return { outcome: 'failed', error: 'the source item was deleted during the copy and removing the copy failed: the rerun removes it' };
  if (r.undo) return { outcome: 'undone' };
  return { outcome: r.outcome.status === 'applied' ? 'copied' : 'skipped' };
}

/**
 * Saves a checkpoint at most every `everyMs`, and always some time after the last change (so a
 * stalled run's checkpoint catches up with what was acknowledged); saves never overlap.
 */
export class Persister {
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private last = 0;
  private failure: unknown;

  constructor(private readonly save: () => Promise<void>, private readonly everyMs: number) {}

  readonly changed = (): void => {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.now();
    }, Math.max(0, this.last + this.everyMs - Date.now()));
  };

  private now(): Promise<void> {
    this.saving = this.saving.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      this.last = Date.now();
      try {
        await this.save();
        this.failure = undefined;
      } catch (err) {
        this.dirty = true;
        this.failure = err;
      }
    });
    return this.saving;
  }

  /** The final save: throws when it fails. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty = true;
    await this.now();
    if (this.failure) throw this.failure;
  }
}
