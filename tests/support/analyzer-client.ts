import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as grpcTypes from '@grpc/grpc-js';
import type * as analyzerProto from '@pulumi/pulumi/proto/analyzer_pb';
import type * as structProto from 'google-protobuf/google/protobuf/struct_pb';
import { PACK_DIR } from './policy-pack-deps';

// The stubs that ship in the pack's own @pulumi/pulumi, with the grpc-js and google-protobuf copies
// they were generated against (a message from another copy would fail their instanceof checks).
const sdkRequire = createRequire(join(PACK_DIR, 'node_modules/@pulumi/pulumi/package.json'));
const grpc = sdkRequire('@grpc/grpc-js') as typeof grpcTypes;
const pb = sdkRequire('./proto/analyzer_pb') as typeof analyzerProto;
const { AnalyzerClient } = sdkRequire('./proto/analyzer_grpc_pb') as { AnalyzerClient: grpcTypes.ServiceClientConstructor };
const { Struct } = sdkRequire('google-protobuf/google/protobuf/struct_pb') as typeof structProto;
const { Empty } = sdkRequire('google-protobuf/google/protobuf/empty_pb') as typeof import('google-protobuf/google/protobuf/empty_pb');

export type Level = 'advisory' | 'mandatory' | 'disabled' | 'remediate';
const LEVELS: Record<number, Level> = { [pb.EnforcementLevel.ADVISORY]: 'advisory', [pb.EnforcementLevel.MANDATORY]: 'mandatory', [pb.EnforcementLevel.DISABLED]: 'disabled', [pb.EnforcementLevel.REMEDIATE]: 'remediate' };

export interface Diagnostic {
  readonly policy: string;
  readonly level: Level;
  readonly message: string;
  readonly urn: string;
}

/** A resource as the engine describes it to an analyzer: type, URN, properties and options. */
export interface AnalyzedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly properties: Record<string, unknown>;
  readonly parent?: string;
  readonly protect?: boolean;
  readonly ignoreChanges?: string[];
  readonly deleteBeforeReplace?: boolean;
  readonly additionalSecretOutputs?: string[];
  readonly aliases?: string[];
  readonly customTimeouts?: { create: number; update: number; delete: number };
  readonly provider?: { type: string; name: string; urn: string; properties: Record<string, unknown> };
  readonly dependencies?: string[];
}

/** Pulumi's analyzer protocol (analyzer.proto), spoken as the engine speaks it to a policy pack. */
export class AnalyzerConnection {
  private readonly client: grpcTypes.Client & Record<string, (req: unknown, cb: (err: grpcTypes.ServiceError | null, res: never) => void) => void>;

  constructor(address: string) {
    this.client = new AnalyzerClient(address, grpc.credentials.createInsecure()) as never;
  }

  async info(): Promise<{ name: string; version: string; policies: { name: string; level: Level; description: string }[] }> {
    const info = await this.call<analyzerProto.AnalyzerInfo>('getAnalyzerInfo', new Empty());
    return { name: info.getName(), version: info.getVersion(), policies: info.getPoliciesList().map((p) => ({ name: p.getName(), level: LEVELS[p.getEnforcementlevel()]!, description: p.getDescription() })) };
  }

  /** Per-resource policies, called with a resource's inputs before it is created or updated. */
  async analyze(r: AnalyzedResource): Promise<Diagnostic[]> {
    const req = new pb.AnalyzeRequest().setType(r.type).setName(r.name).setUrn(r.urn).setProperties(Struct.fromJavaScript(r.properties as never)).setOptions(options(r));
    if (r.provider) req.setProvider(provider(r.provider));
    return diagnostics(await this.call<analyzerProto.AnalyzeResponse>('analyze', req));
  }

  /** Stack policies, called once with every resource's outputs at the end of a preview or update. */
  async analyzeStack(resources: AnalyzedResource[]): Promise<Diagnostic[]> {
    const list = resources.map((r) => {
      const res = new pb.AnalyzerResource().setType(r.type).setName(r.name).setUrn(r.urn).setProperties(Struct.fromJavaScript(r.properties as never)).setOptions(options(r));
      res.setParent(r.parent ?? '').setDependenciesList(r.dependencies ?? []);
      if (r.provider) res.setProvider(provider(r.provider));
      return res;
    });
    return diagnostics(await this.call<analyzerProto.AnalyzeResponse>('analyzeStack', new pb.AnalyzeStackRequest().setResourcesList(list)));
  }

  close(): void {
    this.client.close();
  }

  private call<T>(method: string, req: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => this.client[method]!(req, (err, res) => (err ? reject(err) : resolve(res as T))));
  }
}

/** Resource options as the engine fills them (step_generator.go): custom timeouts only when set. */
function options(r: AnalyzedResource): analyzerProto.AnalyzerResourceOptions {
  const o = new pb.AnalyzerResourceOptions()
    .setProtect(r.protect ?? false)
    .setIgnorechangesList(r.ignoreChanges ?? [])
    .setAdditionalsecretoutputsList(r.additionalSecretOutputs ?? [])
    .setAliasesList(r.aliases ?? [])
    .setParent(r.parent ?? '');
  if (r.deleteBeforeReplace !== undefined) o.setDeletebeforereplace(r.deleteBeforeReplace).setDeletebeforereplacedefined(true);
  if (r.customTimeouts) o.setCustomtimeouts(new pb.AnalyzerResourceOptions.CustomTimeouts().setCreate(r.customTimeouts.create).setUpdate(r.customTimeouts.update).setDelete(r.customTimeouts.delete));
  return o;
}

function provider(p: NonNullable<AnalyzedResource['provider']>): analyzerProto.AnalyzerProviderResource {
  return new pb.AnalyzerProviderResource().setType(p.type).setName(p.name).setUrn(p.urn).setProperties(Struct.fromJavaScript(p.properties as never));
}

function diagnostics(res: analyzerProto.AnalyzeResponse): Diagnostic[] {
  return res.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), level: LEVELS[d.getEnforcementlevel()]!, message: d.getMessage(), urn: d.getUrn() }));
}
