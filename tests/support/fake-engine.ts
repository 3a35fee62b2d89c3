import { createRequire } from 'node:module';
import type * as grpcTypes from '@grpc/grpc-js';
import type * as engineProto from '@pulumi/pulumi/proto/engine_pb';
import type * as resourceProto from '@pulumi/pulumi/proto/resource_pb';
import type * as structProto from 'google-protobuf/google/protobuf/struct_pb';

/** The sentinel the SDK sends (and the engine passes on to policy packs) for a value unknown at preview. */
export { unknownValue as UNKNOWN } from '@pulumi/pulumi/runtime/rpc';

/** One RegisterResource call as the engine receives it: inputs raw, unknowns as the UNKNOWN sentinel. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly parent: string;
  readonly custom: boolean;
  /** `urn::id` of the explicit provider, or empty for the default provider. */
  readonly provider: string;
  readonly inputs: Record<string, unknown>;
  readonly dependencies: readonly string[];
  readonly protect: boolean;
  /**
   * What the engine answered for a custom resource: its inputs in a preview (the provider's computed
   * outputs unknown, left out), inputs plus `outputsFor` in an update. Empty for a component, whose
   * outputs are its RegisterResourceOutputs (see {@link FakeEngine.resourceOutputs}).
   */
  readonly outputs: Record<string, unknown>;
}

export interface EngineLog {
  readonly severity: 'debug' | 'info' | 'warning' | 'error';
  readonly message: string;
  readonly urn: string;
}

/** What the fake answers for a created resource: the outputs a provider adds to the inputs. */
export type OutputsFor = (type: string, name: string, inputs: Record<string, any>, region: string) => Record<string, unknown>;
/** What the fake answers for an invoke (a data source such as aws:index/getCallerIdentity). */
export type InvokeAnswer = (token: string, args: Record<string, unknown>) => Record<string, unknown>;

export interface FakeEngineOptions {
  readonly project: string;
  readonly stack: string;
  /** `pulumi preview`: new resources get no outputs and no ID, so the SDK treats them as unknown. */
  readonly dryRun: boolean;
  /** Region of resources on the default provider (the stack's aws:region). */
  readonly defaultRegion: string;
  readonly outputsFor: OutputsFor;
  readonly invoke: InvokeAnswer;
}

export interface FakeEngine {
  /** Both services listen here, on 127.0.0.1. */
  readonly address: string;
  readonly registrations: Registration[];
  readonly logs: EngineLog[];
  /** RegisterResourceOutputs calls by URN (the stack's exports are on the pulumi:pulumi:Stack URN). */
  readonly resourceOutputs: Map<string, Record<string, unknown>>;
  readonly unanswered: string[];
  stop(): Promise<void>;
}

// The SDK's own stubs and the grpc-js/google-protobuf copies they were generated against.
const sdkRequire = createRequire(require.resolve('@pulumi/pulumi/package.json'));
const grpc = sdkRequire('@grpc/grpc-js') as typeof grpcTypes;
const resproto = sdkRequire('./proto/resource_pb') as typeof resourceProto;
const resgrpc = sdkRequire('./proto/resource_grpc_pb') as { ResourceMonitorService: grpcTypes.ServiceDefinition };
const engproto = sdkRequire('./proto/engine_pb') as typeof engineProto;
const enggrpc = sdkRequire('./proto/engine_grpc_pb') as { EngineService: grpcTypes.ServiceDefinition };
const { Struct } = sdkRequire('google-protobuf/google/protobuf/struct_pb') as typeof structProto;
const { Empty } = sdkRequire('google-protobuf/google/protobuf/empty_pb') as typeof import('google-protobuf/google/protobuf/empty_pb');

const SEVERITY = ['debug', 'info', 'warning', 'error'] as const;

type Unary<Req, Res> = (call: grpcTypes.ServerUnaryCall<Req, Res>, callback: grpcTypes.sendUnaryData<Res>) => void;

