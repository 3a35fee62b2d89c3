import { RunningDynamoDbLocal, startDynamoDbLocal, useLocalEndpoint } from '../../local/dynamodb-local';
import { stopStreamClocks } from '../../local/esm/stream-clock';
import { resetClients } from './ddb';

/** Root hooks: one DynamoDB Local for the whole run, on 127.0.0.1 and a free port. */
let ddb: RunningDynamoDbLocal | undefined;
// On Node.js < 22 (which package.json's engines rule out) the AWS SDK's notice about needing 22 is only noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    ddb = await startDynamoDbLocal();
    useLocalEndpoint(ddb.endpoint);
  },
  async afterAll() {
    // Stream watchers poll DynamoDB Local: stop them first (tests that start one stop it too).
    await stopStreamClocks();
    await ddb?.stop();
  },
};

export function localEndpoint(): string {
  if (!ddb) throw new Error('DynamoDB Local is not running: tests/support/setup.ts starts it in a root hook');
  return ddb.endpoint;
}

/**
 * Replaces the run's DynamoDB Local with a fresh one (same settings, a new free port) and points
 * this process's clients at it. DynamoDB Local slows down with every table it has held: measured
 * here (three regions, six tables a round, ten writes and stream reads per region), a round took
 * ~1.5x as long after 400 rounds (2,400 tables) as in the first 100, and its memory grew by ~1 GB;
 * deleting each round's tables changed neither (nor do stream iterators pile up: 30,000 GetRecords
 * slowed nothing). Property tests create thousands, so they call this before they start and every
 * so many runs, between runs (each run creates its own tables and leaves nothing running). Stream
 * watchers still running (none should be) are stopped first.
 */
export async function freshDynamoDbLocal(): Promise<void> {
  await stopStreamClocks();
  await ddb?.stop();
  ddb = undefined;
  resetClients();
  ddb = await startDynamoDbLocal();
  useLocalEndpoint(ddb.endpoint);
}

/** For a property: await the function it returns at the start of each run; every `runs` runs, the next one gets a fresh DynamoDB Local. */
export function freshDynamoDbLocalEvery(runs: number): () => Promise<void> {
  let ran = 0;
  return async () => {
    if (++ran <= runs) return;
    ran = 1;
    await freshDynamoDbLocal();
  };
}
