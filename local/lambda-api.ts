import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalLink } from './deployment';

export interface LocalLambdaApi {
  readonly endpoint: string;
  close(): Promise<void>;
}

const PREFIX = '/2015-03-31/event-source-mappings';

/**
 * The part of the Lambda API that controls event source mappings (ListEventSourceMappings,
 * UpdateEventSourceMapping with `Enabled`), served on 127.0.0.1 over a local deployment's links, so
 * `ddb-replicator failover --lambda-endpoint URL` switches local mappings through the same AWS SDK
 * calls it makes against AWS. A mapping's UUID is its function's name.
 */
export async function startLocalLambdaApi(links: () => readonly LocalLink[]): Promise<LocalLambdaApi> {
  const describe = (l: LocalLink) => ({
    UUID: l.functionName,
    FunctionArn: `arn:aws:lambda:${l.region}:000000000000:function:${l.functionName}`,
    EventSourceArn: l.streamArn,
    State: l.emulator.enabled ? 'Enabled' : 'Disabled',
    StartingPosition: l.emulator.settings.startingPosition,
    BatchSize: l.emulator.settings.batchSize,
  });
  const send = (res: ServerResponse, status: number, body: unknown, errorType?: string) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(errorType && { 'x-amzn-errortype': errorType }) });
    res.end(text);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(PREFIX)) return send(res, 404, { message: `not served locally: ${req.method} ${url.pathname}` }, 'ResourceNotFoundException');
    const uuid = decodeURIComponent(url.pathname.slice(PREFIX.length).replace(/^\/|\/$/g, ''));
    if (req.method === 'GET' && uuid === '') {
      const fn = url.searchParams.get('FunctionName');
      const name = fn?.split(':').pop();
      return send(res, 200, { EventSourceMappings: links().filter((l) => !name || l.functionName === name).map(describe) });
    }
    const link = links().find((l) => l.functionName === uuid);
    if (!link) return send(res, 404, { message: `The resource you requested does not exist. (Service: Lambda, mapping ${uuid})` }, 'ResourceNotFoundException');
    if (req.method === 'GET') return send(res, 200, describe(link));
    if (req.method === 'PUT') {
      const { Enabled } = (body ? JSON.parse(body) : {}) as { Enabled?: boolean };
      if (Enabled === true && !link.emulator.enabled) link.emulator.enable();
      if (Enabled === false && link.emulator.enabled) await link.emulator.disable();
      return send(res, 202, describe(link));
    }
    return send(res, 405, { message: `not served locally: ${req.method}` }, 'InvalidRequestContentException');
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => void handle(req, res, body).catch((err: Error) => send(res, 500, { message: err.message }, 'ServiceException')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
