import type { _Record as StreamRecord, AttributeValue as StreamValue } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue as EventValue, DynamoDBRecord } from 'aws-lambda';

/**
 * Converts a record as the Streams SDK returns it into the record Lambda delivers: binaries as
 * base64, ApproximateCreationDateTime as epoch seconds (DynamoDB Local's, to the minute; the
 * emulator replaces it with its stream clock's stamp), empty maps as `{"M":{}}`, eventSourceARN
 * added, keys in AWS's order, and `userIdentity` only when present (TTL deletions).
 */
export function toLambdaRecord(r: StreamRecord, streamArn: string, region: string): DynamoDBRecord {
  const d = r.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime;
  const out: DynamoDBRecord = {
    eventID: r.eventID,
    eventName: r.eventName,
    eventVersion: r.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ApproximateCreationDateTime: created instanceof Date ? created.getTime() / 1000 : (created as number | undefined),
      Keys: d.Keys && toEventItem(d.Keys),
      ...(d.NewImage && { NewImage: toEventItem(d.NewImage) }),
      ...(d.OldImage && { OldImage: toEventItem(d.OldImage) }),
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType,
    },
    eventSourceARN: streamArn,
  };
  if (r.userIdentity) out.userIdentity = { type: r.userIdentity.Type, principalId: r.userIdentity.PrincipalId };
  return out;
}

function toEventItem(item: Record<string, StreamValue>): Record<string, EventValue> {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, toEventValue(v)]));
}

function toEventValue(v: StreamValue): EventValue {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  // DynamoDB Local's stream gives an empty map as {}; Lambda delivers {"M":{}}.
  if (Object.keys(v).length === 0) return { M: {} };
  if (v.B !== undefined) return { B: b64(v.B) };
  if (v.BS !== undefined) return { BS: v.BS.map(b64) };
  if (v.L !== undefined) return { L: v.L.map(toEventValue) };
  if (v.M !== undefined) return { M: toEventItem(v.M) };
  return v as EventValue;
}