/**
 * A minimal Pulumi engine for a program started by `@pulumi/pulumi/cmd/run`: the ResourceMonitor
 * (features, registrations, invokes, shutdown) and the Engine service (logs, root resource), on one
 * gRPC server on 127.0.0.1. It answers as the CLI's engine does for resources that do not exist yet:
 * in a preview with inputs only (so outputs are unknown to the program), otherwise with inputs plus
 * `outputsFor`. Methods it does not implement answer UNIMPLEMENTED (as an older CLI would), and
 * requests it cannot answer (an unknown invoke) fail; both are listed in `unanswered`.
 */
export async function startFakeEngine(opts: FakeEngineOptions): Promise<FakeEngine> {
  const registrations: Registration[] = [];
  const logs: EngineLog[] = [];
  const resourceOutputs = new Map<string, Record<string, unknown>>();
  const unanswered: string[] = [];
  const providerRegions = new Map<string, string>();
  let rootUrn = '';
  let nextId = 1;

  const guard =
    <Req, Res>(name: string, handle: (req: Req) => Res): Unary<Req, Res> =>
    (call, callback) => {
      try {
        callback(null, handle(call.request));
      } catch (err) {
        unanswered.push(`${name}: ${(err as Error).message}`);
        callback({ code: grpc.status.INTERNAL, details: (err as Error).message });
      }
    };

  const F = resproto.ResourceMonitorFeature;
  const monitor = {
    // Features the CLI's engine has had for years; output values stay off so unknowns reach us as the plain sentinel.
    getDeploymentInfo: guard<InstanceType<typeof Empty>, resourceProto.DeploymentInfo>('getDeploymentInfo', () =>
      new resproto.DeploymentInfo()
        .setProject(opts.project)
        .setStack(opts.stack)
        .setDryrun(opts.dryRun)
        .setSupportedfeaturesList([F.RESOURCE_MONITOR_FEATURE_SECRETS, F.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES, F.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS, F.RESOURCE_MONITOR_FEATURE_DELETED_WITH]),
    ),
    // Older SDKs ask feature by feature instead.
    supportsFeature: guard<resourceProto.SupportsFeatureRequest, resourceProto.SupportsFeatureResponse>('supportsFeature', (req) =>
      new resproto.SupportsFeatureResponse().setHassupport(['secrets', 'resourceReferences', 'aliasSpecs', 'deletedWith'].includes(req.getId())),
    ),
    registerResource: guard<resourceProto.RegisterResourceRequest, resourceProto.RegisterResourceResponse>('registerResource', (req) => {
      const type = req.getType();
      const name = req.getName();
      const parent = req.getParent();
      const inputs = (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
      const urn = urnOf(opts, type, name, parent);
      const custom = req.getCustom();
      const record = (outputs: Record<string, unknown>) =>
        registrations.push({ type, name, urn, parent, custom, provider: req.getProvider(), inputs, dependencies: req.getDependenciesList(), protect: req.getProtect() ?? false, outputs });
      if (type === 'pulumi:pulumi:Stack') rootUrn = urn;
      const res = new resproto.RegisterResourceResponse().setUrn(urn);
      if (!custom) {
        record({});
        return res.setObject(Struct.fromJavaScript({}));
      }
      // A preview of a new resource (provider or not): inputs echoed, ID and computed outputs unknown (left out).
      const id = opts.dryRun ? '' : `${name}-id-${nextId++}`;
      if (type.startsWith('pulumi:providers:')) {
        providerRegions.set(urn, String(inputs.region ?? opts.defaultRegion));
        record(inputs);
        return res.setId(id).setObject(Struct.fromJavaScript(inputs as never));
      }
      if (opts.dryRun) {
        record(inputs);
        return res.setObject(Struct.fromJavaScript(inputs as never));
      }
      // pulumi-aws v7: a resource's own `region` input wins over its provider's region.
      const region = (typeof inputs.region === 'string' ? inputs.region : undefined) ?? providerRegions.get(providerUrn(req.getProvider())) ?? opts.defaultRegion;
      const outputs = { ...inputs, ...opts.outputsFor(type, name, inputs, region) };
      record(outputs);
      return res.setId(id).setObject(Struct.fromJavaScript(outputs as never));
    }),
    registerResourceOutputs: guard<resourceProto.RegisterResourceOutputsRequest, InstanceType<typeof Empty>>('registerResourceOutputs', (req) => {
      resourceOutputs.set(req.getUrn(), (req.getOutputs()?.toJavaScript() ?? {}) as Record<string, unknown>);
      return new Empty();
    }),
    invoke: guard<resourceProto.ResourceInvokeRequest, resourceProto.ResourceInvokeResponse>('invoke', (req) =>
      new resproto.ResourceInvokeResponse().setReturn(Struct.fromJavaScript(opts.invoke(req.getTok(), (req.getArgs()?.toJavaScript() ?? {}) as Record<string, unknown>) as never)),
    ),
    signalAndWaitForShutdown: guard<InstanceType<typeof Empty>, InstanceType<typeof Empty>>('signalAndWaitForShutdown', () => new Empty()),
  };
  const engine = {
    log: guard<engineProto.LogRequest, InstanceType<typeof Empty>>('log', (req) => {
      logs.push({ severity: SEVERITY[req.getSeverity()] ?? 'error', message: req.getMessage(), urn: req.getUrn() });
      return new Empty();
    }),
    getRootResource: guard<engineProto.GetRootResourceRequest, engineProto.GetRootResourceResponse>('getRootResource', () => new engproto.GetRootResourceResponse().setUrn(rootUrn)),
    setRootResource: guard<engineProto.SetRootResourceRequest, engineProto.SetRootResourceResponse>('setRootResource', (req) => {
      rootUrn = req.getUrn();
      return new engproto.SetRootResourceResponse();
    }),
  };

  const server = new grpc.Server();
  server.addService(resgrpc.ResourceMonitorService, withUnimplemented(resgrpc.ResourceMonitorService, monitor, unanswered));
  server.addService(enggrpc.EngineService, withUnimplemented(enggrpc.EngineService, engine, unanswered));
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    address: `127.0.0.1:${port}`,
    registrations,
    logs,
    resourceOutputs,
    unanswered,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** Every other method answers UNIMPLEMENTED (as an older CLI would) and is recorded. */
function withUnimplemented(service: grpcTypes.ServiceDefinition, impl: Record<string, unknown>, unanswered: string[]): grpcTypes.UntypedServiceImplementation {
  const all: grpcTypes.UntypedServiceImplementation = {};
  for (const [method, def] of Object.entries(service)) {
    all[method] =
      (impl[method] as grpcTypes.UntypedHandleCall | undefined) ??
      (((_call: unknown, callback: grpcTypes.sendUnaryData<unknown>) => {
        unanswered.push(def.path);
        callback({ code: grpc.status.UNIMPLEMENTED, details: `${def.path} is not implemented by the test engine` });
      }) as grpcTypes.UntypedHandleCall);
  }
  return all;
}

/** A provider reference is `<provider URN>::<provider ID>`; the ID is the unknown sentinel at preview. */
export const providerUrn = (ref: string) => ref.slice(0, ref.lastIndexOf('::'));

/** URNs as the engine builds them: a child's type is qualified by its parent's type chain. */
function urnOf(opts: FakeEngineOptions, type: string, name: string, parent: string): string {
  const stackPrefix = `urn:pulumi:${opts.stack}::${opts.project}::`;
  const parentTypes = parent && parent.startsWith(stackPrefix) && !parent.includes('::pulumi:pulumi:Stack::') ? `${parent.slice(stackPrefix.length).split('::')[0]}$` : '';
  return `${stackPrefix}${parentTypes}${type}::${name}`;
}
