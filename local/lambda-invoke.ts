import { createServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalFunction {
  readonly handler: (event: never, context: { getRemainingTimeInMillis(): number }) => Promise<unknown>;
  /** The function's timeout, as the context reports it (default 15 minutes). */
  readonly timeoutMs?: number;
}

export interface LocalInvokeApi {
  readonly endpoint: string;
  readonly stats: { invocations: number; functionErrors: number };
  /** The next `n` invocations fail as a crashed runtime would, without running the handler. */
  crashNext(n: number): void;
  close(): Promise<void>;
}

const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/**
 * Lambda's Invoke (synchronous) on 127.0.0.1, running handlers in this process, so
 * `backfill --workers N --lambda-endpoint URL` takes the same SDK path (payloads, FunctionError)
 * as against AWS. A handler's error comes back as Lambda reports it: 200, X-Amz-Function-Error.
 */
export async function startLocalInvokeApi(functions: Readonly<Record<string, LocalFunction>>): Promise<LocalInvokeApi> {
  const stats = { invocations: 0, functionErrors: 0 };
  let crashes = 0;
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const name = decodeURIComponent(PATH.exec(new URL(req.url ?? '/', 'http://localhost').pathname)?.[1] ?? '').split(':').pop()!;
      const fn = req.method === 'POST' ? functions[name] : undefined;
      if (!fn) return send(res, 404, { message: `Function not found: ${name}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
      stats.invocations++;
      const fail = (errorType: string, errorMessage: string) => {
        stats.functionErrors++;
        send(res, 200, { errorType, errorMessage }, { 'x-amz-function-error': 'Unhandled' });
      };
      if (crashes > 0) {
        crashes--;
        return fail('Runtime.ExitError', 'RequestId: local Error: Runtime exited with error: signal: killed');
      }
      const deadline = Date.now() + (fn.timeoutMs ?? 900_000);
      try {
        send(res, 200, (await fn.handler(JSON.parse(body || '{}') as never, { getRemainingTimeInMillis: () => deadline - Date.now() })) ?? null);
      } catch (err) {
        fail((err as Error).name ?? 'Error', (err as Error).message ?? String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    crashNext: (n) => (crashes += n),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
