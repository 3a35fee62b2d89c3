import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { parseConfig } from '../handlers/config';
import type { Dynamo } from '../handlers/dynamo';
import { liteDynamo } from '../handlers/dynamo-lite';
import { sdkDynamo } from '../handlers/dynamo-sdk';
import { makeHandler } from '../handlers/replicate';
import { performance } from 'node:perf_hooks';

/** The clients compared in the Lambda-shaped run. */
export const BENCH_CLIENTS = {
  'aws-lite': 'aws-lite (deployed)',
  'sdk-v3': 'AWS SDK v3, tuned (keep-alive, 256 sockets, fixed endpoint, no account-ID endpoint rules)',
} as const;
export type BenchClient = keyof typeof BENCH_CLIENTS;

export interface InvokeMessage {
  readonly id: number;
  readonly event: DynamoDBStreamEvent;
}
export interface InvokeReply {
  readonly id: number;
  readonly response: DynamoDBBatchResponse;
  /** This process's CPU time so far, µs (user + system). */
  readonly cpuMicros: number;
  /** From the handler's start to its return, as Lambda bills it. */
  readonly handlerMs: number;
}

function clientFor(kind: BenchClient, endpoint: (region: string) => string): (region: string) => Dynamo {
  if (kind === 'sdk-v3') {
    return (region) =>
      sdkDynamo(new DynamoDBClient({ region, endpoint: endpoint(region), accountIdEndpointMode: 'disabled', requestHandler: { httpAgent: { keepAlive: true, maxSockets: 256 } } }));
  }
  return (region) => liteDynamo(region, { endpoint: endpoint(region) });
}

/**
 * Run as its own process (bench/lambda-shaped.ts forks it under a CPU quota): the replication
 * handler as a function instance runs it, configured from the environment as in Lambda, with
 * events arriving as JSON. Its own region's state table is in-region; replica regions are behind
 * the round trip.
 */
if (process.send && process.env.BENCH_CLIENT) {
  const env = process.env;
  const kind = (env.BENCH_CLIENT ?? 'aws-lite') as BenchClient;
  const remote = JSON.parse(env.BENCH_REMOTE_ENDPOINTS ?? '{}') as Record<string, string>;
  const endpoint = (region: string) => (region === env.AWS_REGION ? env.BENCH_SOURCE_ENDPOINT! : remote[region]!);
  const handler = makeHandler(parseConfig(env), { dynamo: clientFor(kind, endpoint) });
  // Lambda sends the handler's log lines to CloudWatch Logs; here they are written and dropped.
  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  process.on('message', async (m: InvokeMessage) => {
    const started = performance.now();
    const response = await handler(m.event, { awsRequestId: `bench-${m.id}`, getRemainingTimeInMillis: () => 60_000 });
    const handlerMs = performance.now() - started;
    process.send!({ id: m.id, response, cpuMicros: cpu(), handlerMs } satisfies InvokeReply);
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ id: -1, response: { batchItemFailures: [] }, cpuMicros: cpu(), handlerMs: 0 } satisfies InvokeReply);
}
