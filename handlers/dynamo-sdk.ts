import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Dynamo, DynamoOperation } from './dynamo';

const COMMANDS = {
  GetItem: GetItemCommand,
  PutItem: PutItemCommand,
  DeleteItem: DeleteItemCommand,
  BatchGetItem: BatchGetItemCommand,
  BatchWriteItem: BatchWriteItemCommand,
  Scan: ScanCommand,
  UpdateItem: UpdateItemCommand,
} as const satisfies Record<DynamoOperation, unknown>;

const wrapped = new WeakMap<object, Dynamo>();

/** An AWS SDK v3 client behind the port (the CLI, the local runtime, tests); one port per client. */
export function sdkDynamo(client: Pick<DynamoDBClient, 'send'>): Dynamo {
  let port = wrapped.get(client);
  if (!port) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    port = { call: (operation, input) => client.send(new (COMMANDS[operation] as any)(input)) as never };
    wrapped.set(client, port);
  }
  return port;
}
