/**
 * Public list prices, US East (N. Virginia), checked 2026-12-06: Lambda on arm64 (first 7.5 billion
 * GB-seconds a month) and requests; DynamoDB on-demand writes (since the November 2024 price cut).
 */
export const PRICES = {
  checked: '2026-12-06',
  region: 'us-east-1',
  lambdaArm64PerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  dynamoDbPerMillionWriteUnits: 0.625,
} as const;

const round = (x: number, digits: number) => Number(x.toPrecision(digits));

/**
 * Lambda's bill for a million replicated records at `memoryMb`: one request per invocation, and
 * the invocation's length (rounded up to the millisecond) times the memory in GB.
 */
export function lambdaCost(memoryMb: number, invocationMs: number, recordsPerInvocation: number) {
  const requests = 1e6 / recordsPerInvocation;
  const gbSeconds = (requests * Math.ceil(invocationMs) * memoryMb) / 1024 / 1000;
  return {
    gbSecondsPerMillionRecords: round(gbSeconds, 3),
    requestsPerMillionRecords: Math.round(requests),
    lambdaUsdPerMillionRecords: round(gbSeconds * PRICES.lambdaArm64PerGbSecond + (requests / 1e6) * PRICES.lambdaPerMillionRequests, 3),
  };
}

/** What the replica writes cost anyway: a million records to each replica region, `writeUnits` each (on-demand). */
export function replicaWriteCost(replicaRegions: number, writeUnits: number) {
  return { writeUnitsPerMillionRecords: 1e6 * replicaRegions * writeUnits, usdPerMillionRecords: round(replicaRegions * writeUnits * PRICES.dynamoDbPerMillionWriteUnits, 3) };
}
