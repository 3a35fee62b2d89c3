import { CloudWatchClient, DescribeAlarmsCommand, GetMetricStatisticsCommand, MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { existsSync, readFileSync } from 'node:fs';
import { CliError } from './context';

export interface LinkStatus {
  readonly functionName?: string;
  /** Maximum IteratorAge over the last 5 minutes, ms; undefined when idle (no data). */
  readonly iteratorAgeMs?: number;
  readonly dlq?: { readonly name: string; readonly messages: number };
  readonly alarms: { readonly name: string; readonly state: string }[];
}

/**
 * Per link of a table: iterator age (CloudWatch), DLQ depth (SQS) and alarm states, found through
 * the alarms this project creates (named after the table's links, dimensions naming the function and queue).
 */
export async function cloudStatus(table: string, clients: { cloudwatch: Pick<CloudWatchClient, 'send'>; sqs: Pick<SQSClient, 'send'> }, now = new Date()): Promise<LinkStatus[]> {
  const alarms: MetricAlarm[] = [];
  let NextToken: string | undefined;
  do {
    const page = await clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: `${table}-to-`, NextToken }));
    alarms.push(...(page.MetricAlarms ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  if (alarms.length === 0) throw new CliError(`no alarms named ${table}-to-* in this region: is the stack deployed, and is the region the table's primary?`);
  const links = new Map<string, MetricAlarm[]>();
  for (const a of alarms) {
    const link = /^(.*?-to-.*?)-(iterator-age|dlq-messages|errors|throttles|latency-.*|conflicts-.*)(-[0-9a-f]{7})?$/.exec(a.AlarmName ?? '')?.[1] ?? a.AlarmName!;
    links.set(link, [...(links.get(link) ?? []), a]);
  }
  return Promise.all(
    [...links.values()].map(async (group) => {
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
