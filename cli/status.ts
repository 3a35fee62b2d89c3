import { CloudWatchClient, DescribeAlarmsCommand, GetMetricStatisticsCommand, MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { existsSync, readFileSync } from 'node:fs';
import { linksFrom } from '../config/links';
import type { TableModel } from '../config/model';
import { linkNames } from '../config/names';
import { CliError } from './context';

export interface LinkStatus {
  readonly functionName?: string;
  /** Maximum IteratorAge over the last 5 minutes, ms; undefined when idle (no data). */
  readonly iteratorAgeMs?: number;
  readonly dlq?: { readonly name: string; readonly messages: number };
  readonly alarms: { readonly name: string; readonly state: string }[];
}

/**
 * Per link of the primary region: iterator age (CloudWatch), DLQ depth (SQS) and alarm states,
 * found through the alarms this project creates (config/names.ts names them; their dimensions name
 * the function and the queue).
 */
export async function cloudStatus(table: TableModel, clients: { cloudwatch: Pick<CloudWatchClient, 'send'>; sqs: Pick<SQSClient, 'send'> }, now = new Date()): Promise<LinkStatus[]> {
  const regions = [table.primaryRegion, ...table.replicaRegions];
  const links = linksFrom(table.primaryRegion, regions, table.linkSlots).map(({ slot, targets }) => {
    const n = linkNames(table.name, table.primaryRegion, slot);
    return ['iterator-age', 'dlq-messages', 'errors', 'throttles', ...targets.flatMap((t) => [`latency-${t}`, `conflicts-${t}`])].map(n.alarmName);
  });
  const alarms: MetricAlarm[] = [];
  const all = links.flat();
  for (let i = 0; i < all.length; i += 100) {
    const page = await clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: all.slice(i, i + 100) }));
    alarms.push(...(page.MetricAlarms ?? []));
  }
  if (alarms.length === 0) throw new CliError(`no alarms of ${table.name}'s links in ${table.primaryRegion}: is the stack deployed?`);
  return Promise.all(
    links.map((names) => alarms.filter((a) => names.includes(a.AlarmName ?? ''))).filter((g) => g.length > 0).map(async (group) => {
      const dim = (metric: string, name: string) => group.find((a) => a.MetricName === metric)?.Dimensions?.find((d) => d.Name === name)?.Value;
      const functionName = dim('IteratorAge', 'FunctionName');
      const queueName = dim('ApproximateNumberOfMessagesVisible', 'QueueName');
      let iteratorAgeMs: number | undefined;
      if (functionName) {
        const stats = await clients.cloudwatch.send(
          new GetMetricStatisticsCommand({ Namespace: 'AWS/Lambda', MetricName: 'IteratorAge', Dimensions: [{ Name: 'FunctionName', Value: functionName }], StartTime: new Date(now.getTime() - 5 * 60_000), EndTime: now, Period: 300, Statistics: ['Maximum'] }),
        );
        iteratorAgeMs = stats.Datapoints?.reduce<number | undefined>((m, d) => Math.max(m ?? 0, d.Maximum ?? 0), undefined);
      }
      let dlq: LinkStatus['dlq'];
      if (queueName) {
        const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
        const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
        dlq = { name: queueName, messages: Number(Attributes?.ApproximateNumberOfMessages ?? 0) };
      }
      return { functionName, iteratorAgeMs, dlq, alarms: group.map((a) => ({ name: a.AlarmName!, state: a.StateValue ?? 'UNKNOWN' })) };
    }),
  );
}

export function renderStatus(table: string, links: LinkStatus[]): string {
  const lines = [`${table}: ${links.length} replication link(s)`];
  for (const l of links) {
    lines.push(`  ${l.functionName ?? '(function unknown)'}: iterator age ${l.iteratorAgeMs === undefined ? 'idle' : `${l.iteratorAgeMs} ms`}, DLQ ${l.dlq ? `${l.dlq.messages} message(s)` : 'unknown'}`);
    const firing = l.alarms.filter((a) => a.state !== 'OK');
    lines.push(`    alarms: ${l.alarms.length - firing.length}/${l.alarms.length} OK${firing.length ? `; ${firing.map((a) => `${a.name} ${a.state}`).join(', ')}` : ''}`);
  }
  return lines.join('\n');
}

/** The local runtime (npm start) writes its emulator's figures here while it runs. */
export const localStatusFile = (dir: string, table: string) => `${dir}/.ddb-replicator/status-${table}.json`;

export function localStatus(dir: string, table: string): string {
  const file = localStatusFile(dir, table);
  if (!existsSync(file)) throw new CliError(`no local status for ${table} (${file}): is \`npm start -- --watch\` running in ${dir}?`);
  const s = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { updatedAt: string; emulator: Record<string, number> };
  const e = s.emulator;
  return [
    `${table} (local emulator, updated ${s.updatedAt}):`,
    `  records delivered ${e.recordsCommitted}, invocations ${e.invocations} (${e.failedInvocations} failed), discarded ${e.recordsDiscarded} in ${e.onFailureMessages} on-failure message(s)`,
    `  iterator age ${e.iteratorAgeMs} ms (max ${e.maxIteratorAgeMs} ms; DynamoDB Local rounds record times to the minute)`,
  ].join('\n');
}
