import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { providerUrn } from '../support/fake-engine';
import { ProgramRun, runStackProgram } from '../support/program-runner';

const ROOT = resolve(__dirname, '../..');
const REGIONS = ['us-east-1', 'eu-west-1'];
const URN = 'urn:pulumi:test::ddb-replicator-example-basic::';

interface PackResult {
  filename: string;
  files: { path: string }[];
}

/**
 * examples/basic as a user has it: the package packed with `npm pack` (its prepack builds dist/),
 * installed from the tarball into a temporary copy of the example with the example's own
 * dependencies (`npm install --prefer-offline`: from npm's cache here, ~15 s), then run the way
 * `pulumi up` runs it. Nothing is linked to this repository's node_modules but the build's
 * TypeScript compiler.
 */
describe('the package, from a packed tarball, in a program of its own (examples/basic)', function () {
  this.timeout(300_000);
  let work: string;
  let app: string;
  let pack: PackResult;
  let run: ProgramRun;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'ddb-replicator-package-'));
    // Pack a copy of this tree (tracked files and new ones that are not ignored), so the repository's
    // own dist/ is never touched; node_modules linked for the build's TypeScript compiler.
    const src = join(work, 'src');
    const files = execFileSync('git', ['-C', ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files.filter((f) => existsSync(join(ROOT, f)) && !f.startsWith('examples/'))) {
      mkdirSync(dirname(join(src, f)), { recursive: true });
      copyFileSync(join(ROOT, f), join(src, f));
    }
    symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'), 'dir');
    const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', work, '--loglevel=error'], { cwd: src, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    pack = (JSON.parse(packed) as PackResult[])[0]!;

    app = join(work, 'app');
    cpSync(join(ROOT, 'examples/basic'), app, { recursive: true, filter: (f) => !/node_modules|Pulumi\.[^/]*\.yaml$/.test(f.slice(ROOT.length)) });
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.ok(manifest.dependencies['ddb-replicator'], 'the example depends on the package');
    manifest.dependencies['ddb-replicator'] = `file:../${pack.filename}`;
    writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: 'pipe' });
    writeFileSync(join(app, 'Pulumi.test.yaml'), 'config:\n  aws:region: us-east-1\n');

    run = await runStackProgram(app, 'test', { dryRun: false });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const ofType = (type: string) => run.engine.registrations.filter((r) => r.type === type);
  const named = (name: string) => {
    const found = run.engine.registrations.find((r) => r.name === name);
    assert.ok(found, `${name} is registered`);
    return found;
  };
  /** pulumi-aws v7 pins a regional resource with its own `region` input; one provider serves them all. */
  const regionOf = (r: { inputs: Record<string, unknown> }) => r.inputs.region;

  it('ships built JavaScript, declarations and the handler sources the Lambda bundle is built from; not the stack program or the tests', () => {
    const paths = pack.files.map((f) => f.path);
    for (const p of ['package.json', 'dist/components/index.js', 'dist/types/components/index.d.ts', 'dist/config/index.js', 'dist/types/config/index.d.ts', 'dist/policies/rules/index.js', 'dist/types/policies/rules/index.d.ts', 'dist/handlers/replicate.ts', 'dist/cli/main.js', 'bin/ddb-replicator.js']) {
      assert.ok(paths.includes(p), `${p} is in the tarball`);
    }
    for (const p of paths) assert.doesNotMatch(p, /^(index\.ts|tests\/|local\/|preview\/|bench\/|examples\/|components\/|config\/|Pulumi\.)/, `${p} is not part of the package`);
    const installed = JSON.parse(readFileSync(join(app, 'node_modules/ddb-replicator/package.json'), 'utf8')) as { private?: boolean; exports: Record<string, unknown> };
    assert.equal(installed.private, undefined);
    assert.deepEqual(Object.keys(installed.exports), ['.', './components', './config', './policies', './package.json']);
  });

  it('runs as `pulumi up` runs it (TypeScript type-checked against the declarations): one table in each region, all on the stack\'s default provider', () => {
    assert.deepEqual(run.engine.logs.filter((l) => l.severity === 'error').map((l) => l.message), [], run.stderr);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.engine.unanswered, []);
    // The default provider is the engine's (the stack's aws:* config): the program registers none, and no resource names another.
    assert.deepEqual(ofType('pulumi:providers:aws'), []);
    assert.deepEqual(run.engine.registrations.filter((r) => r.custom && providerUrn(r.provider) !== ''), []);
    for (const region of REGIONS) {
      const table = named(`Orders-${region}-table`);
      assert.equal(table.urn, `${URN}ddb-replicator:index:ReplicatedTable$ddb-replicator:index:RegionalTable$aws:dynamodb/table:Table::Orders-${region}-table`);
      assert.equal(regionOf(table), region);
      assert.deepEqual([table.inputs.name, table.inputs.streamEnabled, table.inputs.streamViewType, table.inputs.deletionProtectionEnabled, table.protect], ['Orders', true, 'NEW_AND_OLD_IMAGES', true, true]);
      assert.equal(regionOf(named(`Orders-${region}-state`)), region, 'and its replication state table');
    }
    const exports = run.engine.resourceOutputs.get(`${URN}pulumi:pulumi:Stack::ddb-replicator-example-basic-test`) as { tableArns: Record<string, string> };
    assert.deepEqual(Object.keys(exports.tableArns).sort(), [...REGIONS].sort());
  });

  it('links every region to the other, each with its DLQ, stream mapping and bundled replication function; only the primary reads', () => {
    const links = ofType('ddb-replicator:index:ReplicationLink');
    assert.deepEqual(links.map((l) => /^Orders-(.+)-link[01]$/.exec(l.name)?.[1]).sort(), [...REGIONS].sort(), 'one link per region (one target each)');
    for (const link of links) {
      const region = /^Orders-(.+)-link[01]$/.exec(link.name)![1]!;
      const dlq = named(`${link.name}-dlq`);
      const mapping = named(`${link.name}-esm`);
      const fn = named(`${link.name}-fn`);
      for (const r of [dlq, mapping, fn]) assert.equal(regionOf(r), region, `${r.name} is in ${region}`);
      assert.equal(mapping.inputs.enabled, region === 'us-east-1', 'only the primary region’s mapping is enabled');
      assert.equal((mapping.inputs.destinationConfig as { onFailure: { destinationArn: string } }).onFailure.destinationArn, dlq.outputs.arn, 'failed batches go to the link’s DLQ');
      assert.deepEqual(fn.inputs.architectures, ['arm64']);
      const code = JSON.stringify(fn.inputs.code);
      assert.match(code, /index\.js/);
      assert.ok(code.length > 50_000 && code.includes('batchItemFailures'), 'the replication handler, bundled by esbuild from the installed package');
    }
  });

  it('alarms in every region, each notifying that region’s topic', () => {
    const alarms = ofType('aws:cloudwatch/metricAlarm:MetricAlarm');
    for (const region of REGIONS) {
      const topic = named(`Orders-${region}-alarms`);
      const mine = alarms.filter((a) => regionOf(a) === region);
      assert.ok(mine.length >= 3, `${region} has its alarms`);
      for (const a of mine) assert.deepEqual(a.inputs.alarmActions, [topic.outputs.arn], `${a.name} notifies ${topic.name}`);
    }
    for (const suffix of ['errors', 'iterator-age', 'dlq-messages']) assert.ok(alarms.some((a) => a.name.endsWith(`-${suffix}`)), `a ${suffix} alarm`);
  });

  it('importing the package registers nothing and reads no config (no stack program runs on import)', () => {
    // Plain Node in the example's folder, with Pulumi's mocks recording every registration, invoke and config read.
    const probe = `
      const pulumi = require('@pulumi/pulumi');
      const seen = { resources: [], invokes: [], config: [] };
      pulumi.runtime.setMocks({
        newResource: (a) => { seen.resources.push(a.type + '::' + a.name); return { id: a.name, state: a.inputs }; },
        call: (a) => { seen.invokes.push(a.token); return {}; },
      }, 'consumer', 'dev');
      for (const m of Object.getOwnPropertyNames(pulumi.Config.prototype)) {
        if (m === 'constructor' || typeof pulumi.Config.prototype[m] !== 'function') continue;
        const original = pulumi.Config.prototype[m];
        pulumi.Config.prototype[m] = function (...args) { seen.config.push(this.name + ':' + m); return original.apply(this, args); };
      }
      const rootEntry = require('ddb-replicator');
      const components = require('ddb-replicator/components');
      const config = require('ddb-replicator/config');
      setTimeout(() => console.log(JSON.stringify({ ...seen, same: rootEntry === components, components: Object.keys(components).sort(), config: Object.keys(config).sort(), configReads: seen.config })), 200);
    `;
    const out = spawnSync(process.execPath, ['-e', probe], { cwd: app, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', PULUMI_CONFIG: '{"ddb-replicator:tables":"not a list"}' } });
    assert.equal(out.status, 0, out.stderr);
    const seen = JSON.parse(out.stdout.trim().split('\n').pop()!) as { resources: string[]; invokes: string[]; configReads: string[]; same: boolean; components: string[]; config: string[] };
    assert.deepEqual([seen.resources, seen.invokes, seen.configReads], [[], [], []]);
    assert.ok(seen.same, '"ddb-replicator" is the components entry');
    for (const name of ['ReplicatedTable', 'RegionalTable', 'ReplicationLink', 'KeyType', 'ConflictPolicy', 'BillingMode']) assert.ok(seen.components.includes(name), `components exports ${name}`);
    for (const name of ['parseStackConfig', 'StackConfigError', 'physicalName', 'AWS_REGIONS']) assert.ok(seen.config.includes(name), `config exports ${name}`);
  });

  it('exports the policy rules for a policy pack of your own (with @pulumi/policy installed beside it)', () => {
    // @pulumi/policy is an optional peer dependency: the example does not install it, this repository does.
    const probe = `const { policies } = require('ddb-replicator/policies'); console.log(JSON.stringify(policies.map((p) => [p.name, p.enforcementLevel])));`;
    const out = spawnSync(process.execPath, ['-e', probe], { cwd: app, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', NODE_PATH: join(ROOT, 'node_modules') } });
    assert.equal(out.status, 0, out.stderr);
    const rules = JSON.parse(out.stdout) as [string, string][];
    assert.ok(rules.length >= 10, 'every rule of the pack');
    assert.ok(rules.some(([name]) => name === 'iam-no-wildcards'));
  });
});
