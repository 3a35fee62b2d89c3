import { strict as assert } from 'node:assert';
import { lambdaCost, PRICES, replicaWriteCost } from '../../bench/lambda-cost';
import { lambdaCpuShare } from '../../bench/cpu-quota';

describe('npm run bench: what the Lambda-shaped rows cost', () => {
  it('bills a million records as requests plus GB-seconds of invocations rounded up to the millisecond', () => {
    // 10,000 invocations of 100 records, each 99.2 ms billed as 100 ms, at 1 GB: 1,000 GB-s.
    assert.deepEqual(lambdaCost(1024, 99.2, 100), {
      gbSecondsPerMillionRecords: 1000,
      requestsPerMillionRecords: 10_000,
      lambdaUsdPerMillionRecords: +(1000 * PRICES.lambdaArm64PerGbSecond + 0.01 * PRICES.lambdaPerMillionRequests).toPrecision(3),
    });
    assert.equal(lambdaCost(512, 99.2, 100).gbSecondsPerMillionRecords, 500, 'half the memory, half the GB-seconds at the same length');
  });

  it('prices the replica writes per region and write unit, and gives Lambda one vCPU at 1,769 MB', () => {
    assert.deepEqual(replicaWriteCost(2, 2), { writeUnitsPerMillionRecords: 4_000_000, usdPerMillionRecords: 4 * PRICES.dynamoDbPerMillionWriteUnits });
    assert.equal(lambdaCpuShare(1769), 1);
    assert.equal(lambdaCpuShare(3538), 1);
    assert.ok(Math.abs(lambdaCpuShare(512) - 0.289) < 0.001);
  });
});
