import { unknownValue } from '@pulumi/pulumi/runtime/rpc';
import type { Plan, PlanMode } from './run-program';
import type { PolicyOutcome, Violation } from './policy-runner';

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

const MODE_NOTE: Record<PlanMode | 'change', string> = {
  preview: 'as `pulumi preview` of a stack whose resources do not exist yet: what they only get when created (ARNs, URLs, IDs) is unknown',
  'assume-created': '--assume-created: every output known, as if every resource already existed, which is what policies see at `pulumi up`',
  change: 'as `pulumi preview` of this change: resources of the base keep their outputs, new and replaced ones are unknown until created',
};

export interface ReportContext {
  /** Set for a change plan: outputs of existing resources are known, and the plan lists the resources. */
  readonly change?: boolean;
}

export function renderText(plan: Plan, violations: readonly Violation[], outcomes: readonly PolicyOutcome[], context: ReportContext = {}): string {
  const lines = [`Offline preview of ${plan.project}, stack ${plan.stack}: ${plan.resources.length} resources (${MODE_NOTE[context.change ? 'change' : plan.mode]})`, ''];
  if (!context.change) lines.push(...resourceTree(plan));
  lines.push(...renderPolicies(plan.mode, violations, outcomes));
  return lines.join('\n');
}

function resourceTree(plan: Plan): string[] {
  const lines: string[] = [];
  const byRegion = new Map<string, Plan['resources']>();
  for (const r of plan.resources) {
    const group = r.type === 'pulumi:providers:aws' ? 'providers' : !r.custom ? 'components' : (r.region ?? 'global');
    byRegion.set(group, [...(byRegion.get(group) ?? []), r]);
  }
  const order = [...byRegion.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  for (const group of order) {
    lines.push(`${group}`);
    for (const r of [...byRegion.get(group)!].sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name))) {
      const settings = keySettings(r.type, r.inputs).replaceAll(unknownValue, '(unknown)');
      lines.push(`  ${r.type}  ${r.name}${settings ? `  (${settings})` : ''}`);
    }
    lines.push('');
  }
  return lines;
}

function renderPolicies(mode: PlanMode, violations: readonly Violation[], outcomes: readonly PolicyOutcome[]): string[] {
  const mandatory = violations.filter((v) => v.level === 'mandatory');
  const ran = outcomes.filter((o) => o.enforced !== 'disabled');
  const lines = [`Policies: ${ran.length} run, ${mandatory.length} mandatory violation(s), ${violations.length - mandatory.length} advisory`];
  const names = (os: readonly PolicyOutcome[]) => os.map((o) => o.policy).join(', ') || 'none';
  const enforced = outcomes.filter((o) => o.enforced === 'preview');
  const upOnly = outcomes.filter((o) => o.enforced === 'up-only');
  const disabled = outcomes.filter((o) => o.enforced === 'disabled');
  if (mode === 'assume-created') lines.push(`  Checked with every output known (${enforced.length}): ${names(enforced)}`);
  else {
    lines.push(`  Enforced at preview (${enforced.length}): ${names(enforced)}`);
    lines.push(`  Checked at \`pulumi up\` only (${upOnly.length}): they read values unknown until resources exist${upOnly.length ? ':' : ''}`);
    for (const o of upOnly) {
      const resources = [...new Set(o.unknownReads.map((u) => (u.urn ? u.urn.split('::').pop()! : 'the stack')))];
      lines.push(`    ${o.policy}: ${o.unknownReads[0]!.message} (${resources.slice(0, 3).join(', ')}${resources.length > 3 ? `, +${resources.length - 3} more` : ''})`);
    }
  }
  if (disabled.length) lines.push(`  Disabled by the pack config (${disabled.length}): ${names(disabled)}`);
  // The engine's "can't run during preview" notes are summarised above, one line per policy.
  for (const v of violations.filter((v) => !v.message.startsWith("can't be checked during preview"))) {
    lines.push(`  [${v.level}] ${v.policy}: ${v.message}${v.urn ? `\n      ${v.urn}` : ''}`);
  }
  return lines;
}

const rank = (group: string) => (group === 'components' ? 0 : group === 'providers' ? 1 : group === 'global' ? 3 : 2);

/** The per-policy verdict in JSON: where a policy is enforced for this program. */
function enforcement(mode: PlanMode, o: PolicyOutcome): string {
  if (o.enforced === 'disabled') return 'disabled';
  if (mode === 'assume-created') return 'all-outputs-known';
  return o.enforced;
}

export function reportJson(plan: Plan, violations: readonly Violation[], outcomes: readonly PolicyOutcome[], extra: Record<string, unknown> = {}) {
  return {
    project: plan.project,
    stack: plan.stack,
    mode: plan.mode,
    stackFile: plan.stackFile,
    resources: plan.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, region: r.region ?? null, inputs: r.inputs })),
    policies: outcomes.map((o) => ({ policy: o.policy, level: o.level, enforced: enforcement(plan.mode, o), unknownReads: o.unknownReads })),
    violations,
    mandatoryViolations: violations.filter((v) => v.level === 'mandatory').length,
    ...extra,
  };
}
