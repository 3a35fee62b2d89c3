import { buildSync } from 'esbuild';
import { join } from 'node:path';

export interface LambdaBundle {
  /** index.js, exporting `handler`. */
  readonly code: string;
  readonly bytes: number;
}

let cached: LambdaBundle | undefined;

/**
 * Bundles handlers/replicate.ts with esbuild (once per process): CommonJS for the Lambda Node.js
 * runtime, minified, AWS SDK v3 included so the deployed code runs the versions tested here.
 */
export function replicationBundle(): LambdaBundle {
  if (cached) return cached;
  const result = buildSync({
    entryPoints: [join(__dirname, '..', 'handlers', 'replicate.ts')],
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
  cached = { code, bytes: Buffer.byteLength(code) };
  return cached;
}
