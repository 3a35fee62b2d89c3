/**
 * A small HTTP proxy in front of DynamoDB Local that injects the failures a real cross-region
 * deployment sees (throttling, 500s, dropped connections, lost responses) plus added latency, so
 * tests and benchmarks can exercise retry and idempotency paths deterministically.
 */
import { Agent, IncomingHttpHeaders, IncomingMessage, request as httpRequest, ServerResponse, createServer } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

export interface FaultProxyOptions {
  /** Upstream base URL, e.g. http://127.0.0.1:8000 */
  target: string;
  /** Fractions of requests (0..1) that get each fault; checked in this order; default 0. */
  throttleRate?: number;
  serverErrorRate?: number;
  dropRate?: number;
  dropAfterForwardRate?: number;
  /** Added delay before forwarding, ms (simulates a cross-region round trip); jitterMs adds uniform random 0..jitterMs. */
  latencyMs?: number;
  jitterMs?: number;
  /** Only requests whose X-Amz-Target operation name (e.g. "PutItem") is in this list get faults; default: all. Latency applies to all. */
  faultOperations?: string[];
  /** Seed for a deterministic PRNG so runs are repeatable; default 1. */
  seed?: number;
  /**
   * Operations answered by the proxy itself with `{}` (after the latency) instead of forwarding: a
   * synthetic engine with unlimited throughput, to measure a client's own ceiling.
   */
  answerLocally?: string[];
  /**
   * Requests of this operation beyond the first `count` are held: never forwarded nor answered until
   * the proxy closes. A client then stalls at a known point, so a test can stop it there.
   */
  holdAfter?: { operation: string; count: number };
}

export interface FaultProxyStats {
  /** Every request received. */
  requests: number;
  /** Requests sent upstream, including those whose response was then dropped. */
  forwarded: number;
  throttled: number;
  serverErrors: number;
  dropped: number;
  droppedAfterForward: number;
  /** Requests held by `holdAfter`. */
  held: number;
  /** Requests received, not held, whose answer has not gone out yet (a test closes the proxy once only held ones remain). */
  inFlight: number;
}

type Faults = Partial<Pick<FaultProxyOptions, 'throttleRate' | 'serverErrorRate' | 'dropRate' | 'dropAfterForwardRate' | 'latencyMs' | 'jitterMs'>>;

export interface FaultProxy {
  readonly endpoint: string;
  readonly stats: FaultProxyStats;
  setFaults(f: Faults): void;
  close(): Promise<void>;
}

type Fault = 'throttle' | 'serverError' | 'drop' | 'dropAfterForward' | undefined;

const RATE_OPTIONS = ['throttleRate', 'serverErrorRate', 'dropRate', 'dropAfterForwardRate'] as const;
const DELAY_OPTIONS = ['latencyMs', 'jitterMs'] as const;
// Connection-level headers describe one hop only and must not be copied to the next one.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** mulberry32: tiny, fast and good enough to spread faults evenly; same seed → same sequence. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON.stringify shows NaN and Infinity as null, which hides the mistake. */
function show(v: unknown): string {
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
}

function validateFaults(f: Faults): void {
  for (const name of RATE_OPTIONS) {
    const v = f[name];
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) {
      throw new Error(`fault proxy: ${name} must be a number from 0 to 1 (a fraction of requests), got ${show(v)}`);
    }
  }
  for (const name of DELAY_OPTIONS) {
    const v = f[name];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      throw new Error(`fault proxy: ${name} must be a finite number of milliseconds >= 0, got ${show(v)}`);
    }
  }
}

function validateOptions(opts: FaultProxyOptions): URL {
  let url: URL | undefined;
  try {
    url = new URL(opts.target);
  } catch {
    // reported below
  }
  if (!url || url.protocol !== 'http:') {
    throw new Error(`fault proxy: target must be an http:// URL such as http://127.0.0.1:8000, got ${show(opts.target)}`);
  }
  validateFaults(opts);
  if (opts.faultOperations !== undefined && !(Array.isArray(opts.faultOperations) && opts.faultOperations.every((o) => typeof o === 'string'))) {
    throw new Error(`fault proxy: faultOperations must be an array of operation names such as ["PutItem"], got ${show(opts.faultOperations)}`);
  }
  const hold = opts.holdAfter;
  if (hold !== undefined && !(typeof hold.operation === 'string' && Number.isInteger(hold.count) && hold.count >= 0)) {
    throw new Error(`fault proxy: holdAfter must be { operation: "PutItem", count: N } with N a whole number >= 0, got ${show(hold)}`);
  }
  if (opts.seed !== undefined && !(typeof opts.seed === 'number' && Number.isInteger(opts.seed))) {
    throw new Error(`fault proxy: seed must be an integer, got ${show(opts.seed)}`);
  }
  return url;
}

