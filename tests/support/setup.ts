import { RunningDynamoDbLocal, startDynamoDbLocal, useLocalEndpoint } from '../../local/dynamodb-local';
import { stopStreamClocks } from '../../local/esm/stream-clock';

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
