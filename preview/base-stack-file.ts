import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { PreviewInputError, StackFileSource } from './run-program';

/**
 * The base config of a change plan, from `--base FILE|GIT_REF`: a stack file, or `Pulumi.<stack>.yaml`
 * as committed at a git ref (read with `git show REF:./Pulumi.<stack>.yaml` in the program's folder).
 * Undefined when the ref has no such file: the stack is new there, so every resource is a create.
 */
export function readBaseStackFile(dir: string, stack: string, base: string): StackFileSource | undefined {
  if (existsSync(base) && statSync(base).isFile()) return { path: base, text: readFileSync(base, 'utf8') };
  if (base.startsWith('-') || base.trim() === '') throw new PreviewInputError(`--base ${base}: give a stack file or a git ref, such as origin/main`);
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    git('rev-parse', '--is-inside-work-tree');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'git is not installed' : `${resolve(dir)} is not in a git repository`;
    throw new PreviewInputError(`--base ${base}: no such file, and ${why}: give a stack file, or a git ref of the program's repository`);
  }
  try {
    git('rev-parse', '--verify', '--quiet', `${base}^{commit}`);
  } catch {
    const fetch = base.includes('/') ? `git fetch ${base.split('/')[0]} ${base.split('/').slice(1).join('/')}` : `git fetch origin ${base}`;
    throw new PreviewInputError(`--base ${base}: no such file, and git knows no such ref: fetch it first (${fetch}) or give a stack file`);
  }
  for (const file of [`Pulumi.${stack}.yaml`, `Pulumi.${stack}.yml`]) {
    try {
      // `./` makes the path relative to the program's folder, not to the repository's root.
      return { path: `${base}:${file}`, text: git('show', `${base}:./${file}`) };
    } catch {
      // not at this ref under this name
    }
  }
  return undefined;
}
