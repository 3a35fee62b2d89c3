import { CloudWatchClient, DescribeAlarmsCommand, GetMetricStatisticsCommand, MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { linksFrom } from '../config/links';
import type { TableModel } from '../config/model';
import { linkNames, stateTableName } from '../config/names';
import { PublishedStatus, readPublishedStatus } from '../local/status-publisher';
import { CliError, TableContext } from './context';

export interface LinkStatus {
  readonly functionName?: string;
  /** Maximum IteratorAge over the last 5 minutes, ms; undefined when idle (no data). */
  readonly iteratorAgeMs?: number;
  readonly dlq?: { readonly name: string; readonly messages: number };
  readonly alarms: { readonly name: string; readonly state: string }[];
}

/** `status` on AWS: per link of the primary region, and what needs attention (exit 1 when any). */
export interface CloudStatusReport {
  readonly source: 'aws';
  readonly region: string;
  readonly links: LinkStatus[];
  readonly problems: string[];
}

/** `status --endpoint`: a local pipeline's published figures, with whether it still runs. */
export interface LocalStatusReport {
  readonly source: 'local';
  readonly endpoint: string;
  /** Every link's heartbeat is recent. */
  readonly running: boolean;
  readonly links: (PublishedStatus & { readonly running: boolean; readonly heartbeatAgeMs: number })[];
  readonly problems: string[];
}

/** A heartbeat older than this (and than 3 intervals) means the pipeline is not running. */
export const STALE_AFTER_MS = 5000;

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
  if (alarms.length === 0) throw new CliError(`no alarms of ${table.name}'s links in ${table.primaryRegion}: deploy the stack (pulumi up), or pass --endpoint for a local run`);
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

/** Firing alarms (state ALARM) and DLQ messages (discarded batches not redriven yet) are problems. */
export async function cloudStatusReport(table: TableModel, clients: Parameters<typeof cloudStatus>[1], now = new Date()): Promise<CloudStatusReport> {
  const links = await cloudStatus(table, clients, now);
  const problems: string[] = [];
  for (const l of links) {
    const name = l.functionName ?? '(function unknown)';
    for (const a of l.alarms.filter((a) => a.state === 'ALARM')) problems.push(`${name}: alarm ${a.name} is firing`);
    if (l.dlq?.messages) problems.push(`${name}: ${l.dlq.messages} discarded batch(es) in DLQ ${l.dlq.name}: run \`ddb-replicator redrive\``);
  }
  return { source: 'aws', region: table.primaryRegion, links, problems };
}

export function renderStatus(table: string, links: LinkStatus[], problems: string[] = []): string {
  const lines = [`${table}: ${links.length} replication link(s)`];
  for (const l of links) {
    lines.push(`  ${l.functionName ?? '(function unknown)'}: iterator age ${l.iteratorAgeMs === undefined ? 'idle' : `${l.iteratorAgeMs} ms`}, DLQ ${l.dlq ? `${l.dlq.messages} message(s)` : 'unknown'}`);
    const notOk = l.alarms.filter((a) => a.state !== 'OK');
    lines.push(`    alarms: ${l.alarms.length - notOk.length}/${l.alarms.length} OK${notOk.length ? `; ${notOk.map((a) => `${a.name} ${a.state}`).join(', ')}` : ''}`);
  }
  return [...lines, ...problemLines(problems)].join('\n');
}

/**
 * Reads the figures a local pipeline (npm start) publishes in the primary's state table at the
 * endpoint: live while its heartbeat is recent, otherwise the last known ones, said to be so.
 */
export async function localStatus(ctx: TableContext, endpoint: string, now = Date.now()): Promise<LocalStatusReport> {
  const t = ctx.table;
  const slots = linksFrom(t.primaryRegion, [t.primaryRegion, ...t.replicaRegions], t.linkSlots).map((l) => l.slot);
  const start = `start one with \`npm start -- --watch\` and pass the DynamoDB endpoint it prints`;
  let published: PublishedStatus[];
  try {
    published = await readPublishedStatus(ctx.client(t.primaryRegion), t.name, t.primaryRegion, slots);
  } catch (err) {
    const e = err as Error & { code?: string; cause?: { code?: string } };
    const code = e.code ?? e.cause?.code;
    // npm start's own DynamoDB Local stops with it: nothing answering there is the usual sign of a stopped pipeline.
    if ((code && /^E[A-Z]+$/.test(code)) || e.name === 'TimeoutError') throw new CliError(`nothing answers at ${endpoint} (${code ?? e.name}): the local pipeline is not running; ${start}`);
    if (e.name !== 'ResourceNotFoundException') throw err;
    throw new CliError(`no table ${stateTableName(t.name)} in ${t.primaryRegion} at ${endpoint}: no local pipeline of ${t.name} runs there; ${start}`);
  }
  if (published.length === 0) throw new CliError(`no local pipeline has published figures for ${t.name} at ${endpoint}: ${start}`);
  const links = published.map((p) => {
    const heartbeatAgeMs = Math.max(0, now - Date.parse(p.updatedAt));
    return { ...p, running: !p.stoppedAt && heartbeatAgeMs <= Math.max(STALE_AFTER_MS, 3 * p.intervalMs), heartbeatAgeMs };
  });
  const problems: string[] = [];
  for (const l of links) {
    const age = seconds(l.heartbeatAgeMs);
    if (!l.running) problems.push(`${l.link}: the local pipeline is not running (${l.stoppedAt ? `stopped ${seconds(now - Date.parse(l.stoppedAt))} ago` : `no heartbeat for ${age}`}); the figures are the last known, ${age} old`);
    const waiting = l.dlq?.messages === undefined ? undefined : l.dlq.messages + (l.dlq.inFlight ?? 0);
    const redrive = `run \`npx ddb-replicator redrive --endpoint ${endpoint}${l.dlq?.sqsEndpoint ? ` --sqs-endpoint ${l.dlq.sqsEndpoint}` : ''}\``;
    if (l.records.discarded > 0 && (waiting === undefined || waiting > 0)) {
      problems.push(`${l.link}: ${l.records.discarded} record(s) discarded in ${l.onFailureMessages} on-failure message(s)${waiting === undefined ? '' : `, ${waiting} in the DLQ`}: ${redrive}`);
    } else if (waiting) problems.push(`${l.link}: ${waiting} message(s) in the DLQ: ${redrive}`);
    if (l.records.dropped > 0) problems.push(`${l.link}: ${l.records.dropped} discarded record(s) reached no on-failure destination: run \`npx ddb-replicator reconcile --endpoint ${endpoint}\``);
    if (l.invocations.failedLastMinute > 0) problems.push(`${l.link}: ${l.invocations.failedLastMinute} failed invocation(s) in the last minute (retried; causes in .ddb-replicator/local.log)`);
  }
  return { source: 'local', endpoint, running: links.every((l) => l.running), links, problems };
}

export function renderLocalStatus(table: string, r: LocalStatusReport): string {
  const lines = [`${table} (local pipeline at ${r.endpoint}): ${r.running ? 'running' : 'NOT running'}`];
  for (const l of r.links) {
    lines.push(`  ${l.link}: ${l.running ? `live, updated ${seconds(l.heartbeatAgeMs)} ago` : `last known figures, ${seconds(l.heartbeatAgeMs)} old`}`);
    lines.push(`    records delivered ${l.records.delivered}, discarded ${l.records.discarded} (${l.onFailureMessages} on-failure message(s), ${l.records.dropped} dropped)`);
    lines.push(`    invocations ${l.invocations.total} (${l.invocations.failed} failed, ${l.invocations.failedLastMinute} in the last minute)`);
    lines.push(`    iterator age ${l.iteratorAgeMs} ms at the last invocation${l.invocations.lastAt ? ` (${l.invocations.lastAt})` : ''}, max ${l.maxIteratorAgeMs} ms`);
    for (const t of l.targets) lines.push(`    -> ${t.region}: applied ${t.applied}, failed ${t.failed}, stale skipped ${t.staleSkipped}, conflicts ${t.conflicts}`);
    if (l.dlq) lines.push(`    DLQ ${l.dlq.url}: ${l.dlq.messages === undefined ? 'depth unknown' : `${l.dlq.messages} message(s)${l.dlq.inFlight ? `, ${l.dlq.inFlight} in flight` : ''}`}`);
  }
  return [...lines, ...problemLines(r.problems)].join('\n');
}

const problemLines = (problems: string[]) => (problems.length ? ['Needs attention:', ...problems.map((p) => `  - ${p}`)] : ['No problems.']);
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
