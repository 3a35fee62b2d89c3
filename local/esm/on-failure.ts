import { randomUUID } from 'node:crypto';
import type { DynamoDBRecord } from 'aws-lambda';

export type DiscardCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/** Lambda's on-failure message for a DynamoDB stream batch (Lambda guide, "Retain discarded records"). */
export interface OnFailureMessage {
  requestContext: { requestId: string; functionArn: string; condition: DiscardCondition; approximateInvokeCount: number };
  responseContext?: { statusCode: number; executedVersion: string; functionError: 'Unhandled' | null };
  version: '1.0';
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface OnFailureDestination {
  send(message: OnFailureMessage): Promise<void>;
}

/** Keeps messages in memory; the local runtime and tests read them back. */
export class MemoryDestination implements OnFailureDestination {
  readonly messages: OnFailureMessage[] = [];
  async send(message: OnFailureMessage): Promise<void> {
    this.messages.push(JSON.parse(JSON.stringify(message)));
  }
}

const isoSeconds = (epochSeconds: number) => new Date(Math.floor(epochSeconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function onFailureMessage(args: {
  records: readonly DynamoDBRecord[];
  shardId: string;
  streamArn: string;
  functionArn: string;
  condition: DiscardCondition;
  approximateInvokeCount: number;
  /** `Unhandled` for a thrown error, null for a failing response; absent for RecordAgeExceeded. */
  functionError?: 'Unhandled' | null;
  now: number;
}): OnFailureMessage {
  const first = args.records[0]!;
  const last = args.records[args.records.length - 1]!;
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: args.functionArn,
      condition: args.condition,
      approximateInvokeCount: args.approximateInvokeCount,
    },
    ...(args.condition === 'RetryAttemptsExhausted' && {
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: args.functionError ?? null },
    }),
    version: '1.0',
    timestamp: new Date(args.now).toISOString(),
    DDBStreamBatchInfo: {
      shardId: args.shardId,
      startSequenceNumber: first.dynamodb!.SequenceNumber!,
      endSequenceNumber: last.dynamodb!.SequenceNumber!,
      approximateArrivalOfFirstRecord: isoSeconds(first.dynamodb!.ApproximateCreationDateTime!),
      approximateArrivalOfLastRecord: isoSeconds(last.dynamodb!.ApproximateCreationDateTime!),
      batchSize: args.records.length,
      streamArn: args.streamArn,
    },
  };
}
