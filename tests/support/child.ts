import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');

/** Runs a TypeScript entry point of this project as `npm start`/`npm run preview` would, and collects its output. */
export function runTs(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

/** An expected error: exit code 2, one line on stderr, no stack frames. */
export function oneLineError(r: { code: number | null; stderr: string }): string {
  const text = r.stderr.trim();
  if (r.code !== 2 || text.includes('\n') || /^\s+at /m.test(r.stderr)) throw new Error(`expected one line and exit code 2, got ${r.code}:\n${r.stderr}`);
  return text;
}
