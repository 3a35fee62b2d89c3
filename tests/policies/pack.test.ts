import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const PACK = resolve(__dirname, '../../policies');

describe('policy pack entry point', function () {
  this.timeout(60_000);

  it('has a version and constructs the PolicyPack, which starts its analyzer on a local port', async () => {
    assert.match((JSON.parse(readFileSync(join(PACK, 'package.json'), 'utf8')) as { version: string }).version, /^\d+\.\d+\.\d+$/);
    assert.match(readFileSync(join(PACK, 'PulumiPolicy.yaml'), 'utf8'), /^runtime: nodejs$/m);
    // The engine runs the pack in its own directory and reads the analyzer's port from stdout.
    const child = spawn(process.execPath, ['--import', 'tsx', 'index.ts'], { cwd: PACK, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const firstLine = await new Promise<string>((resolveLine, reject) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolveLine(out.split('\n')[0]!);
        });
        child.stderr.on('data', (d) => (err += d));
        child.once('exit', (code) => reject(new Error(`the pack exited with ${code}: ${err}`)));
      });
      assert.match(firstLine.trim(), /^\d{2,5}$/);
    } finally {
      child.kill();
    }
  });
});
