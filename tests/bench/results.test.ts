import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resultFiles, writeResults } from '../../bench/results';
import type { Row } from '../../bench/table';

const ROW: Row = { workload: 'uniform 1 KB', parallelizationFactor: 1, records: 10, recordsPerSecond: 5, writesPerRecord: 1, baselineRecordsPerSecond: 1, ratioToBaseline: 5, lagPerSecond: null, lagP50Ms: null, lagP99Ms: null, peakRssMb: 100 };

describe('npm run bench: result files', () => {
  it('a full run writes latest.* (what the README quotes), a quick run quick.*', () => {
    assert.deepEqual(resultFiles(false), { json: 'bench/results/latest.json', svg: 'bench/results/latest.svg', lambdaSvg: 'bench/results/latest-lambda.svg', md: 'bench/results/latest.md' });
    assert.deepEqual(resultFiles(true), { json: 'bench/results/quick.json', svg: 'bench/results/quick.svg', lambdaSvg: 'bench/results/quick-lambda.svg', md: 'bench/results/quick.md' });
  });

  it('--quick leaves the full run\'s files as they are', () => {
    const root = mkdtempSync(join(tmpdir(), 'bench-results-'));
    try {
      mkdirSync(join(root, 'bench/results'), { recursive: true });
      for (const f of Object.values(resultFiles(false))) writeFileSync(join(root, f), 'full run');
      const written = writeResults(root, true, { quick: true }, [ROW], { markdown: '| client |\n', svg: '<svg/>' });
      assert.deepEqual(written.sort(), Object.values(resultFiles(true)).sort());
      for (const f of Object.values(resultFiles(false))) assert.equal(readFileSync(join(root, f), 'utf8'), 'full run', f);
      assert.deepEqual(JSON.parse(readFileSync(join(root, 'bench/results/quick.json'), 'utf8')), { quick: true });
      assert.match(readFileSync(join(root, 'bench/results/quick.md'), 'utf8'), /\| uniform 1 KB \| 5 \|[^]*\| client \|/);
      assert.equal(readFileSync(join(root, 'bench/results/quick-lambda.svg'), 'utf8'), '<svg/>');
      assert.ok(existsSync(join(root, 'bench/results/quick.svg')));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
