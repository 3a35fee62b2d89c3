import type {
  BatchGetItemInput,
  BatchGetItemOutput,
  BatchWriteItemInput,
  BatchWriteItemOutput,
  DeleteItemInput,
  DeleteItemOutput,
  GetItemInput,
  GetItemOutput,
  PutItemInput,
  PutItemOutput,
  ScanInput,
  ScanOutput,
  UpdateItemInput,
  UpdateItemOutput,
} from '@aws-sdk/client-dynamodb';

/** The DynamoDB operations replication uses, in the AWS SDK's own types (binaries as Uint8Array). */
export interface DynamoOperations {
  GetItem: [GetItemInput, GetItemOutput];
  PutItem: [PutItemInput, PutItemOutput];
  DeleteItem: [DeleteItemInput, DeleteItemOutput];
  BatchGetItem: [BatchGetItemInput, BatchGetItemOutput];
  BatchWriteItem: [BatchWriteItemInput, BatchWriteItemOutput];
  Scan: [ScanInput, ScanOutput];
  UpdateItem: [UpdateItemInput, UpdateItemOutput];
}

export type DynamoOperation = keyof DynamoOperations;

/**
 * The one port through which replication reads and writes DynamoDB. The Lambda runs it on aws-lite
 * (handlers/dynamo-lite.ts: a fraction of the SDK's CPU per request); the CLI and local tools may
 * pass an AWS SDK v3 client through handlers/dynamo-sdk.ts. Either way a failed request throws an
 * error named as DynamoDB names it (`ConditionalCheckFailedException`, with `Item` when asked for).
 */
export interface Dynamo {
  call<O extends DynamoOperation>(operation: O, input: DynamoOperations[O][0]): Promise<DynamoOperations[O][1]>;
}

/** A failed conditional write; `Item` is the item as it was, when ReturnValuesOnConditionCheckFailure asked for it. */
export function isConditionFailure(err: unknown): err is Error & { Item?: DynamoOperations['GetItem'][1]['Item'] } {
  return (err as Error | undefined)?.name === 'ConditionalCheckFailedException';
}
