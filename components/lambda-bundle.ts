import { buildSync } from 'esbuild';
import { join } from 'node:path';

export interface LambdaBundle {
  /** index.js, exporting `handler`. */
  readonly code: string;
  readonly bytes: number;
}

const cached = new Map<string, LambdaBundle>();

/**
 * Bundles one entry of handlers/ with esbuild (once per process): CommonJS for the Lambda Node.js
 * runtime, minified, its clients (aws-lite for DynamoDB, SDK v3 for CloudWatch) included so the
 * deployed code runs the versions tested here.
 */
export function handlerBundle(entry: 'replicate' | 'backfill-worker'): LambdaBundle {
  const held = cached.get(entry);
  if (held) return held;
  const result = buildSync({
    entryPoints: [join(__dirname, '..', 'handlers', `${entry}.ts`)],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  const bundle = { code, bytes: Buffer.byteLength(code) };
  cached.set(entry, bundle);
  return bundle;
}

/** The replication handler's bundle. */
export const replicationBundle = (): LambdaBundle => handlerBundle('replicate');
