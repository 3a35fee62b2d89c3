import { strict as assert } from 'node:assert';
import { lambdaCost, PRICES, replicaWriteCost } from '../../bench/lambda-cost';
import { existsSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { cpuQuota, lambdaCpuShare, niceWeight } from '../../bench/cpu-quota';
import { toRow } from '../../bench/lambda-shaped';

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

describe('npm run bench: the Lambda-shaped CPU quota', () => {
  it('weighs the group as the kernel weighs a task at the measuring process\'s priority', () => {
    // The kernel's sched_prio_to_weight at nice 0, -10, 10 and 19 (within its rounding).
    for (const [nice, kernel] of [[0, 1024], [-10, 9548], [10, 110], [19, 15]] as const) {
      assert.ok(Math.abs(niceWeight(nice) - kernel) / kernel < 0.01, `nice ${nice}: ${niceWeight(nice)} against the kernel's ${kernel}`);
    }
    const q = cpuQuota(`ddb-replicator-test-${process.pid}`, 0.5);
    if ('unavailable' in q) {
      // No cgroups here (the next test covers that): only where root has the cpu controller must it work.
      assert.ok(!(existsSync('/sys/fs/cgroup/cpu/cgroup.procs') && process.getuid?.() === 0), `a quota could not be set where it should: ${q.unavailable}`);
      return;
    }
    try {
      const dir = `/sys/fs/cgroup/cpu/ddb-replicator-test-${process.pid}`;
      assert.equal(readFileSync(`${dir}/cpu.shares`, 'utf8').trim(), String(niceWeight(getPriority())));
      assert.equal(readFileSync(`${dir}/cpu.cfs_quota_us`, 'utf8').trim(), '50000');
    } finally {
      q.remove();
    }
  });
});

describe('npm run bench: the Lambda-shaped rows without a CPU quota', () => {
  it('says why no quota could be set, instead of failing', () => {
    const q = cpuQuota(`no-such-parent-${process.pid}/ddb-replicator-test`, 0.5);
    assert.ok('unavailable' in q);
    assert.match(q.unavailable, /^no CPU quota \(.+\): needs root and the cgroup v1 cpu controller at \/sys\/fs\/cgroup\/cpu$/);
  });

  it('then projects the rate from the CPU per record measured on a full core', () => {
    // 1,000 records in 1 s on a full core, 0.5 ms of CPU each: 512 MB's 0.289 of a core carries 579/s.
    const pass = { records: 1000, seconds: 1, cpuMs: 500, invocations: 10, invocationMs: 100, mappingMs: 102 };
    const row = toRow('aws-lite', 512, 'no CPU quota (EACCES): ...', pass, 0);
    assert.equal(row.recordsPerSecond, 1000);
    assert.equal(row.projectedRecordsPerSecond, 579);
    assert.equal(row.cpuMsPerReplicaWrite, 0.25);
    assert.equal(toRow('aws-lite', 512, 'cgroup', pass, 0).projectedRecordsPerSecond, null, 'a run held to its quota needs no projection');
  });
});
