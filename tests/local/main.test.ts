import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { main, parseFlags } from '../../local/main';
import { localEndpoint } from '../support/setup';

async function runMain(opts: Parameters<typeof main>[0]) {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const code = await main(opts, out);
  return { code, text };
}

describe('npm start: the main job', () => {
  it('--drill runs a failover drill on the local runtime and passes only when nothing acknowledged is lost', async function () {
    this.timeout(300_000);
    const { code, text } = await runMain({ stack: 'dev', operations: 120, seed: 5, watch: false, drill: true, endpoint: localEndpoint() });
    assert.equal(code, 0, text);
    assert.match(text, /3\. Unplanned failover to eu-west-1 \(us-east-1 is not called\)\n/);
    assert.match(text, /fence us-east-1: not called\n    fence eu-west-1: raised\n    fence ap-southeast-2: raised/);
    assert.match(text, /review entr(y|ies): us-east-1's writes fenced out/);
    assert.match(text, /planned failover eu-west-1 -> us-east-1: generation 3/);
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2']) assert.match(text, new RegExp(`  ${region}\\s+\\d+ items; every key holds the last write its primary acknowledged`));
    assert.match(text, /every one of the \d+ key\(s\) the old primary wrote but could not replicate is listed\n/);
    const [, perChange] = /: (\d+\.\d+) per change and replica/.exec(text)!;
    assert.ok(Number(perChange) <= 1, `no loop: ${perChange} writes per change and replica`);
    assert.match(text, /Drill passed/);
  });

  it('replicates a user-registration workload on an embedded DynamoDB Local, verifies and exits 0', async function () {
    this.timeout(120_000);
    const before = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    const { code, text } = await runMain({ stack: 'dev', operations: 300, seed: 7, watch: false });
    assert.equal(code, 0, text);
    assert.match(text, /DynamoDB Local: http:\/\/127\.0\.0\.1:\d+ \(started for this run/);
    assert.match(text, /Stack dev, table Users: us-east-1 \(source, stream NEW_AND_OLD_IMAGES\) -> eu-west-1, ap-southeast-2/);
    assert.match(text, /On-failure queue \(local SQS\): http:\/\/sqs\.us-east-1\.127\.0\.0\.1:\d+\/\d+\/Users-us-east-1-link\d-dlq/);
    assert.match(text, /Converged: every replica equals the source/);
    for (const region of ['eu-west-1', 'ap-southeast-2']) {
      assert.match(text, new RegExp(`${region}\\s+\\d+\\s+300\\s+\\d+\\s+0\\s+0\\s+0\\s+\\d+ ms\\s+\\d+ ms\\s+yes`), `summary row for ${region}`);
    }
    assert.equal(process.env.AWS_ENDPOINT_URL_DYNAMODB, before, 'the run restores the SDK endpoint variables');
  });

  it('uses a running DynamoDB Local with --endpoint, and refuses to overwrite an existing demo table', async function () {
    this.timeout(120_000);
    const first = await runMain({ stack: 'dev', operations: 100, seed: 3, watch: false, endpoint: localEndpoint() });
    assert.equal(first.code, 0, first.text);
    assert.match(first.text, new RegExp(`DynamoDB Local: ${localEndpoint()}\\n`));
    await assert.rejects(runMain({ stack: 'dev', operations: 10, seed: 3, watch: false, endpoint: localEndpoint() }), /table Users already exists at http:\/\/127\.0\.0\.1:\d+: delete it there, or run without --endpoint/);
  });

  it('reads the table from the stack file, and names the fix for a missing stack or table', async () => {
    await assert.rejects(runMain({ stack: 'nope', operations: 1, seed: 1, watch: false }), /^Error: no stack file Pulumi\.nope\.yaml in .*: stacks there: dev; choose one with --stack/);
    await assert.rejects(runMain({ stack: 'dev', table: 'Orders', operations: 1, seed: 1, watch: false }), /--table Orders: stack dev has tables Users; choose one of them/);
  });

  it('parses flags and names the fix for bad ones', () => {
    assert.deepEqual(parseFlags([]), { stack: 'dev', table: undefined, operations: 2000, seed: 1, watch: false, drill: false, endpoint: undefined });
    assert.deepEqual(parseFlags(['--drill']), { stack: 'dev', table: undefined, operations: 400, seed: 1, watch: false, drill: true, endpoint: undefined });
    assert.deepEqual(parseFlags(['--watch', '--endpoint', 'http://127.0.0.1:8000', '--operations', '50', '--stack', 'prod', '--table', 'Users']), {
      stack: 'prod',
      table: 'Users',
      operations: 50,
      seed: 1,
      watch: true,
      drill: false,
      endpoint: 'http://127.0.0.1:8000',
    });
    assert.equal(parseFlags(['--help']), 'help');
    assert.throws(() => parseFlags(['--operations', 'many']), /--operations is "many": use a whole number of at least 1/);
    assert.throws(() => parseFlags(['--endpoint', 'localhost']), /--endpoint is "localhost": use a URL such as http:\/\/127\.0\.0\.1:8000/);
    assert.throws(() => parseFlags(['--fast']), /^Error: Unknown option '--fast': see npm start -- --help for the options$/);
    assert.equal((parseFlags(['--dir', 'x']) as { projectDir: string }).projectDir, resolve('x'));
  });
});
