import type { EnforcementLevel, Policies, PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

// The pack's own @pulumi/policy (policies/node_modules once installed), as under the engine: rules
// catch its UnknownValueError to check known values first, so the proxy must throw that same class.
const { unknownCheckingProxy, UnknownValueError } = createRequire(resolve(__dirname, '../policies/index.ts'))('@pulumi/policy') as typeof import('@pulumi/policy');

/**
 * Runs CrossGuard policies the way the engine's analyzer does (`@pulumi/policy` server.ts), without
 * the engine: one try/catch per validation function, `notApplicable` throwing, schema defaults
 * filled into `getConfig` as the CLI does, `stackTags`, and values unknown at preview reported as
 * advisory. Used by the tests and by the offline preview.
 */
export interface PlannedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  /** Inputs: what resource policies see. */
  readonly inputs: Record<string, unknown>;
  /** Inputs plus provider outputs: what stack policies see. */
  readonly outputs: Record<string, unknown>;
  readonly parent?: string;
  readonly provider?: { type: string; name: string; urn: string; props: Record<string, unknown> };
  readonly protect?: boolean;
  readonly ignoreChanges?: readonly string[];
  readonly deleteBeforeReplace?: boolean;
  /** Alias URNs, as the engine passes them to the analyzer. */
  readonly aliases?: readonly string[];
}

export interface Violation {
  readonly policy: string;
  readonly level: EnforcementLevel;
  readonly message: string;
  readonly urn?: string;
}

/**
 * Whether a policy could judge this program before anything exists: `preview` when it ran to
 * completion without reading a value that is unknown until resources are created, `up-only` when it
 * read one (the engine then reports "can't run during preview" and judges it only at `pulumi up`).
 */
export interface PolicyOutcome {
  readonly policy: string;
  readonly level: EnforcementLevel;
  readonly enforced: 'preview' | 'up-only' | 'disabled';
  /** For `up-only`: each unknown value read, with the resource it belongs to. */
  readonly unknownReads: readonly { readonly message: string; readonly urn?: string }[];
}

/** Per policy: an enforcement level, or an object with `enforcementLevel` and the policy's settings. */
export type PackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

class NotApplicableError extends Error {}

const isResourcePolicy = (p: Policies[number]): p is ResourceValidationPolicy => 'validateResource' in p;

export async function runPolicies(policies: Policies, resources: readonly PlannedResource[], config: PackConfig = {}, stackTags = new Map<string, string>()): Promise<Violation[]> {
  return (await checkPolicies(policies, resources, config, stackTags)).violations;
}

/** Runs the policies and says, per policy, whether it could be enforced with the values known now. */
export async function checkPolicies(
  policies: Policies,
  resources: readonly PlannedResource[],
  config: PackConfig = {},
  stackTags = new Map<string, string>(),
): Promise<{ violations: Violation[]; outcomes: PolicyOutcome[] }> {
  const violations: Violation[] = [];
  const outcomes: PolicyOutcome[] = [];
  for (const p of policies) {
    const settings = config[p.name];
    const level = (typeof settings === 'string' ? settings : settings?.enforcementLevel) ?? p.enforcementLevel ?? 'advisory';
    const unknownReads: { message: string; urn?: string }[] = [];
    if (level === 'disabled') {
      outcomes.push({ policy: p.name, level, enforced: 'disabled', unknownReads });
      continue;
    }
    const getConfig = <T>() => ({ ...schemaDefaults(p), ...(typeof settings === 'object' ? withoutLevel(settings) : {}) }) as T;
    const report = (message: string, urn?: string) => violations.push({ policy: p.name, level: level === 'remediate' ? 'mandatory' : level, message, urn });
    const notApplicable = (reason?: string): never => {
      throw new NotApplicableError(reason);
    };
    const guard = async (run: () => unknown, urn?: string) => {
      try {
        await run();
      } catch (err) {
        if (err instanceof NotApplicableError) return;
        if (err instanceof UnknownValueError) {
          unknownReads.push({ message: (err as Error).message, urn });
          violations.push({ policy: p.name, level: 'advisory', message: `can't be checked during preview: ${(err as Error).message}`, urn });
        } else throw new Error(`policy ${p.name} failed: ${(err as Error).message}`);
      }
    };
    if (isResourcePolicy(p)) {
      const validations = Array.isArray(p.validateResource) ? p.validateResource : p.validateResource ? [p.validateResource] : [];
      for (const r of resources) {
        for (const validate of validations) {
          await guard(() => validate({ ...describe(r, r.inputs), stackTags, getConfig, notApplicable }, (message, urn) => report(message, urn ?? r.urn)), r.urn);
        }
      }
    } else {
      const byUrn = new Map<string, PolicyResource>();
      const stackResources = resources.map((r) => {
        const resource: PolicyResource = { ...describe(r, r.outputs), dependencies: [], propertyDependencies: {} };
        byUrn.set(r.urn, resource);
        return resource;
      });
      resources.forEach((r, i) => r.parent && byUrn.has(r.parent) && ((stackResources[i] as { parent?: PolicyResource }).parent = byUrn.get(r.parent)));
      await guard(() => (p as StackValidationPolicy).validateStack({ resources: stackResources, getConfig, stackTags, notApplicable }, report));
    }
    outcomes.push({ policy: p.name, level, enforced: unknownReads.length ? 'up-only' : 'preview', unknownReads });
  }
  return { violations, outcomes };
}

/** The parts of a resource both kinds of policy see; props wrapped to flag values unknown at preview. */
function describe(r: PlannedResource, values: Record<string, unknown>) {
  const props = unknownCheckingProxy(values);
  return {
    type: r.type,
    props,
    urn: r.urn,
    name: r.name,
    // Custom timeouts and additional secret outputs are not recorded offline.
    opts: {
      protect: !!r.protect,
      ignoreChanges: [...(r.ignoreChanges ?? [])],
      deleteBeforeReplace: r.deleteBeforeReplace,
      aliases: [...(r.aliases ?? [])],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
      parent: r.parent,
    },
    provider: r.provider,
    isType: (cls: unknown) => isType(r.type, cls),
    asType: (cls: unknown) => (isType(r.type, cls) ? (props as never) : undefined),
  };
}

function isType(type: string, cls: unknown): boolean {
  const token = (cls as { __pulumiType?: string }).__pulumiType;
  return token !== undefined ? type === token : false;
}

function schemaDefaults(p: Policies[number]): Record<string, unknown> {
  const props = p.configSchema?.properties ?? {};
  return Object.fromEntries(Object.entries(props).filter(([, s]) => (s as { default?: unknown }).default !== undefined).map(([k, s]) => [k, (s as { default?: unknown }).default]));
}

function withoutLevel(o: Record<string, unknown>): Record<string, unknown> {
  const { enforcementLevel: _, ...rest } = o;
  return rest;
}
