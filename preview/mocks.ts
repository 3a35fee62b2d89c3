import * as pulumi from '@pulumi/pulumi';
import { instrumentMockMonitor, RegistrationOptions } from './mock-monitor';

/** Placeholder account in every mocked ARN. */
export const ACCOUNT = '123456789012';

export interface MockedResource extends RegistrationOptions {
  readonly type: string;
  readonly name: string;
  /** Inputs as the SDK's mocks receive them (in a preview, unknowns are `pulumi.Unknown`). */
  readonly inputs: Record<string, any>;
  /** Inputs plus the outputs a provider would add (ARNs, URLs, names). */
  readonly state: Record<string, any>;
  /** The mocked resource ID; empty while unknown (a preview of a resource not yet created). */
  readonly id: string;
  /** Region of the explicit provider, or of the default provider (aws:region). */
  readonly region?: string;
  readonly custom: boolean;
  /** The provider resource's URN; undefined for a default provider. */
  readonly providerUrn?: string;
  /** Outputs as serialized on the wire, set once the registration is answered. */
  wireOutputs?: Record<string, unknown>;
}

/** A registration about to be answered, for `MockOptions.existing`. */
export type NewRegistration = Omit<MockedResource, 'state' | 'id' | 'wireOutputs'>;

export interface MockOptions {
  /** Run as `pulumi preview` does: outputs a resource only gets when it is created are unknown. */
  readonly preview?: boolean;
  /** The ID and state of a resource that already exists (a change plan's base), or undefined for a new one. */
  readonly existing?: (r: NewRegistration) => { id: string; state: Record<string, unknown> } | undefined;
}

/**
 * Pulumi's engine-free mocks with realistic outputs: ARNs, stream ARNs and queue URLs carry the
 * resource's region and a placeholder account, so policies see what they would in a real preview.
 * Every registration is recorded with its engine-side URN and resource options. `defaultRegion`
 * stands for the default provider's aws:region.
 */
export function setRealisticMocks(project: string, stack: string, defaultRegion?: string, options: MockOptions = {}): MockedResource[] {
  const recorded: MockedResource[] = [];
  const byUrn = new Map<string, MockedResource>();
  const providerRegions = new Map<string, string>();
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const { type, name, inputs } = args;
        const opts = monitor.optionsFor(type, name);
        if (!opts) return { id: args.id ?? `${name}-id`, state: inputs }; // a read (`Resource.get`): nothing to plan
        const custom = args.custom ?? true;
        const providerUrn = opts.providerRef ? opts.providerRef.slice(0, opts.providerRef.lastIndexOf('::')) : undefined;
        const isProvider = type.startsWith('pulumi:providers:');
        const region: string | undefined = isProvider
          ? inputs.region
          : typeof inputs.region === 'string'
            ? inputs.region
            : providerUrn
              ? providerRegions.get(providerUrn)
              : custom && type.startsWith('aws:')
                ? defaultRegion
                : undefined;
        if (isProvider && typeof region === 'string') providerRegions.set(opts.urn, region);
        const registration: NewRegistration = { ...opts, type, name, inputs, region, custom, providerUrn };
        const prior = options.existing?.(registration);
        let id: string;
        let state: Record<string, any>;
        if (prior) {
          ({ id, state } = { id: prior.id, state: { ...prior.state, ...inputs } });
        } else {
          const outputs = isProvider ? {} : outputsFor(type, name, inputs, region ?? defaultRegion ?? 'us-east-1');
          // At preview the engine knows inputs and the name Pulumi picks in Check; the rest comes from creating it.
          const computed = options.preview ? Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, k === 'name' || inputs[k] !== undefined ? v : pulumi.unknown])) : outputs;
          state = { ...inputs, ...computed };
          id = options.preview ? '' : isProvider ? `provider-${name}` : `${name}-id`;
        }
        const resource: MockedResource = { ...registration, state, id };
        recorded.push(resource);
        byUrn.set(opts.urn, resource);
        return { id: id || undefined, state };
      },
      call: (args) => answerInvoke(args.token, defaultRegion),
    },
    project,
    stack,
    !!options.preview,
  );
  const monitor = instrumentMockMonitor(project, stack, (urn, wireOutputs) => {
    const r = byUrn.get(urn);
    if (r) r.wireOutputs = wireOutputs;
  });
  return recorded;
}

/** The data sources a preview can answer without a cloud: who and where the caller is. */
export function answerInvoke(token: string, defaultRegion?: string): Record<string, unknown> {
  if (token === 'aws:index/getCallerIdentity:getCallerIdentity') return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/preview`, userId: 'preview' };
  if (token === 'aws:index/getRegion:getRegion') return { name: defaultRegion ?? 'us-east-1', region: defaultRegion ?? 'us-east-1' };
  if (token === 'aws:index/getPartition:getPartition') return { partition: 'aws', dnsSuffix: 'amazonaws.com' };
  throw new Error(`the offline preview cannot answer ${token}: it has no cloud access`);
}

/** The outputs a provider adds to a created resource's inputs: names, ARNs and URLs in `region`. */
export function outputsFor(type: string, name: string, inputs: Record<string, any>, region: string): Record<string, unknown> {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;
  const physical = inputs.name ?? `${name}-1a2b3c4`;
  switch (type) {
    case 'aws:dynamodb/table:Table': {
      const tableArn = arn('dynamodb', `table/${physical}`);
      return { name: physical, arn: tableArn, ...(inputs.streamEnabled && { streamArn: `${tableArn}/stream/2026-01-01T00:00:00.000`, streamLabel: '2026-01-01T00:00:00.000' }) };
    }
    case 'aws:sqs/queue:Queue':
      return { name: physical, arn: arn('sqs', physical), url: `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${physical}` };
    case 'aws:lambda/function:Function':
      return { name: physical, arn: arn('lambda', `function:${physical}`) };
    case 'aws:iam/role:Role':
      return { name: physical, arn: `arn:aws:iam::${ACCOUNT}:role/${physical}` };
    case 'aws:iam/policy:Policy':
      return { name: physical, arn: `arn:aws:iam::${ACCOUNT}:policy/${physical}` };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { name: physical, arn: arn('logs', `log-group:${physical}`) };
    case 'aws:cloudwatch/metricAlarm:MetricAlarm':
      return { name: physical, arn: arn('cloudwatch', `alarm:${physical}`) };
    case 'aws:sns/topic:Topic':
      return { name: physical, arn: arn('sns', physical) };
    case 'aws:sns/topicSubscription:TopicSubscription':
      return { arn: arn('sns', `${name}:subscription`) };
    case 'aws:lambda/eventSourceMapping:EventSourceMapping':
      return { uuid: `${name}-uuid`, arn: arn('lambda', `event-source-mapping:${name}-uuid`) };
    default:
      return {};
  }
}

/** Waits until every registration the program started has been answered by the mocks. */
export async function settled(): Promise<void> {
  // waitForRPCs is internal to the SDK but exported: it is how the SDK waits before disconnecting.
  const { waitForRPCs } = require('@pulumi/pulumi/runtime/settings') as { waitForRPCs: () => Promise<void> };
  await waitForRPCs();
}
