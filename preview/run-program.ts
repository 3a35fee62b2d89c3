import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { setRealisticMocks, settled } from './mocks';
import type { PlannedResource } from './policy-runner';

export interface Plan {
  readonly project: string;
  readonly stack: string;
  readonly resources: (PlannedResource & { readonly region?: string; readonly custom: boolean })[];
}

/** A usage problem the user fixes (missing files, secrets): exit code 2, not a crash. */
export class PreviewInputError extends Error {}

/**
 * Runs a Pulumi TypeScript program under Pulumi's mocks with a stack's config, as `pulumi preview`
 * would run it, and returns every resource it declared. No CLI, backend or credentials.
 */
export async function planProgram(dir: string, stack: string): Promise<Plan> {
  const { project, config } = stackConfig(dir, stack);
  const defaultRegion = config['aws:region'];
  const recorded = setRealisticMocks(project.name, stack, defaultRegion);
  pulumi.runtime.setAllConfig(config);
  const main = resolve(dir, project.main ?? '.');
  const entry = require.resolve(main);
  delete require.cache[entry];
  require(entry);
  await settled();

  const urnOf = (type: string, name: string) => `urn:pulumi:${stack}::${project.name}::${type}::${name}`;
  return {
    project: project.name,
    stack,
    resources: recorded.map((r) => ({ type: r.type, name: r.name, urn: urnOf(r.type, r.name), inputs: r.inputs, outputs: r.state, region: r.region, custom: r.custom })),
  };
}

/**
 * The config a stack's program sees, merged as the CLI does: declared project defaults from
 * Pulumi.yaml, then Pulumi.<stack>.yaml; every value a string (structured ones as JSON).
 */
export function stackConfig(dir: string, stack: string): { project: { name: string; main?: string }; config: Record<string, string> } {
  const projectFile = ['Pulumi.yaml', 'Pulumi.yml'].map((f) => join(dir, f)).find(existsSync);
  if (!projectFile) throw new PreviewInputError(`${resolve(dir)} has no Pulumi.yaml: point --dir at a Pulumi project`);
  const project = readYaml(projectFile) as { name?: string; main?: string; config?: Record<string, { default?: unknown; value?: unknown }> };
  if (!project?.name) throw new PreviewInputError(`${projectFile} has no project name`);
  const stackFile = [`Pulumi.${stack}.yaml`, `Pulumi.${stack}.yml`].map((f) => join(dir, f)).find(existsSync);
  if (!stackFile) throw new PreviewInputError(`${resolve(dir)} has no Pulumi.${stack}.yaml: choose a stack with --stack`);
  const stackValues = ((readYaml(stackFile) as { config?: Record<string, unknown> })?.config ?? {}) as Record<string, unknown>;

  const config: Record<string, string> = {};
  for (const [key, decl] of Object.entries(project.config ?? {})) {
    const fullKey = key.includes(':') ? key : `${project.name}:${key}`;
    const value = decl && typeof decl === 'object' ? (decl.value ?? decl.default) : decl;
    if (value !== undefined && value !== '') config[fullKey] = configString(fullKey, value);
  }
  for (const [key, value] of Object.entries(stackValues)) config[key] = configString(key, value);
  return { project: { name: project.name, main: project.main }, config };
}

function readYaml(path: string): unknown {
  try {
    return parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new PreviewInputError(`${path} is not valid YAML: ${(err as Error).message}`);
  }
}

/** Config values reach programs as strings; structured ones as JSON, as the CLI passes them. */
function configString(key: string, value: unknown): string {
  if (value && typeof value === 'object' && 'secure' in value) {
    throw new PreviewInputError(`${key} is a secret; the offline preview cannot decrypt it: give the stack a plain placeholder for previews`);
  }
  const v = value && typeof value === 'object' && !Array.isArray(value) && 'value' in value ? (value as { value: unknown }).value : value;
  return typeof v === 'string' ? v : JSON.stringify(v);
}
