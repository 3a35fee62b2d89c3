import * as pulumi from '@pulumi/pulumi';

/** Placeholder account in every mocked ARN. */
export const ACCOUNT = '123456789012';

export interface MockedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  /** Inputs plus the outputs a provider would add (ARNs, URLs, names). */
  readonly state: Record<string, any>;
  /** Region of the explicit provider, or of the default provider (aws:region). */
  readonly region?: string;
  readonly custom: boolean;
}

/**
 * Pulumi's engine-free mocks with realistic outputs: ARNs, stream ARNs and queue URLs carry the
 * resource's region and a placeholder account, so policies see what they would in a real preview.
 * Every registration is recorded. `defaultRegion` stands for the default provider's aws:region.
 */
export function setRealisticMocks(project: string, stack: string, defaultRegion?: string): MockedResource[] {
  const recorded: MockedResource[] = [];
  const providerRegions = new Map<string, string>();
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const { type, name, inputs } = args;
        if (type === 'pulumi:providers:aws') {
          const id = `provider-${name}`;
          providerRegions.set(id, inputs.region);
          recorded.push({ type, name, inputs, state: inputs, region: inputs.region, custom: true });
          return { id, state: inputs };
        }
        const region = args.provider ? providerRegions.get(args.provider.split('::').pop()!) : args.custom && type.startsWith('aws:') ? defaultRegion : undefined;
        const state = { ...inputs, ...outputsFor(type, name, inputs, region ?? defaultRegion ?? 'us-east-1') };
        recorded.push({ type, name, inputs, state, region, custom: args.custom ?? true });
        return { id: `${name}-id`, state };
      },
      call: (args) => answerInvoke(args.token, defaultRegion),
    },
    project,
    stack,
    false,
  );
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
      return { name: `/aws/lambda/${physical}`, arn: arn('logs', `log-group:/aws/lambda/${physical}`) };
    case 'aws:cloudwatch/metricAlarm:MetricAlarm':
      return { name: physical, arn: arn('cloudwatch', `alarm:${physical}`) };
    case 'aws:sns/topic:Topic':
      return { name: physical, arn: arn('sns', physical) };
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
