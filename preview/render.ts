import type { Plan } from './run-program';
import type { Violation } from './policy-runner';

/** A few settings worth seeing per resource type in the plan tree. */
function keySettings(type: string, i: Record<string, any>): string {
  const on = (b: unknown) => (b ? 'on' : 'off');
  switch (type) {
    case 'aws:dynamodb/table:Table':
      return `name ${i.name}, key ${i.hashKey}${i.rangeKey ? `+${i.rangeKey}` : ''}, stream ${i.streamEnabled ? i.streamViewType : 'off'}, PITR ${on(i.pointInTimeRecovery?.enabled)}, KMS ${on(i.serverSideEncryption?.enabled)}, deletion protection ${on(i.deletionProtectionEnabled)}`;
    case 'aws:lambda/function:Function':
      return `${i.runtime}, ${i.architectures?.join(',') ?? 'x86_64'}, ${i.memorySize ?? 128} MB, ${i.timeout ?? 3} s`;
    case 'aws:lambda/eventSourceMapping:EventSourceMapping':
      return `start ${i.startingPosition}, batch ${i.batchSize ?? 100}, retries ${i.maximumRetryAttempts ?? 'infinite'}, max age ${i.maximumRecordAgeInSeconds ?? 'infinite'} s, bisect ${on(i.bisectBatchOnFunctionError)}, on-failure ${i.destinationConfig?.onFailure ? 'yes' : 'none'}`;
    case 'aws:sqs/queue:Queue':
      return `retention ${i.messageRetentionSeconds ?? 345600} s, encrypted ${on(i.sqsManagedSseEnabled || i.kmsMasterKeyId)}`;
    case 'aws:cloudwatch/metricAlarm:MetricAlarm':
      return `${i.namespace} ${i.metricName} ${i.extendedStatistic ?? i.statistic} > ${i.threshold}`;
    case 'pulumi:providers:aws':
      return `region ${i.region}`;
    default:
      return '';
  }
}

export function renderText(plan: Plan, violations: readonly Violation[], policiesRun: number): string {
  const lines = [`Offline preview of ${plan.project}, stack ${plan.stack}: ${plan.resources.length} resources (Pulumi mocks; no cloud calls)`, ''];
  const byRegion = new Map<string, Plan['resources']>();
  for (const r of plan.resources) {
    const group = r.type === 'pulumi:providers:aws' ? 'providers' : !r.custom ? 'components' : (r.region ?? 'global');
    byRegion.set(group, [...(byRegion.get(group) ?? []), r]);
  }
  const order = [...byRegion.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  for (const group of order) {
    lines.push(`${group}`);
    for (const r of [...byRegion.get(group)!].sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name))) {
      const settings = keySettings(r.type, r.inputs);
      lines.push(`  ${r.type}  ${r.name}${settings ? `  (${settings})` : ''}`);
    }
    lines.push('');
  }
  const mandatory = violations.filter((v) => v.level === 'mandatory');
  lines.push(`Policies: ${policiesRun} run, ${mandatory.length} mandatory violation(s), ${violations.length - mandatory.length} advisory`);
  for (const v of violations) lines.push(`  [${v.level}] ${v.policy}: ${v.message}${v.urn ? `\n      ${v.urn}` : ''}`);
  return lines.join('\n');
}

const rank = (group: string) => (group === 'components' ? 0 : group === 'providers' ? 1 : group === 'global' ? 3 : 2);

export function renderJson(plan: Plan, violations: readonly Violation[]): string {
  return JSON.stringify(
    {
      project: plan.project,
      stack: plan.stack,
      resources: plan.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, region: r.region ?? null, inputs: r.inputs })),
      violations,
      mandatoryViolations: violations.filter((v) => v.level === 'mandatory').length,
    },
    null,
    2,
  );
}
