import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';

/** A user-registration system's traffic: sign-ups, profile and e-mail changes, deletions, hot users. */
export interface WorkloadOptions {
  readonly table: string;
  readonly operations: number;
  /** Writers in flight at once. */
  readonly concurrency: number;
  readonly seed: number;
  /** Called after each write, with the time it was acknowledged. */
  readonly onWrite?: (userId: string, kind: WriteKind, atMs: number) => void;
}

export type WriteKind = 'sign-up' | 'profile' | 'email' | 'login' | 'delete';

const COUNTRIES = ['IE', 'AU', 'US', 'DE', 'JP', 'BR'];
const HOT_USERS = ['user-hot-1', 'user-hot-2', 'user-hot-3'];

export async function runWorkload(client: DynamoDBClient, opts: WorkloadOptions): Promise<Record<WriteKind, number>> {
  let seed = opts.seed;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const users: string[] = [];
  let nextUser = 0;
  const counts: Record<WriteKind, number> = { 'sign-up': 0, profile: 0, email: 0, login: 0, delete: 0 };
  const TableName = opts.table;

  const signUp = (userId: string) =>
    client.send(
      new PutItemCommand({
        TableName,
        Item: {
          userId: { S: userId },
          email: { S: `${userId}@example.com` },
          name: { S: `User ${userId.slice(5)}` },
          plan: { S: 'free' },
          profile: { M: { country: { S: pick(COUNTRIES) }, newsletter: { BOOL: random() < 0.5 }, avatar: { B: new Uint8Array([nextUser % 256, 7, 42]) } } },
          roles: { SS: ['member'] },
          loginCount: { N: '0' },
          updatedAt: { N: String(Date.now()) },
        },
      }),
    );
  const update = (userId: string, expression: string, values: Record<string, { S: string } | { N: string } | { BOOL: boolean }>, names?: Record<string, string>) =>
    client.send(
      new UpdateItemCommand({
        TableName,
        Key: { userId: { S: userId } },
        UpdateExpression: `${expression}, updatedAt = :now`,
        ConditionExpression: 'attribute_exists(userId)',
        ExpressionAttributeValues: { ...values, ':now': { N: String(Date.now()) } },
        ExpressionAttributeNames: names,
      }),
    );

  const step = async (): Promise<[string, WriteKind]> => {
    const r = random();
    if (users.length < 20 || r < 0.3) {
      const userId = `user-${String(nextUser++).padStart(6, '0')}`;
      await signUp(userId);
      users.push(userId);
      return [userId, 'sign-up'];
    }
    if (r < 0.55) {
      const userId = pick(HOT_USERS);
      if (!users.includes(userId)) {
        await signUp(userId);
        users.push(userId);
        return [userId, 'sign-up'];
      }
      await update(userId, 'SET loginCount = loginCount + :one', { ':one': { N: '1' } });
      return [userId, 'login'];
    }
    const userId = pick(users.filter((u) => !HOT_USERS.includes(u)));
    if (r < 0.75) {
      await update(userId, 'SET #name = :name, profile.country = :country', { ':name': { S: `Renamed ${Math.floor(random() * 1e6)}` }, ':country': { S: pick(COUNTRIES) } }, { '#name': 'name' }).catch(ignoreMissing);
      return [userId, 'profile'];
    }
    if (r < 0.9) {
      await update(userId, 'SET email = :email, emailVerified = :no', { ':email': { S: `${userId}+${Math.floor(random() * 1e6)}@example.com` }, ':no': { BOOL: false } }).catch(ignoreMissing);
      return [userId, 'email'];
    }
    users.splice(users.indexOf(userId), 1);
    await client.send(new DeleteItemCommand({ TableName, Key: { userId: { S: userId } } }));
    return [userId, 'delete'];
  };

  let issued = 0;
  const writer = async () => {
    while (issued < opts.operations) {
      issued++;
      const [userId, kind] = await step();
      counts[kind]++;
      opts.onWrite?.(userId, kind, Date.now());
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, writer));
  return counts;
}

/** Another writer may have deleted the user first; the update's condition then fails, as intended. */
function ignoreMissing(err: Error): void {
  if (err.name !== 'ConditionalCheckFailedException') throw err;
}
