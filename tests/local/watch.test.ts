import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { EmulatorStats } from '../../local/esm/emulator';
import { ReplicationStats } from '../../local/replication-stats';
import { cliCommand, WatchReporter, watchBanner, WatchTarget } from '../../local/watch';
import { ROOT } from '../support/child';
import { localEndpoint } from '../support/setup';

const TARGET: WatchTarget = {
  stack: 'dev',
  table: 'Users',
  primaryRegion: 'us-east-1',
  replicaRegion: 'eu-west-1',
  endpoint: 'http://127.0.0.1:8000',
  sqsEndpoint: 'http://127.0.0.1:9324',
  dlqUrl: 'http://sqs.us-east-1.127.0.0.1:9324/000000000000/Users-us-east-1-link1-dlq',
  accessKeyId: 'local',
};

describe('npm start --watch', () => {
  it('prints both endpoints and ready redrive and status commands', () => {
    const banner = watchBanner(TARGET).join('\n');
    assert.match(banner, /\nDynamoDB endpoint: http:\/\/127\.0\.0\.1:8000\n/);
    assert.match(banner, /\nSQS endpoint: +http:\/\/127\.0\.0\.1:9324 \(on-failure queue http:\/\/sqs\.us-east-1\.127\.0\.0\.1:9324\/000000000000\/Users-us-east-1-link1-dlq\)\n/);
    assert.match(banner, /\nRedrive: npx ddb-replicator redrive --stack dev --table Users --endpoint http:\/\/127\.0\.0\.1:8000 --sqs-endpoint http:\/\/127\.0\.0\.1:9324\n/);
    assert.match(banner, /\nStatus: +npx ddb-replicator status --stack dev --table Users --endpoint http:\/\/127\.0\.0\.1:8000\n/);
    assert.doesNotMatch(banner, /AWS_SECRET_ACCESS_KEY=(?!local\b)/, 'never a real secret');
    assert.equal(cliCommand({ ...TARGET, projectDir: '/p' }, 'verify'), 'npx ddb-replicator verify --stack dev --table Users --dir /p --endpoint http://127.0.0.1:8000');
  });

  it('reports replicated records with their lag in whole seconds, failures, discards to the DLQ and drops, once each', () => {
    const stats = new ReplicationStats(['eu-west-1', 'ap-southeast-2'], () => undefined);
    const emulator = { recordsDiscarded: 0, recordsDropped: 0 } as EmulatorStats;
    const reporter = new WatchReporter(stats, emulator, TARGET);
    assert.deepEqual(reporter.lines(), []);
    const change = (seq: string, createdAtMs: number) => ({ seq, eventName: 'INSERT', keys: {}, version: {}, createdAtMs }) as never;
    const applied = (region: string, seq: string, createdAtMs: number, atMs: number) =>
      stats.onApplied({ target: { region, tableName: 'Users' }, plan: { changes: [change(seq, createdAtMs)] } as never, outcome: { status: 'applied' } as never, atMs });
    // A write made by any client: only its record's ApproximateCreationDateTime (whole seconds) is known.
    applied('eu-west-1', '1', 1_000_000, 1_000_900);
    applied('ap-southeast-2', '1', 1_000_000, 1_002_100);
    const at = new Date('2030-01-01T00:00:00Z');
    assert.deepEqual(reporter.lines(at), ['2030-01-01T00:00:00.000Z  replicated eu-west-1 +1  ap-southeast-2 +1  lag p50 0 s, max 2 s']);
    assert.deepEqual(reporter.lines(at), [], 'nothing new, nothing printed');

    stats.onApplied({ target: { region: 'eu-west-1', tableName: 'Users' }, plan: { changes: [change('2', 0)] } as never, outcome: { status: 'failed', error: 'ItemTooLarge: over 400 KB' }, atMs: 0 });
    emulator.recordsDiscarded = 1;
    emulator.recordsDropped = 2;
    const [failed, discarded, dropped, ...rest] = reporter.lines(at);
    assert.equal(failed, '2030-01-01T00:00:00.000Z  FAILED: 1 item write(s) (last: eu-west-1: ItemTooLarge: over 400 KB); the mapping retries them; details in .ddb-replicator/local.log');
    assert.equal(discarded, `2030-01-01T00:00:00.000Z  DISCARDED: 1 record(s) after the mapping's retries, sent to the SQS DLQ ${TARGET.dlqUrl}; once the cause is fixed: ${cliCommand(TARGET, 'redrive')}`);
    assert.match(dropped!, /DROPPED: 2 record\(s\) reached no DLQ \(the send failed\); find the items with npx ddb-replicator verify .*, repair with npx ddb-replicator reconcile /);
    assert.deepEqual(rest, []);
  });

  it('as a process: shows a write made with another client, a poison record failing and discarded to the DLQ, a redrive command that runs, and stops on Ctrl-C', async function () {
    this.timeout(180_000);
    // DynamoDB Local keeps a database per access key: a key of its own gives this run a fresh one.
    const env = { ...process.env, AWS_ACCESS_KEY_ID: `watch${process.pid}`, AWS_SECRET_ACCESS_KEY: 'local', AWS_ENDPOINT_URL_DYNAMODB: undefined, AWS_ENDPOINT_URL_DYNAMODB_STREAMS: undefined };
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', '--watch', '--endpoint', localEndpoint(), '--operations', '20'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const waitFor = async (pattern: RegExp, ms = 60_000) => {
      for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        const m = pattern.exec(out);
        if (m) return m;
        if (child.exitCode !== null) break;
      }
      throw new Error(`no ${pattern} in time; stdout:\n${out}\nstderr:\n${err}`);
    };
    const client = new DynamoDBClient({ region: 'us-east-1', endpoint: localEndpoint(), credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: 'local' } });
    try {
      const [, redrive] = await waitFor(/\nRedrive: (npx ddb-replicator redrive .*)\n/);
      assert.match(out, /\nSQS endpoint: +http:\/\/127\.0\.0\.1:\d+ \(on-failure queue /);
      assert.match(out, /\nStatus: +npx ddb-replicator status --stack dev --table Users --endpoint http:\/\/127\.0\.0\.1:\d+\n/);

      await client.send(new PutItemCommand({ TableName: 'Users', Item: { userId: { S: 'me' }, name: { S: 'Me' } } }));
      await waitFor(/Z  replicated eu-west-1 \+1  ap-southeast-2 \+1  lag p50 \d+ s, max \d+ s\n/);
      // At DynamoDB's 400 KB limit: the source takes it, no replica can with replication's metadata added.
      await client.send(new PutItemCommand({ TableName: 'Users', Item: { userId: { S: 'poison' }, blob: { B: new Uint8Array(400 * 1024 - 'userIdpoisonblob'.length) } } }));
      await waitFor(/Z  FAILED: \d+ item write\(s\) \(last: [a-z0-9-]+: ItemTooLarge: /);
      await waitFor(/Z  DISCARDED: 1 record\(s\) after the mapping's retries, sent to the SQS DLQ http:\/\/\S+Users-us-east-1-link\d-dlq; once the cause is fixed: npx ddb-replicator redrive /);

      // Once the cause is fixed (the item made small), the printed command runs as printed and repairs it.
      await client.send(new PutItemCommand({ TableName: 'Users', Item: { userId: { S: 'poison' }, blob: { B: new Uint8Array(10) } } }));
      const run = spawnSync(process.execPath, ['bin/ddb-replicator.js', ...redrive!.split(' ').slice(2)], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
      assert.equal(run.status, 0, `redrive:\n${run.stdout}\n${run.stderr}`);
    } finally {
      client.destroy();
      child.kill('SIGINT');
    }
    assert.equal(await exited, 1, 'records were discarded while watching');
    assert.match(out, /\nStopped\. 1 record\(s\) were discarded while watching \(exit code 1\)/);
    assert.doesNotMatch(err, /^\s+at /m, err);
    assert.doesNotMatch(out, /AAAAAAAA/, 'item values are never printed');
  });
});
