import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { MockedResource, MockOptions, setRealisticMocks, settled } from './mocks';
import type { PlannedResource } from './policy-runner';
import { aliasUrns } from './urns';

/**
 * `preview`: as `pulumi preview` of resources that do not exist yet (outputs only known after
 * creation are unknown). `assume-created`: every output known, as if every resource existed, which
 * is what policies see at `pulumi up`.
 */
export type PlanMode = 'preview' | 'assume-created';

export type PlanResource = PlannedResource & { readonly region?: string; readonly custom: boolean; readonly mocked: MockedResource };

export interface Plan {
  readonly project: string;
  readonly stack: string;
  readonly mode: PlanMode;
  /** The stack file the config came from (a path, or `REF:path` for one read from git). */
  readonly stackFile: string;
  readonly resources: PlanResource[];
}

/** A stack file's content and where it came from, when it is not `Pulumi.<stack>.yaml` in the program's folder. */
export interface StackFileSource {
  readonly path: string;
  readonly text: string;
}

export interface PlanOptions {
  readonly mode?: PlanMode;
  readonly stackFile?: StackFileSource;
  /** For a change plan: the state of each resource that already exists. */
  readonly existing?: MockOptions['existing'];
}

/** A usage problem the user fixes (missing files, secrets): exit code 2, not a crash. */
export class PreviewInputError extends Error {}

/**
 * Runs a Pulumi TypeScript program under Pulumi's mocks with a stack's config, as `pulumi preview`
 * would run it, and returns every resource it declared. No CLI, backend or credentials.
 */
export async function planProgram(dir: string, stack: string, options: PlanOptions = {}): Promise<Plan> {
  const mode = options.mode ?? 'preview';
  const project = readProject(dir);
  const stackFile = options.stackFile ?? readStackFile(dir, stack);
  const config = stackConfig(project, stackFile);

  const recorded = setRealisticMocks(project.name, stack, config['aws:region'], { preview: mode === 'preview', existing: options.existing });
  pulumi.runtime.setAllConfig(config);
  const entry = require.resolve(resolve(dir, project.main ?? '.'));
  delete require.cache[entry];
  require(entry);
  await settled();

  const byUrn = new Map(recorded.map((r) => [r.urn, r]));
  const aliasCtx = { stack, project: project.name, parentMatchedAlias: () => undefined };
  return {
    project: project.name,
    stack,
    mode,
    stackFile: stackFile.path,
    resources: recorded.map((r) => {
      const provider = r.providerUrn ? byUrn.get(r.providerUrn) : undefined;
      return {
        type: r.type,
        name: r.name,
        urn: r.urn,
        inputs: asAnalyzerSees(r.wireInputs),
        outputs: asAnalyzerSees(r.wireOutputs ?? r.wireInputs),
        parent: r.parent,
        provider: provider && { type: provider.type, name: provider.name, urn: provider.urn, props: asAnalyzerSees(provider.wireInputs) },
        protect: r.protect,
        ignoreChanges: r.ignoreChanges,
        deleteBeforeReplace: r.deleteBeforeReplace,
        aliases: aliasUrns(aliasCtx, r.type, r.name, r.parent, r.aliases),
        region: r.region,
        custom: r.custom,
        mocked: r,
      };
    }),
  };
}

/** The project name and the config a stack's program gets, as the CLI passes it (PULUMI_CONFIG). */
export function programConfig(dir: string, stack: string): { project: string; config: Record<string, string> } {
  const project = readProject(dir);
  return { project: project.name, config: stackConfig(project, readStackFile(dir, stack)) };
}

/** Wire values as the policy analyzer deserializes them: unknowns stay sentinels its proxy recognizes. */
function asAnalyzerSees(wire: Record<string, unknown>): Record<string, unknown> {
  const { deserializeProperties } = require('@pulumi/policy/deserialize') as { deserializeProperties: (s: { toJavaScript(): unknown }, proxySecrets: boolean) => Record<string, unknown> };
  return deserializeProperties({ toJavaScript: () => wire }, false);
}

interface ProjectFile {
  name: string;
  main?: string;
  config?: Record<string, { default?: unknown; value?: unknown }>;
}

function readProject(dir: string): ProjectFile {
  const projectFile = ['Pulumi.yaml', 'Pulumi.yml'].map((f) => join(dir, f)).find(existsSync);
  if (!projectFile) throw new PreviewInputError(`${resolve(dir)} has no Pulumi.yaml: point --dir at a Pulumi project`);
  const project = readYaml(projectFile, readFileSync(projectFile, 'utf8')) as ProjectFile;
  if (!project?.name) throw new PreviewInputError(`${projectFile} has no project name`);
  return project;
}

function readStackFile(dir: string, stack: string): StackFileSource {
  const path = [`Pulumi.${stack}.yaml`, `Pulumi.${stack}.yml`].map((f) => join(dir, f)).find(existsSync);
  if (!path) throw new PreviewInputError(`${resolve(dir)} has no Pulumi.${stack}.yaml: choose a stack with --stack`);
  return { path, text: readFileSync(path, 'utf8') };
}

/** The program's config: project defaults, then the stack file's values, each as the CLI passes it. */
function stackConfig(project: ProjectFile, stackFile: StackFileSource): Record<string, string> {
  const stackValues = ((readYaml(stackFile.path, stackFile.text) as { config?: Record<string, unknown> })?.config ?? {}) as Record<string, unknown>;
  const config: Record<string, string> = {};
  for (const [key, decl] of Object.entries(project.config ?? {})) {
    const fullKey = key.includes(':') ? key : `${project.name}:${key}`;
    const value = decl && typeof decl === 'object' ? (decl.value ?? decl.default) : decl;
    if (value !== undefined && value !== '') config[fullKey] = configString(fullKey, value);
  }
  for (const [key, value] of Object.entries(stackValues)) config[key] = configString(key, value);
  return config;
}

function readYaml(path: string, text: string): unknown {
  try {
    return parse(text);
  } catch (err) {
    throw new PreviewInputError(`${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
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
