import { strict as assert } from 'node:assert';
import { Agent, createServer, IncomingHttpHeaders, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { FaultProxy, FaultProxyOptions, startFaultProxy } from '../../local/fault-proxy';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** POSTs like the AWS SDK does; `agent: false` (a fresh connection) unless an agent is given. */
function post(endpoint: string, operation: string, body: string, agent: Agent | false = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${endpoint}/`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${operation}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('fault proxy', () => {
  let upstream: Server;
  let target: string;
  let upstreamRequests: { operation: string; body: string }[] = [];
  const proxies: FaultProxy[] = [];

  /** Starts a proxy in front of the echo upstream and closes it after the test. */
  async function proxy(opts: Omit<FaultProxyOptions, 'target'> = {}): Promise<FaultProxy> {
    const p = await startFaultProxy({ target, ...opts });
    proxies.push(p);
    return p;
  }

  before(async () => {
    // Counts requests and echoes the body with status 201 and a marker header.
    upstream = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        upstreamRequests.push({ operation: String(req.headers['x-amz-target']).split('.').pop() ?? '', body });
        res.writeHead(201, { 'content-type': 'application/x-amz-json-1.0', 'x-upstream': 'echo' });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    upstreamRequests = [];
  });

  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });

  after(async () => {
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('listens on 127.0.0.1 and forwards status, headers and body', async () => {
    const p = await proxy();
    assert.match(p.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    const reply = await post(p.endpoint, 'PutItem', '{"TableName":"t"}');
    assert.equal(reply.status, 201);
    assert.equal(reply.body, '{"TableName":"t"}');
    assert.equal(reply.headers['x-upstream'], 'echo');
    assert.deepEqual(upstreamRequests, [{ operation: 'PutItem', body: '{"TableName":"t"}' }]);
    assert.equal(p.stats.requests, 1);
    assert.equal(p.stats.forwarded, 1);
  });

  it('throttleRate 1 answers 400 ProvisionedThroughputExceededException without forwarding', async () => {
    const p = await proxy({ throttleRate: 1 });
    const reply = await post(p.endpoint, 'PutItem', '{}');
    assert.equal(reply.status, 400);
    assert.equal(reply.headers['content-type'], 'application/x-amz-json-1.0');
    assert.equal(reply.headers['x-amzn-errortype'], 'ProvisionedThroughputExceededException');
    const body = JSON.parse(reply.body) as { __type: string; message: string };
    assert.equal(body.__type, 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException');
    assert.equal(typeof body.message, 'string');
    assert.equal(upstreamRequests.length, 0);
    assert.equal(p.stats.throttled, 1);
    assert.equal(p.stats.forwarded, 0);
  });

  it('serverErrorRate 1 answers 500 InternalServerError without forwarding', async () => {
    const p = await proxy({ serverErrorRate: 1 });
    const reply = await post(p.endpoint, 'PutItem', '{}');
    assert.equal(reply.status, 500);
    assert.equal((JSON.parse(reply.body) as { __type: string }).__type, 'com.amazonaws.dynamodb.v20120810#InternalServerError');
    assert.equal(upstreamRequests.length, 0);
    assert.equal(p.stats.serverErrors, 1);
  });

  it('dropRate 1 resets the connection without forwarding', async () => {
    const p = await proxy({ dropRate: 1 });
    await assert.rejects(post(p.endpoint, 'PutItem', '{}'), (err: NodeJS.ErrnoException) => {
      assert.ok(err.code === 'ECONNRESET' || /socket hang up/.test(err.message), `unexpected error ${err.code} ${err.message}`);
      return true;
    });
    assert.equal(upstreamRequests.length, 0);
    assert.equal(p.stats.dropped, 1);
  });

  it('dropAfterForwardRate 1 applies the request upstream but loses the reply', async () => {
    const p = await proxy({ dropAfterForwardRate: 1 });
    await assert.rejects(post(p.endpoint, 'PutItem', '{"k":1}'), (err: NodeJS.ErrnoException) => {
      assert.ok(err.code === 'ECONNRESET' || /socket hang up/.test(err.message), `unexpected error ${err.code} ${err.message}`);
      return true;
    });
    assert.deepEqual(upstreamRequests, [{ operation: 'PutItem', body: '{"k":1}' }]);
    assert.equal(p.stats.droppedAfterForward, 1);
    assert.equal(p.stats.forwarded, 1);
  });

  it('faultOperations limits faults to the listed X-Amz-Target operations', async () => {
    const p = await proxy({ throttleRate: 1, faultOperations: ['PutItem'] });
    assert.equal((await post(p.endpoint, 'PutItem', '{}')).status, 400);
    assert.equal((await post(p.endpoint, 'GetItem', '{"g":1}')).status, 201);
    assert.deepEqual(upstreamRequests, [{ operation: 'GetItem', body: '{"g":1}' }]);
  });

  it('answerLocally answers the listed operations itself, as a synthetic engine, and forwards the rest', async () => {
    const p = await proxy({ answerLocally: ['PutItem'] });
    const put = await post(p.endpoint, 'PutItem', '{"p":1}');
    assert.equal(put.status, 200);
    assert.equal(put.body, '{}');
    assert.equal((await post(p.endpoint, 'GetItem', '{"g":1}')).status, 201);
    assert.deepEqual(upstreamRequests, [{ operation: 'GetItem', body: '{"g":1}' }]);
  });

  it('setFaults changes the faults of a running proxy', async () => {
    const p = await proxy();
    assert.equal((await post(p.endpoint, 'PutItem', '{}')).status, 201);
    p.setFaults({ serverErrorRate: 1 });
    assert.equal((await post(p.endpoint, 'PutItem', '{}')).status, 500);
    p.setFaults({ serverErrorRate: 0 });
    assert.equal((await post(p.endpoint, 'PutItem', '{}')).status, 201);
    assert.throws(() => p.setFaults({ dropRate: -1 }), /dropRate/);
  });

  it('a fixed seed gives about the configured fraction of faults, identically each run', async () => {
    const run = async (): Promise<number[]> => {
      const p = await proxy({ throttleRate: 0.5, seed: 42 });
      const agent = new Agent({ keepAlive: true });
      try {
        const statuses: number[] = [];
        // Sequential, so the order of requests (and so of PRNG draws) is fixed.
        for (let i = 0; i < 200; i++) statuses.push((await post(p.endpoint, 'PutItem', '{}', agent)).status);
        assert.equal(p.stats.throttled, statuses.filter((s) => s === 400).length);
        return statuses;
      } finally {
        agent.destroy();
      }
    };
    const first = await run();
    const faults = first.filter((s) => s === 400).length;
    assert.ok(faults >= 60 && faults <= 140, `expected 60..140 throttles out of 200, got ${faults}`);
    assert.deepEqual(await run(), first);
  });

  it('latencyMs delays each request', async () => {
    const p = await proxy({ latencyMs: 100 });
    const start = performance.now();
    const reply = await post(p.endpoint, 'GetItem', '{}');
    const elapsed = performance.now() - start;
    assert.equal(reply.status, 201);
    assert.ok(elapsed >= 100, `expected >= 100 ms, took ${elapsed.toFixed(1)} ms`);
  });

  it('rejects invalid options with a message naming the option, the value and what is allowed', async () => {
    await assert.rejects(startFaultProxy({ target, throttleRate: 1.5 }), /throttleRate must be a number from 0 to 1.*got 1\.5/);
    await assert.rejects(startFaultProxy({ target, dropAfterForwardRate: Number.NaN }), /dropAfterForwardRate .*got NaN/);
    await assert.rejects(startFaultProxy({ target, latencyMs: -5 }), /latencyMs must be .*>= 0, got -5/);
    await assert.rejects(startFaultProxy({ target: 'not a url' }), /target must be an http:\/\/ URL.*got "not a url"/);
    await assert.rejects(startFaultProxy({ target: 'https://example.com' }), /target must be an http:\/\/ URL/);
    await assert.rejects(startFaultProxy({ target, faultOperations: 'PutItem' as unknown as string[] }), /faultOperations must be an array/);
  });
});
