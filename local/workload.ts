import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';

/** A user-registration system's traffic: sign-ups, profile and e-mail changes, deletions, hot users. */
export interface WorkloadOptions {
  readonly table: string;
  readonly operations: number;
  /** Writers in flight at once. */
  readonly concurrency: number;
  readonly seed: number;
  /** Called after each write, with the time it was acknowledged and the writer that made it. */
  readonly onWrite?: (userId: string, kind: WriteKind, atMs: number, writer: number) => void;
}

export type WriteKind = 'sign-up' | 'profile' | 'email' | 'login' | 'delete';

/** One write, with every value drawn from its writer's generator (times are not: `updatedAt` is the clock's). */
export type Operation =
  | { readonly kind: 'sign-up'; readonly userId: string; readonly country: string; readonly newsletter: boolean; readonly avatar: number }
  | { readonly kind: 'login'; readonly userId: string }
  | { readonly kind: 'profile'; readonly userId: string; readonly name: string; readonly country: string }
  | { readonly kind: 'email'; readonly userId: string; readonly email: string }
  | { readonly kind: 'delete'; readonly userId: string };

const COUNTRIES = ['IE', 'AU', 'US', 'DE', 'JP', 'BR'];
export const HOT_USERS = ['user-hot-1', 'user-hot-2', 'user-hot-3'];

/**
 * A small PRNG (mulberry32) per (seed, stream). Each writer draws from its own, so how the writers'
 * requests interleave cannot change what any of them writes.
 */
export function generator(seed: number, stream: number): () => number {
  let a = (Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(Math.floor(seed / 2 ** 32) + 0x27d4eb2f, 0x165667b1) ^ Math.imul(stream + 1, 0xc2b2ae35)) | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The whole workload for a seed: the hot users' sign-ups (made first, before the writers start), then
 * each writer's operations. A writer only updates and deletes users it signed up itself (and the hot
 * users, which nobody deletes), so every operation finds its item whatever the interleaving.
 */
export function planWorkload(seed: number, operations: number, concurrency: number): { setup: Operation[]; writers: Operation[][] } {
  const setup: Operation[] = HOT_USERS.slice(0, operations).map((userId, i) => ({ kind: 'sign-up', userId, country: COUNTRIES[i]!, newsletter: false, avatar: 0 }));
  const rest = operations - setup.length;
  const writers = Array.from({ length: concurrency }, (_, w) => writerPlan(seed, w, Math.floor(rest / concurrency) + (w < rest % concurrency ? 1 : 0)));
  return { setup, writers };
}

function writerPlan(seed: number, writer: number, count: number): Operation[] {
  const random = generator(seed, writer);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const users: string[] = [];
  let next = 0;
  const ops: Operation[] = [];
  while (ops.length < count) {
    const r = random();
    if (users.length < 3 || r < 0.3) {
      const userId = `user-${writer}-${String(next).padStart(6, '0')}`;
      ops.push({ kind: 'sign-up', userId, country: pick(COUNTRIES), newsletter: random() < 0.5, avatar: next++ % 256 });
      users.push(userId);
    } else if (r < 0.55) {
      ops.push({ kind: 'login', userId: pick(HOT_USERS) });
    } else {
      const userId = pick(users);
      if (r < 0.75) ops.push({ kind: 'profile', userId, name: `Renamed ${Math.floor(random() * 1e6)}`, country: pick(COUNTRIES) });
      else if (r < 0.9) ops.push({ kind: 'email', userId, email: `${userId}+${Math.floor(random() * 1e6)}@example.com` });
      else {
        users.splice(users.indexOf(userId), 1);
        ops.push({ kind: 'delete', userId });
      }
    }
  }
  return ops;
}

export async function runWorkload(client: Pick<DynamoDBClient, 'send'>, opts: WorkloadOptions): Promise<Record<WriteKind, number>> {
  const counts: Record<WriteKind, number> = { 'sign-up': 0, profile: 0, email: 0, login: 0, delete: 0 };
  const { setup, writers } = planWorkload(opts.seed, opts.operations, opts.concurrency);
  const run = async (ops: readonly Operation[], writer: number) => {
    for (const op of ops) {
      await write(client, opts.table, op);
      counts[op.kind]++;
      opts.onWrite?.(op.userId, op.kind, Date.now(), writer);
    }
  };
  await run(setup, -1);
  await Promise.all(writers.map(run));
  return counts;
}

function write(client: Pick<DynamoDBClient, 'send'>, TableName: string, op: Operation): Promise<unknown> {
  const Key = { userId: { S: op.userId } };
  const now = { N: String(Date.now()) };
  const update = (expression: string, values: Record<string, { S: string } | { N: string } | { BOOL: boolean }>, names?: Record<string, string>) =>
    client.send(new UpdateItemCommand({ TableName, Key, UpdateExpression: `${expression}, updatedAt = :now`, ConditionExpression: 'attribute_exists(userId)', ExpressionAttributeValues: { ...values, ':now': now }, ExpressionAttributeNames: names }));
  switch (op.kind) {
    case 'sign-up':
      return client.send(new PutItemCommand({
        TableName,
        Item: {
          ...Key,
          email: { S: `${op.userId}@example.com` },
          name: { S: `User ${op.userId.slice(5)}` },
          plan: { S: 'free' },
          profile: { M: { country: { S: op.country }, newsletter: { BOOL: op.newsletter }, avatar: { B: new Uint8Array([op.avatar, 7, 42]) } } },
          roles: { SS: ['member'] },
          loginCount: { N: '0' },
          updatedAt: now,
        },
      }));
    case 'login':
      return update('SET loginCount = loginCount + :one', { ':one': { N: '1' } });
    case 'profile':
      return update('SET #name = :name, profile.country = :country', { ':name': { S: op.name }, ':country': { S: op.country } }, { '#name': 'name' });
    case 'email':
      return update('SET email = :email, emailVerified = :no', { ':email': { S: op.email }, ':no': { BOOL: false } });
    case 'delete':
      return client.send(new DeleteItemCommand({ TableName, Key }));
  }
}