/** Error bodies shaped like DynamoDB's, so the AWS SDK classifies and retries them as it would in AWS. */
function sendDynamoDbError(res: ServerResponse, status: number, type: string, message: string, requestId: string): void {
  const body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message });
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
    'x-amzn-errortype': type,
    'x-amzn-requestid': requestId,
  });
  res.end(body);
}

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const target = validateOptions(opts);
  const faults: Required<Faults> = { throttleRate: 0, serverErrorRate: 0, dropRate: 0, dropAfterForwardRate: 0, latencyMs: 0, jitterMs: 0 };
  Object.assign(faults, definedOnly(opts));
  const faultOperations = opts.faultOperations ? new Set(opts.faultOperations) : undefined;
  const seed = opts.seed ?? 1;
  // Separate streams so changing jitter does not shift which requests get faults.
  const faultRandom = mulberry32(seed);
  const jitterRandom = mulberry32(seed ^ 0x9e3779b9);
  const stats: FaultProxyStats = { requests: 0, forwarded: 0, throttled: 0, serverErrors: 0, dropped: 0, droppedAfterForward: 0, held: 0, inFlight: 0 };
  let holdCount = 0;
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  /** One draw per eligible request against the cumulative rates, so each rate is the fraction of requests it gets. */
  function pickFault(operation: string): Fault {
    if (faultOperations && !faultOperations.has(operation)) return undefined;
    let r = faultRandom();
    if ((r -= faults.throttleRate) < 0) return 'throttle';
    if ((r -= faults.serverErrorRate) < 0) return 'serverError';
    if ((r -= faults.dropRate) < 0) return 'drop';
    if ((r -= faults.dropAfterForwardRate) < 0) return 'dropAfterForward';
    return undefined;
  }

  function forward(req: IncomingMessage, body: Buffer, onResponse: (up: IncomingMessage) => void, onError: (err: Error) => void): void {
    stats.forwarded++;
    const headers = withoutHopByHop(req.headers);
    headers['content-length'] = String(body.length); // the body was buffered, so its length is known
    const up = httpRequest(
      { protocol: 'http:', hostname: target.hostname, port: target.port || 80, method: req.method, path: req.url, headers, agent },
      onResponse,
    );
    up.on('error', onError);
    up.end(body);
  }

  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer, fault: Fault, requestId: string): void {
    switch (fault) {
      case 'throttle':
        stats.throttled++;
        return sendDynamoDbError(res, 400, 'ProvisionedThroughputExceededException',
          'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.', requestId);
      case 'serverError':
        stats.serverErrors++;
        return sendDynamoDbError(res, 500, 'InternalServerError', 'Internal server error (injected by fault proxy)', requestId);
      case 'drop':
        stats.dropped++;
        req.socket.destroy();
        return;
      case 'dropAfterForward':
        stats.droppedAfterForward++;
        // Let the upstream finish (so the write is applied and its socket can be reused), then lose the reply.
        return forward(req, body, (up) => up.resume().on('end', () => req.socket.destroy()), () => req.socket.destroy());
      default:
        if (opts.answerLocally?.includes(String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '')) {
          return void res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId, 'content-length': 2 }).end('{}');
        }
        return forward(
          req,
          body,
          (up) => {
            res.writeHead(up.statusCode ?? 502, withoutHopByHop(up.headers));
            up.pipe(res);
          },
          (err) => {
            if (res.headersSent) return void req.socket.destroy();
            const msg = JSON.stringify({ message: `fault proxy: upstream ${opts.target} failed: ${err.message}` });
            res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(msg) }).end(msg);
          },
        );
    }
  }

  const server = createServer((req, res) => {
    stats.requests++;
    const requestId = `fault-proxy-${stats.requests}`;
    // Decide on arrival, so the fault sequence follows request order even when jitter reorders replies.
    const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
    if (opts.holdAfter?.operation === operation && ++holdCount > opts.holdAfter.count) {
      stats.held++;
      return; // answered never; close() destroys the socket
    }
    stats.inFlight++;
    res.once('close', () => stats.inFlight--);
    const fault = pickFault(operation);
    const delay = faults.latencyMs + jitterRandom() * faults.jitterMs;
    // DynamoDB requests are small JSON documents, so buffering is cheap and lets the delay start once the whole request is in.
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (closed) return;
      const body = Buffer.concat(chunks);
      // Node timers can fire up to 1 ms early (they count whole loop milliseconds), so re-check the clock.
      const due = performance.now() + delay;
      const wait = (): void => {
        const left = due - performance.now();
        if (left <= 0) return handle(req, res, body, fault, requestId);
        const timer = setTimeout(() => {
          timers.delete(timer);
          wait();
        }, left);
        timers.add(timer);
      };
      wait();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    setFaults(f) {
      validateFaults(f);
      Object.assign(faults, definedOnly(f));
    },
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      // Open keep-alive connections would otherwise hold server.close() (and the test process) open.
      for (const s of sockets) s.destroy();
      agent.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Only the fault settings that are present, so `undefined` never overwrites a default. */
function definedOnly(f: Faults): Faults {
  const out: Faults = {};
  for (const name of [...RATE_OPTIONS, ...DELAY_OPTIONS]) {
    const v = f[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}
