import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorJson, expectedError } from '../../preview/main';
import { PreviewInputError } from '../../preview/run-program';
import { oneLineError, ROOT, runTs } from '../support/child';

/** `npm run preview` as a user runs it, on a copy of this project's Pulumi.yaml whose program is this one. */
describe('offline preview: expected errors', function () {
  this.timeout(120_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'preview-errors-'));
    const project = readFileSync(join(ROOT, 'Pulumi.yaml'), 'utf8').replace(/^main:.*$/m, '');
    writeFileSync(join(dir, 'Pulumi.yaml'), `${project}\nmain: ${join(ROOT, 'index.ts')}\n`);
    writeFileSync(join(dir, 'Pulumi.notalist.yaml'), 'config:\n  aws:region: us-east-1\n  ddb-replicator:tables: Users\n');
    writeFileSync(join(dir, 'Pulumi.map.yaml'), 'config:\n  aws:region: us-east-1\n  ddb-replicator:tables: { name: Users }\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one line with the fix and exits 2; with --json the error is the JSON document on stdout', async () => {
    const preview = (...args: string[]) => runTs('preview/main.ts', ['--dir', dir, ...args]);
    const [notAList, map, notAListJson, badFlagJson] = await Promise.all([
      preview('--stack', 'notalist'),
      preview('--stack', 'map'),
      preview('--stack', 'notalist', '--json'),
      runTs('preview/main.ts', ['--stak', 'dev', '--json']),
    ]);
    assert.match(oneLineError(notAList), /Pulumi\.notalist\.yaml: invalid ddb-replicator stack configuration: ddb-replicator:tables must be a list of tables \(see README, "Stack configuration"\)$/);
    assert.match(oneLineError(map), /Pulumi\.map\.yaml: invalid ddb-replicator stack configuration: ddb-replicator\.tables is \{"name":"Users"\}: list at least one table to replicate/);

    for (const r of [notAListJson, badFlagJson]) {
      assert.equal(r.code, 2);
      assert.equal(r.stderr, '', 'nothing but the JSON document');
    }
    const doc = JSON.parse(notAListJson.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(doc), ['ok', 'exitCode', 'stack', 'error']);
    assert.equal(doc.ok, false);
    assert.match(doc.error as string, /ddb-replicator:tables must be a list of tables/);
    assert.deepEqual(JSON.parse(badFlagJson.stdout), { ok: false, exitCode: 2, stack: 'dev', error: "Unknown option '--stak': see npm run preview -- --help for the options" });
  });

  it('tells expected errors (one line) from bugs (undefined: the stack trace is shown)', () => {
    assert.equal(expectedError(new PreviewInputError('x has no Pulumi.yaml: point --dir at a Pulumi project'), 'Pulumi.dev.yaml'), 'x has no Pulumi.yaml: point --dir at a Pulumi project');
    assert.equal(expectedError(Object.assign(new Error('invalid ddb-replicator stack configuration: a; b'), { name: 'StackConfigError' }), 'Pulumi.dev.yaml'), 'Pulumi.dev.yaml: invalid ddb-replicator stack configuration: a; b');
    assert.equal(expectedError(new TypeError('x is not a function'), 'Pulumi.dev.yaml'), undefined);
    assert.deepEqual(errorJson('dev', 'why'), { ok: false, exitCode: 2, stack: 'dev', error: 'why' });
  });
});
