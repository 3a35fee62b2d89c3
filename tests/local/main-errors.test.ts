import { strict as assert } from 'node:assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { javaMajorVersion } from '../../local/dynamodb-local';
import { oneLineError, runTs } from '../support/child';

/** `npm start` as a user runs it: every expected problem is one line with the fix, exit code 2. */
describe('npm start: expected errors', function () {
  this.timeout(120_000);
  let dir: string;
  const nodeOnly = dirname(process.execPath);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'npm-start-errors-'));
    writeFileSync(join(dir, 'Pulumi.notalist.yaml'), 'config:\n  ddb-replicator:tables: Users\n');
    writeFileSync(join(dir, 'Pulumi.noregions.yaml'), 'config:\n  ddb-replicator:tables:\n    - name: Users\n      partitionKey: { name: userId, type: S }\n');
    writeFileSync(join(dir, 'java'), '#!/bin/sh\necho \'openjdk version "11.0.2" 2019-01-15\' >&2\n');
    chmodSync(join(dir, 'java'), 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const start = (args: string[], env: NodeJS.ProcessEnv = process.env) => runTs('local/main.ts', args, env);

  it('names the fix in one line, without a stack trace, for flags, stacks, config, Java and endpoints', async () => {
    // One at a time would take a minute here: each child loads the AWS SDK.
    const cases: [string[], RegExp, NodeJS.ProcessEnv?][] = [
      [['--stack', 'nope'], /^no stack file Pulumi\.nope\.yaml in .+: stacks there: dev; choose one with --stack/],
      [['--drill', '--stack', 'nope'], /^no stack file Pulumi\.nope\.yaml/],
      [['--watch', '--dir', '<dir>', '--stack', 'notalist'], /^.+\/Pulumi\.notalist\.yaml: ddb-replicator\.tables is "Users": list at least one table/],
      [['--dir', '<dir>', '--stack', 'noregions'], /Pulumi\.noregions\.yaml: tables\[0\] \(Users\)\.primaryRegion is missing: use an AWS region name such as us-east-1; tables\[0\] \(Users\)\.replicaRegions is missing/],
      [['--fast'], /^Unknown option '--fast': see npm start -- --help for the options$/],
      [['--operations', 'many'], /^--operations is "many": use a whole number of at least 1$/],
      [['--endpoint', 'http://127.0.0.1:1'], /^--endpoint http:\/\/127\.0\.0\.1:1 does not answer as DynamoDB \(ECONNREFUSED\): start DynamoDB Local there, or run without --endpoint/],
      [[], /^DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH\. Install it .*openjdk-17-jre-headless.* or pass --endpoint URL/, { ...process.env, PATH: nodeOnly }],
      [['--watch'], /^DynamoDB Local needs Java 17 or newer, and `java` on PATH is Java 11\. Install it/, { ...process.env, PATH: `${dir}:${nodeOnly}` }],
    ];
    const results = await Promise.all(cases.map(([args, , env]) => start(args.map((a) => (a === '<dir>' ? dir : a)), env)));
    results.forEach((r, i) => {
      const [args, expected] = cases[i]!;
      assert.match(oneLineError(r), expected, args.join(' '));
      assert.equal(r.stdout, '', `nothing on stdout for ${args.join(' ')}`);
    });
  });

  it('reads the major version from what `java -version` prints', () => {
    assert.equal(javaMajorVersion('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment'), 17);
    assert.equal(javaMajorVersion('java version "1.8.0_381"'), 8);
    assert.equal(javaMajorVersion('openjdk version "21" 2023-09-19'), 21);
    assert.equal(javaMajorVersion('something else'), undefined);
  });
});
