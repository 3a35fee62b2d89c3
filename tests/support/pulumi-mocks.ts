import * as pulumi from '@pulumi/pulumi';

export const ACCOUNT = '123456789012';

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  /** Region of the explicit provider the resource was registered with, if any. */
  readonly region?: string;
  readonly providerRef?: string;
}

/**
 * Pulumi's documented engine-free mocks, with realistic outputs (ARNs, stream ARNs, queue URLs in
 * the right region) and every registration recorded for assertions. Call before constructing.
 */
export function useMocks(): RecordedResource[] {
  const recorded: RecordedResource[] = [];
  const providerRegions = new Map<string, string>();
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const { type, name, inputs } = args;
        if (type === 'pulumi:providers:aws') {
          const id = `provider-${name}`;
          providerRegions.set(id, inputs.region);
          recorded.push({ type, name, inputs, region: inputs.region });
          return { id, state: inputs };
        }
        const region = args.provider ? providerRegions.get(args.provider.split('::').pop()!) : undefined;
        recorded.push({ type, name, inputs, region, providerRef: args.provider });
        return { id: `${name}-id`, state: { ...inputs, ...outputsFor(type, name, inputs, region ?? 'us-east-1') } };
      },
      call(args) {
        throw new Error(`unexpected invoke ${args.token}: mock it in tests/support/pulumi-mocks.ts`);
      },
    },
    'ddb-replicator',
    'test',
    false,
  );
  return recorded;
}

function outputsFor(type: string, name: string, inputs: Record<string, any>, region: string): Record<string, unknown> {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;
  const physical = inputs.name ?? `${name}-1a2b3c4`;
  switch (type) {
    case 'aws:dynamodb/table:Table': {
      const tableArn = arn('dynamodb', `table/${physical}`);
      return { name: physical, arn: tableArn, streamArn: `${tableArn}/stream/2026-01-01T00:00:00.000`, streamLabel: '2026-01-01T00:00:00.000' };
    }
    case 'aws:sqs/queue:Queue':
      return { name: physical, arn: arn('sqs', physical), url: `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${physical}` };
    case 'aws:lambda/function:Function':
      return { name: physical, arn: arn('lambda', `function:${physical}`), invokeArn: `arn:aws:apigateway:${region}:lambda:path/functions/${arn('lambda', `function:${physical}`)}/invocations` };
    case 'aws:iam/role:Role':
      return { name: physical, arn: `arn:aws:iam::${ACCOUNT}:role/${physical}` };
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
  // waitForRPCs is internal to the SDK but exported: it is how the engine waits before exiting.
  const { waitForRPCs } = require('@pulumi/pulumi/runtime/settings') as { waitForRPCs: () => Promise<void> };
  await waitForRPCs();
}

export const ofType = (recorded: readonly RecordedResource[], type: string) => recorded.filter((r) => r.type === type);
