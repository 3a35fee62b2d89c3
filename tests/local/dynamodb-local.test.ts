import { strict as assert } from 'node:assert';
import { startDynamoDbLocal, useLocalEndpoint } from '../../local/dynamodb-local';

describe('DynamoDB Local runner', () => {
  it('says how to install Java when `java` is not on PATH', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await assert.rejects(startDynamoDbLocal(), /needs Java 17 or newer, and `java` was not found on PATH[\s\S]*apt-get install -y openjdk-17-jre-headless[\s\S]*--endpoint URL/);
    } finally {
      process.env.PATH = path;
    }
  });

  it('points the SDK at a local endpoint and puts the variables back afterwards', () => {
    const env: NodeJS.ProcessEnv = { AWS_ACCESS_KEY_ID: 'mine' };
    const restore = useLocalEndpoint('http://127.0.0.1:1234', env);
    assert.equal(env.AWS_ENDPOINT_URL_DYNAMODB, 'http://127.0.0.1:1234');
    assert.equal(env.AWS_ENDPOINT_URL_DYNAMODB_STREAMS, 'http://127.0.0.1:1234');
    assert.equal(env.AWS_ACCESS_KEY_ID, 'mine');
    assert.equal(env.AWS_SECRET_ACCESS_KEY, 'local');
    restore();
    assert.deepEqual(env, { AWS_ACCESS_KEY_ID: 'mine' });
  });
});
