import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { classify, CliError } from '../../cli/errors';
import { createTable, project } from './support';

const BIN = resolve(__dirname, '../../bin/ddb-replicator.js');

/** Runs the installed command as a user would, with only the environment given (no AWS_* from the test run). */
function bin(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'DEBUG'));
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...base, AWS_EC2_METADATA_DISABLED: 'true', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent', ...env } }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

function assertOneLine(r: { code: number; stdout: string; stderr: string }, message: RegExp) {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.match(lines[0]!, message);
}

describe('ddb-replicator errors: exit 2 with one line naming the problem and the fix', function () {
  this.timeout(60_000);

  it('as a process: unknown stack, unreachable endpoint, missing credentials; DEBUG=1 adds the stack', async () => {
    const p = project();
    try {
      const at = ['--dir', p.dir, '--stack', 'test'];
      assertOneLine(await bin(['verify', '--dir', p.dir, '--stack', 'nope']), /^ddb-replicator verify: no stack file Pulumi\.nope\.yaml in .*: stacks there: test$/);
      const port = await closedPort();
      assertOneLine(await bin(['verify', ...at, '--endpoint', `http://127.0.0.1:${port}`]), new RegExp(`^ddb-replicator verify: cannot reach http://127\\.0\\.0\\.1:${port} \\(region (us-east-1|eu-west-1)\\): ECONNREFUSED; start it`));
      assertOneLine(await bin(['reconcile', ...at]), /^ddb-replicator reconcile: no usable AWS credentials \(CredentialsProviderError\): set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use --endpoint URL for DynamoDB Local$/);

      const json = await bin(['verify', ...at, '--endpoint', `http://127.0.0.1:${port}`, '--json']);
      assert.equal(json.code, 2);
      assert.deepEqual(Object.keys(JSON.parse(json.stdout)), ['command', 'ok', 'exitCode', 'error']);
      assert.deepEqual(JSON.parse(json.stdout).command, 'verify');

      const debug = await bin(['verify', ...at, '--endpoint', `http://127.0.0.1:${port}`], { DEBUG: '1' });
      assert.equal(debug.code, 2);
      assert.match(debug.stderr, /^ddb-replicator verify: cannot reach[^\n]*\n[\s\S]*\n\s+at /, 'the line first, then the stack');
    } finally {
      p.remove();
    }
  });

  it('through cli(): config error, unknown table, bad flags, the primary as --to, missing table, local run without --sqs-endpoint', async () => {
    const p = project();
    try {
      const line = async (args: string[]) => {
        const r = await p.exec(...args);
        assert.equal(r.code, 2, r.err);
        assert.equal(r.text, '');
        assert.equal(r.err.trimEnd().split('\n').length, 1, r.err);
        return r.err.trimEnd();
      };
      assert.match(await line(['verify', '--table', 'Orders']), /^ddb-replicator verify: --table Orders is not in stack test: Ops-/);
      assert.match(await line(['verify', '--segments', 'x']), /--segments is "x": use a whole number from 1 to 1000$/);
      assert.match(await line(['verify', '--dry-run']), /^ddb-replicator verify: unknown option '--dry-run': see ddb-replicator verify --help$/);
      assert.match(await line(['backfill', '--to', 'us-east-1']), /--to us-east-1: us-east-1 is the primary of Ops-\S+, which this command never writes into; use a replica region: eu-west-1$/);
      assert.match(await line(['verify']), /^ddb-replicator verify: table Ops-\S+ does not exist in (us-east-1|eu-west-1) at http:\/\/127\.0\.0\.1:\d+: deploy the stack first \(pulumi up, or npm start locally\)$/);
      await createTable('us-east-1', p.table, true);
      assert.match(await line(['redrive']), /^ddb-replicator redrive: --endpoint is a local run, whose DLQs are on a local SQS server: add --sqs-endpoint URL \(npm start prints it\)$/);

      writeFileSync(join(p.dir, 'Pulumi.test.yaml'), 'config:\n  ddb-replicator:tables: nope\n');
      assert.match(await line(['verify']), /^ddb-replicator verify: .*tables.*$/);

      const json = await p.exec('verify', '--segments', '0', '--json');
      assert.deepEqual([json.code, JSON.parse(json.text)], [2, { command: 'verify', ok: false, exitCode: 2, error: '--segments is "0": use a whole number from 1 to 1000' }]);
      assert.equal(json.err, '');
    } finally {
      p.remove();
    }
  });

  it('anything else is one line that says to rerun with DEBUG=1', () => {
    const bug = classify(new TypeError("Cannot read properties of undefined (reading 'x')\n    at somewhere"));
    assert.deepEqual(bug, { message: "unexpected error: TypeError: Cannot read properties of undefined (reading 'x'); rerun with DEBUG=1 for details", exitCode: 2, expected: false });
    assert.equal(classify(new CliError('--to is needed')).message, '--to is needed');
  });

  it('a denied request is a permission problem, not missing credentials', () => {
    const denied = Object.assign(new Error('User: arn:aws:sts::1:assumed-role/ci is not authorized to perform: dynamodb:Scan'), { name: 'AccessDeniedException' });
    const c = classify(denied);
    assert.equal(c.exitCode, 2);
    assert.match(c.message, /^AWS denied a request \(AccessDeniedException\): User: .* dynamodb:Scan; run with credentials allowed/);
    assert.doesNotMatch(c.message, /no usable AWS credentials/);
  });
});
