import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Dynamo } from '../handlers/dynamo';
import { liteDynamo } from '../handlers/dynamo-lite';
import { sdkDynamo } from '../handlers/dynamo-sdk';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The clients compared request by request: the SDK as it comes, the SDK tuned, aws-lite as deployed. */
const CLIENTS: Record<string, (endpoint: string) => Dynamo> = {
  'AWS SDK v3, defaults': (endpoint) => sdkDynamo(new DynamoDBClient({ region: 'eu-west-1', endpoint, credentials })),
  'AWS SDK v3, tuned': (endpoint) =>
    sdkDynamo(new DynamoDBClient({ region: 'eu-west-1', endpoint, credentials, accountIdEndpointMode: 'disabled', requestHandler: { httpAgent: { keepAlive: true, maxSockets: 256 } } })),
  'aws-lite (deployed)': (endpoint) => liteDynamo('eu-west-1', { endpoint, credentials }),
};

export interface ClientCost {
  client: string;
  cpuMsPerRequest: number;
}

/**
 * CPU of one conditional PutItem (a 1 KB item with its version, as replication writes it) in this
 * process, against a stand-in in another process that answers at once: rounds of 200 concurrent
 * requests, as a batch of 100 records to two regions, after warm-up rounds.
 */
export async function clientCost(rounds: number): Promise<ClientCost[]> {
  const server = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'answer-server.ts'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const endpoint = await new Promise<string>((resolve) => server.stdout!.once('data', (d) => resolve(String(d).trim())));
    const out: ClientCost[] = [];
    for (const [name, make] of Object.entries(CLIENTS)) {
      const db = make(endpoint);
      const payload = 'x'.repeat(1024);
      const write = (i: number) =>
        db.call('PutItem', {
          TableName: 'T',
          Item: { pk: { S: `k${i}` }, n: { N: String(i) }, payload: { S: payload }, __rep_v: { S: `000001:${String(i).padStart(40, '0')}:0000000000000` } },
          ConditionExpression: 'attribute_not_exists(#v) OR #v < :v',
          ExpressionAttributeNames: { '#v': '__rep_v' },
          ExpressionAttributeValues: { ':v': { S: `000001:${String(i).padStart(40, '0')}:0000000000000` } },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        });
      const run = async (n: number) => {
        for (let r = 0; r < n; r++) await Promise.all(Array.from({ length: 200 }, (_, i) => write(r * 200 + i)));
      };
      await run(Math.max(3, Math.round(rounds / 2)));
      const cpu0 = process.cpuUsage();
      await run(rounds);
      const used = process.cpuUsage(cpu0);
      out.push({ client: name, cpuMsPerRequest: +((used.user + used.system) / 1000 / (rounds * 200)).toFixed(3) });
    }
    return out;
  } finally {
    server.kill();
  }
}
