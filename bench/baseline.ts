import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { toSdkItem } from '../handlers/attribute-values';

/**
 * The usual example handler, as the comparison point: one record at a time, in order, with an
 * unconditional PutItem of the NewImage or DeleteItem of the keys. No coalescing, no concurrency.
 */
export function baselineHandler(client: DynamoDBClient, tableName: string, counter: { writes: number }) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    for (const r of event.Records) {
      if (r.eventName === 'REMOVE') await client.send(new DeleteItemCommand({ TableName: tableName, Key: toSdkItem(r.dynamodb!.Keys!) }));
      else await client.send(new PutItemCommand({ TableName: tableName, Item: toSdkItem(r.dynamodb!.NewImage!) }));
      counter.writes++;
    }
    return { batchItemFailures: [] };
  };
}
