import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ClientRequest, createServer, IncomingHttpHeaders, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { handlerBundle } from '../../components/lambda-bundle';
import { stateTableName } from '../../config/names';
import { ConfigError } from '../../handlers/config';
import { isConditionFailure } from '../../handlers/dynamo';
import { dynamoEndpoint, liteDynamo } from '../../handlers/dynamo-lite';
import { makeHandler } from '../../handlers/replicate';
import { FaultProxy, startFaultProxy } from '../../local/fault-proxy';
import { createRegionalTable, provisionTables } from '../../local/tables';
import { client, tableSpec, uniqueName } from '../support/ddb';
import { harness } from '../support/handler-harness';
import { localEndpoint } from '../support/setup';

const REGION = 'us-east-1';
const bytes = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');

describe('the deployed DynamoDB client: aws-lite behind the port (DynamoDB Local)', function () {
  this.timeout(60_000);
  let table: string;
  let proxy: FaultProxy | undefined;
  before(async () => {
    table = uniqueName('lite');
    await createRegionalTable(client(REGION), { name: table, partitionKey: { name: 'pk', type: 'S' }, primaryRegion: REGION, replicaRegions: [] }, { stream: false });
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  const put = (pk: string, extra = {}) => ({ TableName: table, Item: { pk: { S: pk }, v: { N: '1' }, ...extra } });

  it('a failed conditional write names ConditionalCheckFailedException and returns the item as it was: numbers to the last digit, binaries as bytes', async () => {
    const db = liteDynamo(REGION);
    const item = {
      pk: { S: 'condition' },
      big: { N: '12345678901234567890123456789012345678' },
      b: { B: new Uint8Array([0, 1, 2, 255]) },
      bs: { BS: [new Uint8Array([1]), new Uint8Array([2, 3])] },
      m: { M: { l: { L: [{ B: new Uint8Array([9]) }, { S: 'x' }] } } },
    };
    await db.call('PutItem', { TableName: table, Item: item });
    // An independent reader sees what was written.
    const stored = (await client(REGION).send(new GetItemCommand({ TableName: table, Key: { pk: item.pk }, ConsistentRead: true }))).Item!;
    assert.equal(stored.big!.N, '12345678901234567890123456789012345678');
    assert.equal(bytes(stored.b!.B), '000102ff');
    assert.equal(bytes(stored.m!.M!.l!.L![0]!.B), '09');

    const failure = await db.call('PutItem', { TableName: table, Item: { pk: item.pk }, ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }).then(
      () => assert.fail('the conditional write went through'),
      (err: unknown) => err,
    );
    assert.ok(isConditionFailure(failure), `got ${(failure as Error).name}`);
    assert.doesNotMatch(failure.message, /aws-lite/, 'the message is DynamoDB\'s own');
    const old = failure.Item!;
    assert.equal(old.big!.N, '12345678901234567890123456789012345678');
    assert.ok(old.b!.B instanceof Uint8Array);
    assert.equal(bytes(old.b!.B), '000102ff');
    assert.deepEqual(old.bs!.BS!.map(bytes), ['01', '0203']);
    assert.equal(bytes(old.m!.M!.l!.L![0]!.B), '09');
    assert.equal(old.m!.M!.l!.L![1]!.S, 'x');
  });

  it('retries throttling and 5xx with backoff until they pass, and after its last retry throws DynamoDB\'s error', async () => {
    proxy = await startFaultProxy({ target: localEndpoint(), throttleRate: 1, faultOperations: ['PutItem'] });
    const random = Math.random;
    Math.random = () => 0.5; // aws-lite waits random() x 100 ms x 2^attempt before each retry: 50, then 100 ms
    let elapsed: number;
    try {
      const db = liteDynamo(REGION, { endpoint: proxy.endpoint, retries: 2 });
      const t0 = performance.now();
      await assert.rejects(db.call('PutItem', put('throttled')), (err: Error) => err.name === 'ProvisionedThroughputExceededException');
      elapsed = performance.now() - t0;
      assert.equal(proxy.stats.throttled, 3, 'the first attempt and two retries');

      proxy.setFaults({ throttleRate: 0, serverErrorRate: 1 });
      await assert.rejects(db.call('PutItem', put('failing')), (err: Error & { statusCode?: number }) => err.name === 'InternalServerError' && err.statusCode === 500);
      assert.equal(proxy.stats.serverErrors, 3);
    } finally {
      Math.random = random;
    }
    assert.ok(elapsed >= 145, `two retries waited 50 + 100 ms, took ${elapsed.toFixed(0)} ms`);

    // Some throttling, some 500s: every write lands within its retries.
    proxy.setFaults({ throttleRate: 0.25, serverErrorRate: 0.25 });
    const db = liteDynamo(REGION, { endpoint: proxy.endpoint });
    const keys = Array.from({ length: 30 }, (_, i) => `flaky-${i}`);
    await Promise.all(keys.map((k) => db.call('PutItem', put(k))));
    assert.ok(proxy.stats.throttled > 3 && proxy.stats.serverErrors > 3, 'faults were injected');
    for (const k of keys) assert.ok((await client(REGION).send(new GetItemCommand({ TableName: table, Key: { pk: { S: k } }, ConsistentRead: true }))).Item, k);
  });

  it('retries a dropped connection; a write whose answer was lost comes back as a failed condition holding that write', async () => {
    proxy = await startFaultProxy({ target: localEndpoint(), dropRate: 1, faultOperations: ['PutItem'] });
    const db = liteDynamo(REGION, { endpoint: proxy.endpoint, retries: 2 });
    await assert.rejects(db.call('PutItem', put('dropped')), /socket hang up|ECONNRESET/);
    assert.equal(proxy.stats.dropped, 3);

    // The write lands, its answer is lost, the retry finds it: the version condition makes the retry a no-op.
    // Seed 8 draws 0.156 then 0.625: at rate 0.5 the first attempt loses its answer and the retry does not.
    await proxy.close();
    proxy = await startFaultProxy({ target: localEndpoint(), dropAfterForwardRate: 0.5, faultOperations: ['PutItem'], seed: 8 });
    const once = liteDynamo(REGION, { endpoint: proxy.endpoint, retries: 1 });
    const versioned = { ...put('lost-answer', { ver: { N: '7' } }), ConditionExpression: 'attribute_not_exists(ver) OR ver < :v', ExpressionAttributeValues: { ':v': { N: '7' } }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
    const err = await once.call('PutItem', versioned).then(() => assert.fail('the retry overwrote the write'), (e: unknown) => e);
    assert.ok(isConditionFailure(err), `got ${(err as Error).name}`);
    assert.equal(err.Item?.ver?.N, '7', 'the item holds the write whose answer was lost');
    assert.deepEqual([proxy.stats.droppedAfterForward, proxy.stats.forwarded], [1, 2]);

    proxy.setFaults({ dropRate: 0.3, dropAfterForwardRate: 0 });
    const keys = Array.from({ length: 20 }, (_, i) => `reconnect-${i}`);
    await Promise.all(keys.map((k) => liteDynamo(REGION, { endpoint: proxy!.endpoint }).call('PutItem', put(k))));
    assert.ok(proxy.stats.dropped > 3);
  });

  it('gives up on a call that gets no answer, with a TimeoutError, instead of waiting for Lambda\'s own timeout', async () => {
    proxy = await startFaultProxy({ target: localEndpoint(), holdAfter: { operation: 'PutItem', count: 0 } });
    const db = liteDynamo(REGION, { endpoint: proxy.endpoint, timeoutMs: 500 });
    const err = await db.call('PutItem', put('unanswered')).then(() => assert.fail('an unanswered call resolved'), (e: Error) => e);
    assert.equal(err.name, 'TimeoutError');
    assert.equal(err.message, 'PutItem got no answer within 500 ms');
    assert.equal(proxy.stats.held, 1, 'the request reached the endpoint and was never answered');
  });

  it('ignores the endpoint variables, AWS_ENDPOINT_URL included, when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true', async () => {
    proxy = await startFaultProxy({ target: localEndpoint() });
    const saved = { url: process.env.AWS_ENDPOINT_URL, ignore: process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB };
    delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL = proxy.endpoint;
    try {
      process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = 'true';
      // AWS itself cannot be reached from here: the call fails, and the proxy saw nothing. Node's
      // own diagnostics channel shows where the request went: AWS's endpoint, signed for the region.
      const sent: { host: string; protocol: string; authorization: string }[] = [];
      const onStart = (m: unknown) => {
        const r = (m as { request: ClientRequest }).request;
        // Requests to AWS only: anything else in the process may be talking to DynamoDB Local meanwhile.
        if (r.host.endsWith('.amazonaws.com')) sent.push({ host: r.host, protocol: r.protocol, authorization: String(r.getHeader('authorization')) });
      };
      subscribe('http.client.request.start', onStart);
      try {
        await assert.rejects(liteDynamo('eu-west-1', { retries: 0, timeoutMs: 3000 }).call('GetItem', { TableName: table, Key: { pk: { S: 'x' } } }));
      } finally {
        unsubscribe('http.client.request.start', onStart);
      }
      assert.equal(proxy.stats.forwarded, 0);
      assert.deepEqual(sent.map(({ authorization, ...r }) => r), [{ host: 'dynamodb.eu-west-1.amazonaws.com', protocol: 'https:' }]);
      assert.match(sent[0]!.authorization, /Credential=[^/]+\/\d{8}\/eu-west-1\/dynamodb\/aws4_request/);
      delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
      await liteDynamo(REGION).call('GetItem', { TableName: table, Key: { pk: { S: 'x' } } });
      assert.equal(proxy.stats.forwarded, 1, 'without the flag, AWS_ENDPOINT_URL is used');
    } finally {
      for (const [k, v] of [['AWS_ENDPOINT_URL', saved.url], ['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', saved.ignore], ['AWS_ENDPOINT_URL_DYNAMODB', saved.dynamodb]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('finds its endpoint as the SDK does: AWS_ENDPOINT_URL_DYNAMODB, then AWS_ENDPOINT_URL; a bad value is one line naming the variable and the fix', async () => {
    assert.equal(dynamoEndpoint({ AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1', AWS_ENDPOINT_URL: 'http://127.0.0.1:2' }), 'http://127.0.0.1:1');
    assert.equal(dynamoEndpoint({ AWS_ENDPOINT_URL: 'http://127.0.0.1:2' }), 'http://127.0.0.1:2');
    assert.equal(dynamoEndpoint({ AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }), undefined);
    assert.equal(dynamoEndpoint({}), undefined);
    assert.throws(
      () => dynamoEndpoint({ AWS_ENDPOINT_URL_DYNAMODB: 'localhost:8000' }),
      (err: Error) => err instanceof ConfigError && err.message === 'AWS_ENDPOINT_URL_DYNAMODB is "localhost:8000": use a URL such as http://127.0.0.1:8000, or unset it to use AWS',
    );

    // The handler's own clients go where the variable says: here, a proxy in front of DynamoDB Local.
    const h = await harness();
    proxy = await startFaultProxy({ target: localEndpoint() });
    const saved = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.endpoint;
    let handler;
    try {
      handler = makeHandler(h.config, { log: () => undefined });
      process.env.AWS_ENDPOINT_URL_DYNAMODB = 'not a url';
      assert.throws(() => makeHandler(h.config), /AWS_ENDPOINT_URL_DYNAMODB is "not a url"/, 'a bad endpoint makes the handler throw');
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = saved;
    }
    await h.put({ pk: 'via-endpoint', v: 1 });
    assert.deepEqual(await handler(await h.tap.event()), { batchItemFailures: [] });
    assert.ok(proxy.stats.forwarded > 0, 'the handler sent its requests to the configured endpoint');
    assert.equal((await h.get('eu-west-1', { pk: 'via-endpoint' }))?.v, 1);
    h.close();
  });

  it('the deployed bundle signs with the credentials Lambda puts in its environment, session token included', async function () {
    this.timeout(120_000);
    // DynamoDB Local keeps one database per access key: the tables exist only under the function's key.
    const accessKeyId = `LAMBDAKEY${process.pid}`;
    const keyed = (region: string) => new DynamoDBClient({ region, credentials: { accessKeyId, secretAccessKey: 'lambda-secret' } });
    const spec = tableSpec();
    await provisionTables(spec, keyed);

    // In front of DynamoDB Local: notes each request's headers, forwards it unchanged.
    const seen: IncomingHttpHeaders[] = [];
    const target = new URL(localEndpoint());
    const recorder = createServer((req, res) => {
      seen.push(req.headers);
      const up = request({ hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
    const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
    try {
      writeFileSync(join(dir, 'index.js'), handlerBundle('replicate').code);
      const event: DynamoDBStreamEvent = {
        Records: [
          {
            eventID: '1',
            eventName: 'INSERT',
            eventVersion: '1.1',
            eventSource: 'aws:dynamodb',
            awsRegion: REGION,
            eventSourceARN: `arn:aws:dynamodb:${REGION}:000000000000:table/${spec.name}/stream/2026-12-06T00:00:00.000`,
            dynamodb: { ApproximateCreationDateTime: Math.floor(Date.now() / 1000), Keys: { pk: { S: 'signed' } }, NewImage: { pk: { S: 'signed' }, v: { N: '1' } }, SequenceNumber: '100000000000000000001', SizeBytes: 20, StreamViewType: 'NEW_AND_OLD_IMAGES' },
          },
        ],
      };
      const env = {
        PATH: process.env.PATH,
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: accessKeyId,
        AWS_SECRET_ACCESS_KEY: 'lambda-secret',
        AWS_SESSION_TOKEN: 'lambda-session-token',
        AWS_LAMBDA_FUNCTION_NAME: 'replicate',
        AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`,
        REPLICA_TARGETS: JSON.stringify([{ region: 'eu-west-1', tableName: spec.name }]),
        STATE_TABLE: stateTableName(spec.name),
      };
      const script = `require(${JSON.stringify(join(dir, 'index.js'))}).handler(${JSON.stringify(event)}, {}).then((r) => process.stderr.write('RESULT' + JSON.stringify(r)))`;
      // Asynchronous: the recorder answers from this process.
      const run = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.on('exit', (status) => resolve({ status, stderr }));
      });
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stderr.split('RESULT')[1]!), { batchItemFailures: [] });
      const replicated = (await keyed('eu-west-1').send(new GetItemCommand({ TableName: spec.name, Key: { pk: { S: 'signed' } }, ConsistentRead: true }))).Item;
      assert.equal(replicated?.v?.N, '1', 'written into the database of the function\'s access key');
      assert.ok(seen.length >= 3, 'fence, tombstones and the write went through the recorder');
      for (const h of seen) {
        assert.match(String(h.authorization), new RegExp(`Credential=${accessKeyId}/\\d{8}/(us-east-1|eu-west-1)/dynamodb/aws4_request`));
        assert.equal(h['x-amz-security-token'], 'lambda-session-token');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await new Promise((r) => recorder.close(r));
    }
  });
});
