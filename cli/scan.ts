import { DynamoDBClient, ScanCommand, ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import type { SdkItem } from '../handlers/attribute-values';

export interface ScanPage {
  readonly segment: number;
  readonly items: SdkItem[];
  /** Where the next page starts; undefined when the segment is done. */
  readonly lastKey?: SdkItem;
  readonly bytes: number;
}

/**
 * Scans a table in `segments` parallel segments (DynamoDB's parallel scan), handing each page to
 * `onPage` in order within its segment. `startAt(segment)` resumes a segment after a key, or skips it
 * when it returns 'done'.
 */
export async function parallelScan(
  client: DynamoDBClient,
  table: string,
  segments: number,
  onPage: (page: ScanPage) => Promise<void>,
  startAt: (segment: number) => SdkItem | undefined | 'done' = () => undefined,
  /** Items per page (Scan's Limit); default: DynamoDB's own 1 MB pages. */
  pageSize?: number,
): Promise<void> {
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      const first = startAt(segment);
      if (first === 'done') return;
      let start: SdkItem | undefined = first;
      do {
        const out: ScanCommandOutput = await client.send(
          new ScanCommand({ TableName: table, Segment: segment, TotalSegments: segments, ExclusiveStartKey: start, Limit: pageSize, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }),
        );
        const items = out.Items ?? [];
        start = out.LastEvaluatedKey;
        await onPage({ segment, items, lastKey: start, bytes: Buffer.byteLength(JSON.stringify(items)) });
      } while (start);
    }),
  );
}
