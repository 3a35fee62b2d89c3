import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { digest, keyText, SdkItem, toEventItem } from './attribute-values';
import { ApplyOutcome, applyPlan } from './apply';
import type { ReplicaTarget } from './config';
import type { ConflictPolicy } from './contract';
import type { ItemPlan } from './plan';
import { readVersion, SEQ_DIGITS, Version } from './versions';

type Client = Pick<DynamoDBClient, 'send'>;

/**
 * The version of a write that does not come from a stream record (backfill, reconcile, redrive):
 * just above what the replica holds and below the stream's next record, so replication always
 * wins over a repair, and a repair never undoes a replicated change. Items that replication never
 * wrote get the lowest version of the source stream. Successive repairs order by time.
 */
export function repairVersion(stored: Version | undefined, sourceStreamArn: string, nowMs = Date.now()): Version {
  const suffix = `.${String(nowMs).padStart(15, '0')}`;
  if (!stored) return { stream: sourceStreamArn, seq: '0'.repeat(SEQ_DIGITS) + suffix, ts: 0 };
  return { ...stored, seq: stored.seq.slice(0, SEQ_DIGITS) + suffix };
}

export interface SyncResult {
  readonly outcome: ApplyOutcome;
  /** A put had to be undone because the source item was deleted while it was written. */
  readonly undone: boolean;
}

/**
 * Makes one replica item equal the source through the same conditional apply as replication.
 * - `repair` (reconcile, redrive): `source` must be a strongly consistent read taken now, never what
 *   a scan saw; the write lands just above the replica's version, below the next stream record.
 * - `backfill`: `source` may come from a scan, so it only fills items replication has not written
 *   (no version yet), at the lowest version: any replicated change supersedes it.
 * In both, `reread` re-reads the source after writing into an empty slot, so a deletion replicated
 * in between is not undone (the resurrection other replicators suffer from).
 */
export async function syncItem(args: {
  mode: 'repair' | 'backfill';
  replica: Client;
  target: ReplicaTarget;
  keys: SdkItem;
  source: SdkItem | undefined;
  reread: () => Promise<SdkItem | undefined>;
  sourceStreamArn: string;
  policy: ConflictPolicy;
}): Promise<SyncResult> {
  const { Item: current } = await args.replica.send(new GetItemCommand({ TableName: args.target.tableName, Key: args.keys, ConsistentRead: true }));
  const stored = readVersion(current);
  if (digest(current) === digest(args.source) || (args.mode === 'backfill' && stored)) return { outcome: { status: 'skipped', stored }, undone: false };
  const version = repairVersion(args.mode === 'backfill' ? undefined : stored, args.sourceStreamArn);
  const plan = repairPlan(args.keys, args.source, version, current);
  const outcome = await applyPlan(args.replica, args.target, plan, args.policy);
  if (outcome.status !== 'applied' || current || !args.source) return { outcome, undone: false };
  if (await args.reread()) return { outcome, undone: false };
  const undo = repairPlan(args.keys, undefined, repairVersion(version, args.sourceStreamArn, Date.now() + 1), plan.final && { ...args.source });
  await applyPlan(args.replica, args.target, undo, args.policy);
  return { outcome, undone: true };
}

function repairPlan(keys: SdkItem, source: SdkItem | undefined, version: Version, before: SdkItem | undefined): ItemPlan {
  const eventKeys = toEventItem(keys);
  return { key: keyText(eventKeys), keys: eventKeys, changes: [], final: source && toEventItem(source), version, expectedBefore: new Set([digest(before)]) };
}
