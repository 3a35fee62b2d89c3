import { ABSENT, SdkItem, toSdkItem } from './attribute-values';
import type { ReplicaTarget } from './config';
import type { ConflictPolicy } from './contract';
import { Dynamo, isConditionFailure } from './dynamo';
import { METADATA, METADATA_BYTES } from './contract';
import { StateRules, stateDigest } from './item-state';
import type { ItemPlan } from './plan';
import { encodeVersion, isNewer, metadataAttributes, newerThanStoredCondition, readVersion, Version } from './versions';

export type ApplyOutcome =
  /** The replica now holds the plan's end state. `conflict`: it held something no record explains. */
  | { readonly status: 'applied'; readonly previousDigest: string; readonly conflict: boolean }
  /** Nothing to change: the replica holds this version or a newer one (stale records, duplicates). */
  | { readonly status: 'skipped'; readonly stored: Version | undefined }
  /** keep-replica policy: the replica was changed outside replication and is left as it is. */
  | { readonly status: 'kept'; readonly previousDigest: string }
  | { readonly status: 'failed'; readonly error: string };

export interface ApplyContext {
  readonly rules: StateRules;
  /** The plan ends in a REMOVE that was applied before (its tombstone existed): an absent replica item is that deletion. */
  readonly removeReplay?: boolean;
}

type Client = Dynamo;

const KEEP_REPLICA_ATTEMPTS = 3;

/**
 * The one rule for applying a plan to a replica, with its conflict check. Replication, backfill,
 * reconcile and redrive all call it. Never throws: failures come back as `failed`.
 *
 * A conflict is a replica state that no record of the item's history explains: not the state before
 * the plan's first change, nor one after an earlier change (a replay after a partial apply), nor the
 * state the plan itself produces (a repair got there first), nor the absence a replayed REMOVE left.
 * States are compared as values (handlers/item-state.ts), and an item whose TTL has passed counts as
 * absent, so a replica's own TTL deletion is no conflict.
 */
export async function applyPlan(client: Client, target: ReplicaTarget, plan: ItemPlan, policy: ConflictPolicy, ctx: ApplyContext): Promise<ApplyOutcome> {
  try {
    return policy === 'source-wins' ? await writeSourceWins(client, target, plan, ctx) : await writeKeepReplica(client, target, plan, ctx);
  } catch (err) {
    return { status: 'failed', error: describeError(err) };
  }
}

function explained(plan: ItemPlan, previousDigest: string, ctx: ApplyContext): boolean {
  return plan.expectedBefore.has(previousDigest) || previousDigest === stateDigest(plan.final, ctx.rules) || (previousDigest === ABSENT && !!ctx.removeReplay);
}

/** One round trip: a write conditional on the version, returning the replaced item to check for conflicts. */
async function writeSourceWins(client: Client, target: ReplicaTarget, plan: ItemPlan, ctx: ApplyContext): Promise<ApplyOutcome> {
  let previous: SdkItem | undefined;
  try {
    previous = await write(client, target, plan, newerThanStoredCondition(plan.version));
  } catch (err) {
    if (isConditionFailure(err)) return { status: 'skipped', stored: readVersion(err.Item) };
    throw err;
  }
  if (!previous && !plan.final && ctx.removeReplay) return { status: 'skipped', stored: plan.version };
  const previousDigest = stateDigest(previous, ctx.rules);
  return { status: 'applied', previousDigest, conflict: !explained(plan, previousDigest, ctx) };
}

/** Read, check, then write only if the replica did not change in between (optimistic concurrency). */
async function writeKeepReplica(client: Client, target: ReplicaTarget, plan: ItemPlan, ctx: ApplyContext): Promise<ApplyOutcome> {
  for (let attempt = 0; attempt < KEEP_REPLICA_ATTEMPTS; attempt++) {
    const current = await readItem(client, target, plan);
    const stored = readVersion(current);
    if (!isNewer(plan.version, stored)) return { status: 'skipped', stored };
    if (!current && !plan.final && ctx.removeReplay) return { status: 'skipped', stored: plan.version };
    const previousDigest = stateDigest(current, ctx.rules);
    if (!explained(plan, previousDigest, ctx)) return { status: 'kept', previousDigest };
    const outcome = await writeIfUnchanged(client, target, plan, current);
    if (outcome !== 'changed') return { status: 'applied', previousDigest, conflict: false };
  }
  return { status: 'failed', error: `replica item changed during each of ${KEEP_REPLICA_ATTEMPTS} keep-replica checks` };
}

export async function readItem(client: Client, target: ReplicaTarget, plan: Pick<ItemPlan, 'keys'>): Promise<SdkItem | undefined> {
  return (await client.call('GetItem', { TableName: target.tableName, Key: toSdkItem(plan.keys), ConsistentRead: true })).Item;
}

/**
 * Writes the plan's end state only if the replica still holds `current` (the same version, or still
 * no item, or still an item replication never wrote). `changed` when it did not: someone wrote in between.
 */
export async function writeIfUnchanged(client: Client, target: ReplicaTarget, plan: ItemPlan, current: SdkItem | undefined): Promise<'written' | 'changed'> {
  try {
    await write(client, target, plan, unchangedSinceReadCondition(plan, current));
    return 'written';
  } catch (err) {
    if (isConditionFailure(err)) return 'changed';
    throw err;
  }
}

interface Condition {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: SdkItem;
}

async function write(client: Client, target: ReplicaTarget, plan: ItemPlan, condition: Condition): Promise<SdkItem | undefined> {
  const common = { TableName: target.tableName, ReturnValues: 'ALL_OLD', ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ...condition } as const;
  if (plan.final) return (await client.call('PutItem', { ...common, Item: replicaItem(plan) })).Attributes;
  return (await client.call('DeleteItem', { ...common, Key: toSdkItem(plan.keys) })).Attributes;
}

const replicaItems = new WeakMap<ItemPlan, SdkItem>();

/** The item a plan writes, built once for all its target regions (nothing mutates it). */
function replicaItem(plan: ItemPlan): SdkItem {
  let item = replicaItems.get(plan);
  if (!item) replicaItems.set(plan, (item = { ...toSdkItem(plan.final!), ...metadataAttributes(plan.version) }));
  return item;
}

function unchangedSinceReadCondition(plan: ItemPlan, current: SdkItem | undefined): Condition {
  const keyName = Object.keys(plan.keys)[0]!;
  const stored: Version | undefined = readVersion(current);
  if (!current) return { ConditionExpression: 'attribute_not_exists(#key)', ExpressionAttributeNames: { '#key': keyName } };
  if (!stored) {
    return { ConditionExpression: 'attribute_exists(#key) AND attribute_not_exists(#repV)', ExpressionAttributeNames: { '#key': keyName, '#repV': METADATA.version } };
  }
  return { ConditionExpression: '#repV = :repV', ExpressionAttributeNames: { '#repV': METADATA.version }, ExpressionAttributeValues: { ':repV': { S: encodeVersion(stored) } } };
}

function describeError(err: unknown): string {
  const e = err as Error;
  if (e?.name === 'ValidationException' && /item size/i.test(e.message)) {
    return `ItemTooLarge: the item is over DynamoDB's 400 KB limit once replication's ${METADATA_BYTES} bytes of metadata are added (${e.message})`;
  }
  return `${e?.name}: ${e?.message}`;
}
