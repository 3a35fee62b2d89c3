import { keyText, SdkItem, toEventItem } from './attribute-values';
import { ApplyOutcome, readItem, writeIfUnchanged } from './apply';
import type { ReplicaTarget } from './config';
import type { Dynamo } from './dynamo';
import { StateRules, stateDigest } from './item-state';
import type { ItemPlan } from './plan';
import { metadataAttributes, readVersion, SEQ_DIGITS, Version } from './versions';

type Client = Dynamo;

/**
 * The version of a write that does not come from a stream record (backfill, reconcile, redrive):
 * the replica's version with a repair stamp, so it sorts just above what the replica holds and
 * below the stream's next record; replication always wins over a repair, and a repair never undoes
 * a replicated change. Items replication never wrote get the lowest version of the current term.
 */
export function repairVersion(stored: Version | undefined, generation: number, nowMs = Date.now()): Version {
  if (!stored) return { gen: generation, seq: '0'.repeat(SEQ_DIGITS), repair: nowMs };
  return { ...stored, repair: Math.max(nowMs, stored.repair + 1) };
}

export interface SyncResult {
  readonly outcome: ApplyOutcome;
  /** The version the repair wrote, when it wrote. */
  readonly written?: Version;
  /**
   * Set when a write into an empty slot found the source item deleted afterwards: `undone` (the write
   * was removed again), `superseded` (replication wrote the item since), or `failed` (the undo
   * failed: the deleted item is on the replica until the next reconcile).
   */
  readonly undo?: 'undone' | 'superseded' | 'failed';
}

export interface SyncArgs {
  /**
   * `repair` (reconcile, redrive): the source is read after the replica, strongly consistent.
   * `backfill`: the item a scan saw is used, and only where replication has written nothing yet.
   */
  readonly mode: 'repair' | 'backfill';
  readonly replica: Client;
  readonly target: ReplicaTarget;
  readonly keys: SdkItem;
  /** A strongly consistent read of the source item. */
  readonly readSource: () => Promise<SdkItem | undefined>;
  /** backfill only: the item as the scan saw it. */
  readonly scanned?: SdkItem;
  /** Generation of the current primary term. */
  readonly generation: number;
  readonly rules: StateRules;
}

/**
 * Makes one replica item equal the source, safely beside live replication:
 * - the replica is read first and the source second, and the write lands only if the replica is
 *   unchanged since its read; a change replication applies in between makes the write fail (left
 *   to replication) instead of putting older data above it;
 * - after writing into an empty slot the source is read again, and if the item was deleted
 *   meanwhile (its REMOVE may already have been mirrored) the write is undone, so deletions are
 *   never resurrected; every write's outcome, the undo's included, is reported.
 */
export async function syncItem(args: SyncArgs): Promise<SyncResult> {
  try {
    return await sync(args);
  } catch (err) {
    return { outcome: { status: 'failed', error: `${(err as Error).name}: ${(err as Error).message}` } };
  }
}

async function sync(args: SyncArgs): Promise<SyncResult> {
  const eventKeys = toEventItem(args.keys);
  const current = await readItem(args.replica, args.target, { keys: eventKeys });
  const stored = readVersion(current);
  if (args.mode === 'backfill' && stored) return { outcome: { status: 'skipped', stored } };
  const source = args.mode === 'backfill' ? args.scanned : await args.readSource();
  const previousDigest = stateDigest(current, args.rules);
  if (previousDigest === stateDigest(source, args.rules)) return { outcome: { status: 'skipped', stored } };

  const plan = repairPlan(eventKeys, source, repairVersion(args.mode === 'backfill' ? undefined : stored, args.generation));
  if ((await writeIfUnchanged(args.replica, args.target, plan, current)) === 'changed') return { outcome: { status: 'skipped', stored } };
  const outcome: ApplyOutcome = { status: 'applied', previousDigest, conflict: false };
  const written = plan.version;
  if (current || !source || (await args.readSource())) return { outcome, written };

  const undo = repairPlan(eventKeys, undefined, repairVersion(written, args.generation));
  try {
    const undone = await writeIfUnchanged(args.replica, args.target, undo, { ...args.keys, ...metadataAttributes(written) });
    return { outcome, written, undo: undone === 'written' ? 'undone' : 'superseded' };
  } catch {
    return { outcome, written, undo: 'failed' };
  }
}

function repairPlan(keys: ItemPlan['keys'], source: SdkItem | undefined, version: Version): ItemPlan {
  return { key: keyText(keys), keys, changes: [], final: source && toEventItem(source), version, expectedBefore: new Set() };
}
