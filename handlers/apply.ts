import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { digest, SdkItem, toSdkItem } from './attribute-values';
import type { ConflictPolicy } from './contract';
import { METADATA } from './contract';
import type { ReplicaTarget } from './config';
import type { ItemPlan } from './plan';
import { isNewer, metadataAttributes, newerThanStoredCondition, readVersion, Version } from './versions';

export type ApplyOutcome =
  /** The replica now holds the plan's end state. `conflict`: it held something unexpected before. */
  | { readonly status: 'applied'; readonly previousDigest: string; readonly conflict: boolean }
  /** The replica already holds this version or a newer one: every change is stale or a duplicate. */
  | { readonly status: 'skipped'; readonly stored: Version | undefined }
  /** keep-replica policy: the replica was changed outside replication and is left as it is. */
  | { readonly status: 'kept'; readonly previousDigest: string }
  | { readonly status: 'failed'; readonly error: string };

type Client = Pick<DynamoDBClient, 'send'>;

const KEEP_REPLICA_ATTEMPTS = 3;

/**
 * The one rule for applying a plan to a replica, with its conflict check. Replication, backfill,
 * reconcile and redrive all call this. Never throws: failures come back as `failed`.
 */
export async function applyPlan(client: Client, target: ReplicaTarget, plan: ItemPlan, policy: ConflictPolicy): Promise<ApplyOutcome> {
  try {
    return policy === 'source-wins' ? await writeSourceWins(client, target, plan) : await writeKeepReplica(client, target, plan);
  } catch (err) {
    const e = err as Error;
    return { status: 'failed', error: `${e.name}: ${e.message}` };
  }
}

/** One round trip: a write conditional on the version, returning the replaced item to check for conflicts. */
async function writeSourceWins(client: Client, target: ReplicaTarget, plan: ItemPlan): Promise<ApplyOutcome> {
  try {
    const previous = await write(client, target, plan, newerThanStoredCondition(plan.version));
    const previousDigest = digest(previous);
    return { status: 'applied', previousDigest, conflict: !plan.expectedBefore.has(previousDigest) };
  } catch (err) {
    if (isConditionFailure(err)) return { status: 'skipped', stored: readVersion(err.Item) };
    throw err;
  }
}

/** Read, check, then write only if the replica did not change in between (optimistic concurrency). */
async function writeKeepReplica(client: Client, target: ReplicaTarget, plan: ItemPlan): Promise<ApplyOutcome> {
  for (let attempt = 0; attempt < KEEP_REPLICA_ATTEMPTS; attempt++) {
    const { Item: current } = await client.send(
      new GetItemCommand({ TableName: target.tableName, Key: toSdkItem(plan.keys), ConsistentRead: true }),
    );
    const stored = readVersion(current);
    if (!isNewer(plan.version, stored)) return { status: 'skipped', stored };
    const previousDigest = digest(current);
    if (!plan.expectedBefore.has(previousDigest)) return { status: 'kept', previousDigest };
    try {
      await write(client, target, plan, unchangedSinceReadCondition(plan, current, stored));
      return { status: 'applied', previousDigest, conflict: false };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
  return { status: 'failed', error: `replica item changed during each of ${KEEP_REPLICA_ATTEMPTS} keep-replica checks` };
}

interface Condition {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: SdkItem;
}

async function write(client: Client, target: ReplicaTarget, plan: ItemPlan, condition: Condition): Promise<SdkItem | undefined> {
  const common = { TableName: target.tableName, ReturnValues: 'ALL_OLD', ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ...condition } as const;
  if (plan.final) {
    const Item = { ...toSdkItem(plan.final), ...metadataAttributes(plan.version) };
    return (await client.send(new PutItemCommand({ ...common, Item }))).Attributes;
  }
  return (await client.send(new DeleteItemCommand({ ...common, Key: toSdkItem(plan.keys) }))).Attributes;
}

function unchangedSinceReadCondition(plan: ItemPlan, current: SdkItem | undefined, stored: Version | undefined): Condition {
  const keyName = Object.keys(plan.keys)[0]!;
  if (!current) return { ConditionExpression: 'attribute_not_exists(#key)', ExpressionAttributeNames: { '#key': keyName } };
  if (!stored) {
    return {
      ConditionExpression: 'attribute_exists(#key) AND attribute_not_exists(#repSeq)',
      ExpressionAttributeNames: { '#key': keyName, '#repSeq': METADATA.seq },
    };
  }
  return {
    ConditionExpression: '#repStream = :repStream AND #repSeq = :repSeq',
    ExpressionAttributeNames: { '#repStream': METADATA.stream, '#repSeq': METADATA.seq },
    ExpressionAttributeValues: { ':repStream': { S: stored.stream }, ':repSeq': { S: stored.seq } },
  };
}

/** By name, not instanceof: a bundle may hold another copy of the SDK's error classes. */
function isConditionFailure(err: unknown): err is Error & { Item?: SdkItem } {
  return (err as Error | undefined)?.name === 'ConditionalCheckFailedException';
}
