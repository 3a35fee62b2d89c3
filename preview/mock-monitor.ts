import type { RegisterResourceRequest, RegisterResourceResponse } from '@pulumi/pulumi/proto/resource_pb';
import { AliasSpec, urnOf } from './urns';

/** What the engine learns from one RegisterResource call beyond what the SDK's mocks pass on. */
export interface RegistrationOptions {
  readonly urn: string;
  readonly parent?: string;
  /** The provider reference `urn::id`, empty for a default provider. */
  readonly providerRef?: string;
  /** Inputs as serialized on the wire: unknowns are the SDK's unknown sentinel, assets and secrets keep their signatures. */
  readonly wireInputs: Record<string, unknown>;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly deleteBeforeReplace: boolean;
  readonly aliases: readonly AliasSpec[];
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
}

type Callback = (err: Error | null, res?: RegisterResourceResponse) => void;
interface MockMonitorInternals {
  newUrn(parent: string, type: string, name: string): string;
  registerResource(req: RegisterResourceRequest, callback: Callback): Promise<void>;
  signalAndWaitForShutdown?: (req: unknown, callback: (err: Error | null, res: unknown) => void) => void;
}

/**
 * Extends the SDK's mock monitor (installed by `setMocks`) the way the engine behaves: URNs carry the
 * full parent type chain, and each registration's resource options (parent, protect, retainOnDelete,
 * aliases, ...) are read from the RegisterResourceRequest, which `MockResourceArgs` leaves out.
 * `MockMonitor.registerResource` calls `mocks.newResource` synchronously, so the request being
 * registered is the one `optionsFor` returns there.
 */
export function instrumentMockMonitor(project: string, stack: string, onOutputs: (urn: string, wireOutputs: Record<string, unknown>) => void) {
  const { getMonitor } = require('@pulumi/pulumi/runtime/settings') as { getMonitor: () => MockMonitorInternals };
  const monitor = getMonitor();
  const byUrn = new Map<string, RegistrationOptions>();
  let pending: { type: string; name: string; options: RegistrationOptions } | undefined;

  monitor.newUrn = (parent, type, name) => urnOf(stack, project, type, name, parent || undefined);
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const parent = req.getParent() || undefined;
    const urn = urnOf(stack, project, req.getType(), req.getName(), parent);
    // The engine gives an unset retainOnDelete the parent's (source_eval.go inheritFromParent); the SDK does so for protect.
    const inherited = parent ? byUrn.get(parent) : undefined;
    const options: RegistrationOptions = {
      urn,
      parent,
      providerRef: req.getProvider() || undefined,
      wireInputs: (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
      protect: req.hasProtect() ? !!req.getProtect() : (inherited?.protect ?? false),
      retainOnDelete: req.hasRetainondelete() ? !!req.getRetainondelete() : (inherited?.retainOnDelete ?? false),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      aliases: req.getAliasesList().map((a) => {
        if (a.hasUrn()) return { urn: a.getUrn() };
        const s = a.getSpec()!;
        return { name: s.getName(), type: s.getType(), stack: s.getStack(), project: s.getProject(), parentUrn: s.getParenturn() || undefined, noParent: s.getNoparent() };
      }),
      ignoreChanges: req.getIgnorechangesList(),
      replaceOnChanges: req.getReplaceonchangesList(),
    };
    byUrn.set(urn, options);
    pending = { type: req.getType(), name: req.getName(), options };
    try {
      return register(req, (err, res) => {
        if (!err && res) onOutputs(urn, (res.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>);
        callback(err, res);
      });
    } finally {
      pending = undefined;
    }
  };
  // The engine answers this when the program is done; the SDK's mock monitor does not implement it.
  monitor.signalAndWaitForShutdown ??= (_req, callback) => callback(null, {});

  return {
    /** The options of the registration `mocks.newResource` is answering now; undefined for a read (`Resource.get`). */
    optionsFor(type: string, name: string): RegistrationOptions | undefined {
      if (!pending) return undefined;
      if (pending.type !== type || pending.name !== name) {
        throw new Error(`the offline preview lost track of ${type} ${name}: @pulumi/pulumi's mock monitor changed how it calls newResource`);
      }
      return pending.options;
    },
  };
}
