import awsLite from '@aws-lite/client';
import { ConfigError } from './config';
import type { Dynamo, DynamoOperation } from './dynamo';

type Client = Awaited<ReturnType<typeof awsLite>>;
type Env = Readonly<Record<string, string | undefined>>;

export interface LiteOptions {
  /** Where requests go; default from the environment (`dynamoEndpoint`), else AWS. */
  readonly endpoint?: string;
  /** Retries after the first attempt, with jittered exponential backoff; aws-lite's default is 5. */
  readonly retries?: number;
  /**
   * The longest one call may take, its retries included; default 10 s. aws-lite sets no timeout, and
   * a reply cut off after its headers would otherwise leave the call waiting until Lambda's own.
   */
  readonly timeoutMs?: number;
  /** Credentials; default aws-lite's chain, which reads Lambda's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN first. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
}

const ignoresEndpointVariables = (env: Env = process.env) => env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.trim().toLowerCase() === 'true';

/**
 * The endpoint the AWS SDK would use for DynamoDB: AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL,
 * unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true. aws-lite itself reads only AWS_ENDPOINT_URL.
 */
export function dynamoEndpoint(env: Env = process.env): string | undefined {
  if (ignoresEndpointVariables(env)) return undefined;
  for (const name of ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL']) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      // reported below
    }
    if (!url || !/^https?:$/.test(url.protocol)) throw new ConfigError(`${name} is ${JSON.stringify(env[name])}: use a URL such as http://127.0.0.1:8000, or unset it to use AWS`);
    return raw;
  }
  return undefined;
}

/**
 * DynamoDB through aws-lite (signing with aws4, keep-alive connections, retries of throttling, 5xx
 * and dropped connections with jittered backoff), sending and reading DynamoDB JSON as it is: no
 * marshalling, so numbers keep every digit. Binaries are base64 on the wire and Uint8Array here.
 */
export function liteDynamo(region: string, opts: LiteOptions = {}): Dynamo {
  // Named on every request, AWS's own where none is set (as aws4 names it): aws-lite reads
  // AWS_ENDPOINT_URL itself otherwise, and a request without one costs it a thrown URL error.
  const endpoint = opts.endpoint ?? dynamoEndpoint() ?? `https://dynamodb.${region}.amazonaws.com`;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // aws-lite reads a request's own `endpoint` (its types leave it out).
  const perRequest: object = { endpoint };
  let client: Promise<Client> | undefined;
  const connect = () =>
    (client ??= awsLite({
      region,
      keepAlive: true,
      // Parse replies as plain JSON: aws-lite would otherwise try to unmarshall every DynamoDB JSON reply.
      responseContentType: 'application/json',
      endpoint,
      ...(opts.retries !== undefined && { retries: opts.retries }),
      ...opts.credentials,
    }).catch((err) => {
      client = undefined;
      throw err;
    }));
  return {
    async call(operation: DynamoOperation, input: object) {
      const aws = await connect();
      let reply;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`${operation} got no answer within ${timeoutMs} ms`), { name: 'TimeoutError' })), timeoutMs);
      });
      try {
        const sent = aws({
          service: 'dynamodb',
          ...perRequest,
          headers: { 'X-Amz-Target': `DynamoDB_20120810.${operation}`, 'content-type': 'application/x-amz-json-1.0' },
          awsjson: false,
          payload: toWire(input) as Record<string, unknown>,
        });
        sent.catch(() => undefined); // answered after the deadline: nobody waits for it any more
        reply = await Promise.race([sent, deadline]);
      } catch (err) {
        throw asDynamoError(err);
      } finally {
        clearTimeout(timer);
      }
      return binariesIn(reply.payload ?? {}) as never;
    },
  } as Dynamo;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** aws-lite names an error by DynamoDB's `__type` (com.amazonaws.dynamodb.v20120810#Name): keep the name, as the SDK does. */
function asDynamoError(err: unknown): unknown {
  const e = err as Error & { __type?: string; Item?: unknown };
  if (!(e instanceof Error)) return err;
  if (typeof e.__type === 'string') e.name = e.__type.slice(e.__type.indexOf('#') + 1);
  e.message = e.message.replace(/^@aws-lite\/client: dynamodb: /, '');
  if (e.Item) binariesIn({ Item: e.Item });
  return e;
}

/** A copy with every Uint8Array as base64 (the AWS JSON protocol's blobs); the input itself where there is none. */
function toWire(x: unknown): unknown {
  if (x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
  if (Array.isArray(x)) {
    let out: unknown[] | undefined;
    x.forEach((v, i) => {
      const w = toWire(v);
      if (w !== v) (out ??= [...x])[i] = w;
    });
    return out ?? x;
  }
  if (x && typeof x === 'object') {
    let out: Record<string, unknown> | undefined;
    for (const k in x) {
      const v = (x as Record<string, unknown>)[k];
      const w = toWire(v);
      if (w !== v) (out ??= { ...x })[k] = w;
    }
    return out ?? x;
  }
  return x;
}

type Item = Record<string, Record<string, unknown>>;

/** Turns the base64 binaries of every item in a reply into Uint8Array, in place. */
function binariesIn(reply: Record<string, unknown>): Record<string, unknown> {
  const items = (v: unknown) => (v as Item[] | undefined)?.forEach(item);
  item(reply.Item as Item);
  item(reply.Attributes as Item);
  item(reply.LastEvaluatedKey as Item);
  items(reply.Items);
  for (const list of Object.values((reply.Responses ?? {}) as Record<string, Item[]>)) items(list);
  for (const t of Object.values((reply.UnprocessedKeys ?? {}) as Record<string, { Keys?: Item[] }>)) items(t.Keys);
  for (const list of Object.values((reply.UnprocessedItems ?? {}) as Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]>)) {
    for (const r of list) item(r.PutRequest?.Item ?? r.DeleteRequest?.Key);
  }
  return reply;
}

function item(i: Item | undefined): void {
  if (i) for (const k in i) value(i[k]!);
}

function value(v: Record<string, unknown>): void {
  if (typeof v.B === 'string') v.B = Buffer.from(v.B, 'base64');
  else if (Array.isArray(v.BS)) v.BS = v.BS.map((b: string) => Buffer.from(b, 'base64'));
  else if (Array.isArray(v.L)) (v.L as Record<string, unknown>[]).forEach(value);
  else if (v.M && typeof v.M === 'object') item(v.M as Item);
}
