import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The policy pack: its own package.json, lockfile and node_modules, as `pulumi --policy-pack` runs it. */
export const PACK_DIR = resolve(__dirname, '../../policies');

/**
 * True when policies/node_modules was installed from the current policies/package-lock.json:
 * npm writes node_modules/.package-lock.json last on every install, so it is newer than the lockfile
 * unless the lockfile changed since (a pull, a rebase) or the install never finished.
 */
export function packDependenciesCurrent(dir = PACK_DIR): boolean {
  const installed = join(dir, 'node_modules/.package-lock.json');
  return existsSync(installed) && statSync(installed).mtimeMs >= statSync(join(dir, 'package-lock.json')).mtimeMs;
}

/** Installs the pack's dependencies from its lockfile when they are missing or stale; otherwise does nothing. */
export function ensurePackDependencies(dir = PACK_DIR): void {
  if (packDependenciesCurrent(dir)) return;
  process.stderr.write(`Installing the policy pack's dependencies: npm ci --prefix ${dir}\n`);
  // npm's own output goes to stderr so the test reporter's stdout stays readable.
  execFileSync('npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund'], { stdio: ['ignore', 2, 2], timeout: 600_000 });
}
