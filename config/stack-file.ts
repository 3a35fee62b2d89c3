import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { StackModel } from './model';
import { parseStackConfig, StackConfigError } from './parse';

const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

/** Stacks that have a settings file in `dir`. */
export function listStacks(dir: string): string[] {
  return readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .sort();
}

/**
 * Reads a stack's `ddb-replicator:*` config from Pulumi.<stack>.yaml without the Pulumi CLI, so
 * the local runtime and the CLI use the same model as `pulumi up`.
 */
export function loadStackModel(stack: string, dir = process.cwd()): StackModel {
  if (!STACK_NAME.test(stack)) throw new StackConfigError([`stack name ${JSON.stringify(stack)} is not valid: use letters, digits, _ - and .`]);
  const path = [join(dir, `Pulumi.${stack}.yaml`), join(dir, `Pulumi.${stack}.yml`)].find(existsSync);
  if (!path) {
    const stacks = listStacks(dir);
    throw new StackConfigError([`no stack file Pulumi.${stack}.yaml in ${dir}: ${stacks.length ? `stacks there: ${stacks.join(', ')}` : 'create one (see Pulumi.dev.yaml in this project)'}`]);
  }
  let doc: { config?: Record<string, unknown> } | null;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new StackConfigError([`${path} is not valid YAML: ${(err as Error).message}`]);
  }
  const config = doc?.config ?? {};
  const value = (key: string) => {
    const v = config[`ddb-replicator:${key}`];
    if (v && typeof v === 'object' && 'secure' in v) throw new StackConfigError([`${path}: ddb-replicator:${key} is a secret, which cannot be read without the Pulumi CLI; keep it plain`]);
    return v && typeof v === 'object' && !Array.isArray(v) && 'value' in v ? (v as { value: unknown }).value : v;
  };
  return parseStackConfig({ tables: value('tables'), alarmEmail: value('alarmEmail'), metricsNamespace: value('metricsNamespace') });
}
