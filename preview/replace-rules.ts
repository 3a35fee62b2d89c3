/**
 * Which input changes make the engine replace a resource instead of updating it in place, for the
 * resource types this project uses. pulumi-aws (v7) is bridged from the Terraform AWS provider (v6),
 * whose `ForceNew: true` schema attributes are the replace-on-change inputs; read from
 * hashicorp/terraform-provider-aws internal/service/<service>/<resource>.go (dynamodb/table.go,
 * sqs/queue.go, sns/topic.go, sns/topic_subscription.go, lambda/event_source_mapping.go,
 * lambda/function.go, iam/role.go, iam/role_policy.go, logs/group.go, cloudwatch/metric_alarm.go),
 * with pulumi-aws's property names (`topic_arn` -> `topic`, `function_name` and `alarm_name` -> `name`).
 */
export const FORCE_NEW: Readonly<Record<string, readonly string[]>> = {
  // restoreSourceName is ForceNewIfChange to a non-empty value; importTable's s3BucketSource is ForceNew.
  'aws:dynamodb/table:Table': ['name', 'hashKey', 'rangeKey', 'localSecondaryIndexes', 'restoreDateTime', 'restoreToLatestTime', 'restoreSourceName', 'importTable'],
  'aws:sqs/queue:Queue': ['name', 'namePrefix', 'fifoQueue'],
  'aws:sns/topic:Topic': ['name', 'namePrefix', 'fifoTopic'],
  'aws:sns/topicSubscription:TopicSubscription': ['topic', 'protocol', 'endpoint'],
  'aws:lambda/eventSourceMapping:EventSourceMapping': [
    'eventSourceArn',
    'startingPosition',
    'startingPositionTimestamp',
    'queues',
    'topics',
    'selfManagedEventSource',
    'selfManagedKafkaEventSourceConfig',
    'amazonManagedKafkaEventSourceConfig',
  ],
  'aws:lambda/function:Function': ['name', 'packageType', 'tenancyConfig'],
  'aws:iam/role:Role': ['name', 'namePrefix', 'path'],
  'aws:iam/rolePolicy:RolePolicy': ['name', 'namePrefix', 'role'],
  'aws:cloudwatch/logGroup:LogGroup': ['name', 'namePrefix', 'logGroupClass'],
  'aws:cloudwatch/metricAlarm:MetricAlarm': ['name'],
};

/**
 * Provider config keys whose change makes the provider's DiffConfig ask for a replacement, which the
 * engine cascades to every resource of that provider (step_generator.go providerChanged). pulumi-aws
 * v7 marks none: region lost ForcesProviderReplace when v7 gave every regional resource its own
 * `region` input (pulumi/pulumi-aws#5656), which it fills from the provider before Check
 * (provider/region.go), and "changing the value of region will force resource replacement"
 * (terraform-provider-aws guides/enhanced-region-support). So a region change replaces each
 * regional resource through `region`, and updates the provider.
 */
export const PROVIDER_FORCE_NEW: Readonly<Record<string, readonly string[]>> = {
  'pulumi:providers:aws': [],
};

/** AWS services whose resources have no region (enhanced-region-support: "Global services"). */
const GLOBAL_SERVICES = ['iam', 'cloudfront', 'route53', 'route53domains', 'organizations', 'globalaccelerator', 'shield', 'budgets', 'costexplorer', 'account'];

/** Whether a resource lives in one region, so that moving it to another replaces it. */
export function isRegional(type: string): boolean {
  const [pkg, mod] = type.split(':');
  if (pkg !== 'aws' || !mod) return false;
  return !GLOBAL_SERVICES.includes(mod.split('/')[0]!.toLowerCase());
}

/**
 * DynamoDB cannot change the type of an attribute the table's key uses, and the provider's update
 * would fail on it (`attribute` is not ForceNew): the only way to apply it is a new table, so it is
 * planned as a replacement. Returns the reason, or undefined.
 */
export function tableKeyTypeChange(oldInputs: Record<string, unknown>, newInputs: Record<string, unknown>): string | undefined {
  const typeOf = (inputs: Record<string, unknown>, attr: unknown) =>
    (inputs.attributes as { name?: unknown; type?: unknown }[] | undefined)?.find((a) => a?.name === attr)?.type;
  for (const key of [newInputs.hashKey, newInputs.rangeKey]) {
    if (typeof key !== 'string' || (key !== oldInputs.hashKey && key !== oldInputs.rangeKey)) continue;
    const before = typeOf(oldInputs, key);
    const after = typeOf(newInputs, key);
    if (before !== undefined && after !== undefined && before !== after) return `key attribute ${key} type ${String(before)} -> ${String(after)}`;
  }
  return undefined;
}
