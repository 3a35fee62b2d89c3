import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PreviewInputError, StackFileSource } from './run-program';

/** The base of a change plan: its stack file, and, for a git ref, the program as committed there. */
export interface Base {
  readonly stackFile?: StackFileSource;
  /** The program at the ref, checked out into a temporary folder (with this folder's node_modules). */
  readonly programDir?: string;
  /** Removes the temporary folder. */
  readonly cleanup: () => void;
}

/**
 * The base config of a change plan, from `--base FILE|GIT_REF`: a stack file (with this program), or
 * the program and its `Pulumi.<stack>.yaml` as committed at a git ref, so a pull request that
 * changes the components shows what that change replaces too. The stack file is undefined when the
 * ref has none: the stack is new there, so every resource is a create.
 */
export function readBase(dir: string, stack: string, base: string): Base {
  if (existsSync(base) && statSync(base).isFile()) return { stackFile: { path: base, text: readFileSync(base, 'utf8') }, cleanup: () => undefined };
  const stackFile = readBaseStackFile(dir, stack, base);
  if (!stackFile) return { cleanup: () => undefined };
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const top = git('rev-parse', '--show-toplevel').trim();
  const prefix = git('rev-parse', '--show-prefix').trim();
  const scratch = mkdtempSync(join(tmpdir(), 'ddb-replicator-base-'));
  const cleanup = () => rmSync(scratch, { recursive: true, force: true });
  try {
    const tar = execFileSync('git', ['-C', top, 'archive', '--format=tar', `${base}^{commit}`], { maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', scratch], { input: tar });
    const programDir = join(scratch, prefix);
    if (existsSync(join(dir, 'node_modules'))) symlinkSync(join(resolve(dir), 'node_modules'), join(programDir, 'node_modules'), 'dir');
    return { stackFile, programDir, cleanup };
  } catch (err) {
    cleanup();
    throw new PreviewInputError(`--base ${base}: could not check out the program at that ref (${(err as Error).message.split('\n')[0]})`);
  }
}

function readBaseStackFile(dir: string, stack: string, base: string): StackFileSource | undefined {
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
