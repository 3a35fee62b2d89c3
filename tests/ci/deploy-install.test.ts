import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { programConfig } from '../../preview/run-program';

const ROOT = resolve(__dirname, '../..');

describe('deploying from a production install (npm ci --omit=dev)', function () {
  // An offline install from npm's cache (~15-25 s here) and one type-checked program run.
  this.timeout(240_000);
  let copy: string;

  before(() => {
    copy = mkdtempSync(join(tmpdir(), 'deploy-install-'));
    // The files a clone of this tree would have: tracked ones and new ones that are not ignored.
    const files = execFileSync('git', ['-C', ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files.filter((f) => existsSync(join(ROOT, f)))) {
      mkdirSync(dirname(join(copy, f)), { recursive: true });
      copyFileSync(join(ROOT, f), join(copy, f));
    }
    execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: copy, stdio: 'pipe' });
  });
  after(() => rmSync(copy, { recursive: true, force: true }));

  it('installs no development dependency', () => {
    for (const dev of ['mocha', 'fast-check', '@types/mocha']) assert.ok(!existsSync(join(copy, 'node_modules', dev)), `${dev} is a devDependency`);
  });

  it('runs the stack program as `pulumi up` does: TypeScript compiled and type-checked, Lambda bundled with esbuild', () => {
    const { project, config } = programConfig(ROOT, 'dev');
    const run = spawnSync(process.execPath, [join(copy, 'tests/ci/run-as-pulumi.cjs'), project, 'dev'], {
      cwd: copy,
      encoding: 'utf8',
      env: { ...process.env, PULUMI_CONFIG: JSON.stringify(config), NODE_OPTIONS: '' },
    });
    const lines = run.stdout.trim().split('\n');
    const result = JSON.parse(lines[lines.length - 1]!) as { exitCode: number; types: Record<string, number> };
    assert.equal(result.exitCode, 0, `${run.stdout}\n${run.stderr}`);
    assert.doesNotMatch(run.stderr, /error/i);
    assert.equal(result.types['aws:lambda/function:Function'], 10, 'per link (every region has its links) a replication function and a backfill worker, their code built by esbuild');
    assert.equal(result.types['aws:dynamodb/table:Table'], 6, 'a table and a state table per region');
    assert.equal(result.types['pulumi:pulumi:Stack'], 1, 'run inside the root stack resource, as the CLI runs it');
  });

  it('starts the operations command (bin/ddb-replicator.js runs the CLI through tsx)', () => {
    const cli = spawnSync(process.execPath, [join(copy, 'bin/ddb-replicator.js'), '--help'], { cwd: copy, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /backfill/);
  });
});
