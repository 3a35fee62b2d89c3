import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { linksFrom } from '../config/links';
import { linkNames, stateTableName } from '../config/names';
import { keyText, toEventItem } from '../handlers/attribute-values';
import { Fence, initialFence, nextFence, raiseFence, readFence } from '../handlers/fence';
import { ReviewEntry, writeReviewEntries } from '../handlers/review';
import { compareVersions, encodeVersion, readVersion } from '../handlers/versions';
import { CliError, TableContext } from './context';
import { changedSince, checkDrained, findStrays, PendingChange, RecordSeconds } from './drain';
import { MappingChange, MappingControl } from './mappings';
import { reconcile, ReconcileReport } from './reconcile';
import { verify } from './verify';
import { sdkDynamo } from '../handlers/dynamo-sdk';

export interface FailoverOptions {
  readonly to: string;
  /** The old primary is down: do not call its region; reconcile the reachable replicas from the new primary. */
  readonly unplanned: boolean;
  /** How long links may trust a cached fence (the deployed FENCE_CACHE_SECONDS). */
  readonly fenceCacheSeconds: number;
  /** Allowance for clocks (this machine's, DynamoDB's stamps) that disagree. */
  readonly clockMarginSeconds: number;
  readonly segments: number;
  /** Planned: how long after the new term starts to wait for the replicas to hold the old primary's last changes (default 60). */
  readonly drainWaitSeconds?: number;
}

export interface FailoverDeps {
  readonly streams: (region: string) => Pick<DynamoDBStreamsClient, 'send'>;
  readonly sqs: (region: string) => Pick<SQSClient, 'send'>;
  readonly mappings: MappingControl;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** When a record was written, epoch seconds (default its ApproximateCreationDateTime). */
  readonly recordSeconds?: RecordSeconds;
  readonly progress?: (line: string) => void;
}

type FenceRead = { region: string; status: 'read'; fence: Fence | undefined } | { region: string; status: 'not called' } | { region: string; status: 'unreachable'; detail: string };

export interface FailoverReport {
  readonly table: string;
  readonly mode: 'planned' | 'unplanned';
  readonly from: string;
  readonly to: string;
  readonly ok: boolean;
  /** Why the failover was not done, when it was not. */
  readonly refused?: string;
  readonly generation?: number;
  /** When the new primary takes writes (ISO 8601). */
  readonly startsAt?: string;
  readonly checks: { check: string; ok: boolean; detail: string }[];
  readonly fences: { region: string; outcome: 'raised' | 'current' | 'newer' | 'behind' | 'not called' | 'unreachable'; generation?: number; detail?: string }[];
  readonly mappings: { region: string; functionName: string; change: MappingChange | 'failed'; detail?: string }[];
  /** Planned, when the replicas did not get them: the old primary's changes written before the new term (keys only). */
  readonly pending?: PendingChange[];
  readonly reconciled?: (ReconcileReport & { newerOnReplica: number })[];
  /** What the operator does next. */
  readonly next: string[];
}

/**
 * Moves a table's primary to another region without losing acknowledged writes:
 * - planned: every region must answer and the old primary must be drained now (its DLQs empty,
 *   every replica holding the last change of every item of its stream), else it refuses and changes
 *   nothing. Then every fence gets a new term that starts once no link can act on the old one (fence
 *   cache + function timeout + clock margin); the old primary's links go on replicating its term
 *   until the handover (the start less the timeout and margin), the new primary's mappings are
 *   enabled, and once the term starts it checks again that every replica holds each change the old
 *   primary took before it. Only then are the old primary's mappings disabled;
 * - unplanned: no call to the old primary's region (the primary the reachable fences name); the
 *   reachable fences are raised, the new primary's mappings enabled, and once the term starts the
 *   reachable replicas are reconciled from the new primary, reporting items where a replica held a
 *   newer old-term version than the new primary.
 */
export async function failover(ctx: TableContext, opts: FailoverOptions, deps: FailoverDeps): Promise<FailoverReport> {
  const { table } = ctx;
  const regions = [table.primaryRegion, ...table.replicaRegions];
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const progress = deps.progress ?? (() => undefined);
  if (!regions.includes(opts.to)) throw new CliError(`--to ${opts.to} is not a region of ${table.name}: use one of ${regions.join(', ')}`);
  const mode: FailoverReport['mode'] = opts.unplanned ? 'unplanned' : 'planned';
  const state = stateTableName(table.name);

  const read = await readFences(ctx, regions, opts);
  const fences = read.flatMap((r) => (r.status === 'read' && r.fence ? [r.fence] : []));
  const current = fences.reduce<Fence | undefined>((a, f) => (!a || f.generation > a.generation ? f : a), undefined) ?? initialFence(table.primaryRegion);
  const from = current.primary;
  const report = { table: table.name, mode, from, to: opts.to, checks: [] as FailoverReport['checks'], fences: [] as FailoverReport['fences'], mappings: [] as FailoverReport['mappings'], next: [] as string[] };
  const refuse = (why: string): FailoverReport => ({ ...report, ok: false, refused: why });

  if (opts.to === from) return refuse(`${opts.to} is the primary already (generation ${current.generation})`);
  const unreachable = read.flatMap((r) => (r.status === 'unreachable' ? [r] : []));
  if (!opts.unplanned && unreachable.length) {
    return refuse(`${unreachable.map((r) => r.region).join(', ')} did not answer (${unreachable[0]!.detail}): a planned failover needs every region; if ${from} is down, use --unplanned`);
  }
  const target = read.find((r) => r.region === opts.to)!;
  if (target.status !== 'read') return refuse(`${opts.to} did not answer: it cannot become primary now`);
  if ((target.fence?.generation ?? 1) < current.generation) {
    return refuse(`${opts.to} missed generation ${current.generation} (its fence is at ${target.fence?.generation ?? 1}): run \`ddb-replicator rejoin --region ${opts.to}\` first`);
  }

  const admitted = read.filter((r) => r.status === 'read' && (r.fence?.generation ?? 1) === current.generation).map((r) => r.region);
  const replicas = admitted.filter((r) => r !== from);
  // The new primary must hold nothing the old one does not: writes it took while not primary.
  const strays = await findStrays(ctx, deps.streams(opts.to), opts.to, target.fence ?? current, target.fence, deps.recordSeconds);
  if (strays.length && !opts.unplanned) {
    return refuse(`${opts.to} took ${strays.length} write(s) while it was not primary (keys ${strays.slice(0, 3).map((s) => JSON.stringify(s.key)).join(', ')}): run \`ddb-replicator rejoin --region ${opts.to}\` first, which reports and reconciles them`);
  }
  if (strays.length) await writeReviewEntries(sdkDynamo(ctx.client(opts.to)), state, strays, Math.floor(now() / 1000));
  if (!opts.unplanned) {
    progress(`checking that ${from} is drained (its DLQs, and its stream against every replica)...`);
    const depth = await dlqDepth(ctx, from, deps.sqs(from));
    report.checks.push({ check: 'DLQs empty', ok: depth.messages === 0, detail: depth.messages === 0 ? `${depth.queues} queue(s) empty` : `${depth.messages} failed batch(es) waiting: run \`ddb-replicator redrive\` first` });
    const drain = await checkDrained(ctx, deps.streams(from), from, current, replicas, deps.recordSeconds);
    report.checks.push({
      check: 'replicas hold every change',
      ok: drain.drained,
      detail: drain.drained
        ? `every replica holds the last change of each of the ${drain.changes} change(s) in ${from}'s stream`
        : `${describePending(drain.pending)}: stop writes to ${from}, let replication catch up, and run again`,
    });
    if (report.checks.some((c) => !c.ok)) return refuse(report.checks.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`).join('; '));
  }

  // The term starts once every link has read the raised fences (cache) and finished a batch begun before (timeout);
  // until the handover, the old primary's links still replicate what it wrote in its term.
  const waitSeconds = opts.fenceCacheSeconds + table.lambda.timeoutSeconds + opts.clockMarginSeconds;
  const start = Math.ceil((now() + waitSeconds * 1000) / 1000);
  const raised = nextFence(current, opts.to, start, start - table.lambda.timeoutSeconds - opts.clockMarginSeconds, regions);
  for (const r of read) {
    if (r.status !== 'read') {
      report.fences.push({ region: r.region, outcome: r.status, ...(r.status === 'unreachable' && { detail: r.detail }) });
      continue;
    }
    // A region that missed an earlier failover stays behind: raised now, links would overwrite what it took unreported.
    if ((r.fence?.generation ?? 1) < current.generation) {
      report.fences.push({ region: r.region, outcome: 'behind', generation: r.fence?.generation ?? 1, detail: `missed generation ${current.generation}: run \`ddb-replicator rejoin --region ${r.region}\`` });
      continue;
    }
    // Raising keeps the region's own rejoin mark: what it reported then is not found again as strays.
    const { outcome, fence } = await raiseFence(sdkDynamo(ctx.client(r.region)), state, raised);
    report.fences.push({ region: r.region, outcome, generation: fence.generation });
    if (outcome === 'newer') return refuse(`${r.region} already holds generation ${fence.generation} (primary ${fence.primary}): another failover ran meanwhile; read it with \`ddb-replicator status\``);
  }

  const switchLinks = async (region: string, enabled: boolean) => {
    for (const { slot } of linksFrom(region, regions, table.linkSlots)) {
      const { functionName } = linkNames(table.name, region, slot);
      try {
        report.mappings.push({ region, functionName, change: await deps.mappings.setEnabled(region, functionName, enabled) });
      } catch (err) {
        report.mappings.push({ region, functionName, change: 'failed', detail: `${(err as Error).name}: ${(err as Error).message}` });
      }
    }
  };
  await switchLinks(opts.to, true);

  const startsAt = new Date(start * 1000).toISOString();
  progress(`generation ${raised.generation}: ${opts.to} takes writes from ${startsAt}; waiting ${waitSeconds} s for every link to see the fences...`);
  await sleep(Math.max(0, start * 1000 - now()));

  let pending: PendingChange[] = [];
  if (!opts.unplanned) {
    // The old links stay enabled until every replica holds what the old primary took in its term.
    const bound = now() + (opts.drainWaitSeconds ?? 60) * 1000;
    progress(`checking that every replica holds each change ${from} took before ${startsAt} (up to ${opts.drainWaitSeconds ?? 60} s)...`);
    for (;;) {
      pending = (await checkDrained(ctx, deps.streams(from), from, current, replicas, deps.recordSeconds, start)).pending;
      // An item the application wrote on the new primary in its term supersedes the old primary's change there.
      const superseded = pending.some((p) => p.region === opts.to) ? await changedSince(ctx, deps.streams(opts.to), opts.to, start, deps.recordSeconds) : new Set<string>();
      pending = pending.filter((p) => !(p.region === opts.to && superseded.has(keyText(p.key))));
      if (pending.length === 0 || now() >= bound) break;
      await sleep(1000);
    }
    report.checks.push({
      check: 'replicas hold every change of the old term',
      ok: pending.length === 0,
      detail: pending.length === 0 ? `every replica holds each change ${from} took before ${startsAt}` : describePending(pending),
    });
    if (pending.length === 0) await switchLinks(from, false);
  }

  let reconciled: FailoverReport['reconciled'];
  if (opts.unplanned) {
    reconciled = [];
    for (const region of admitted.filter((r) => r !== opts.to)) reconciled.push(await levelFrom(ctx, opts.to, region, raised, opts.segments));
  }
  const failedMappings = report.mappings.filter((m) => m.change === 'failed' || m.change === 'missing');
  const keys = [...new Set(pending.map((p) => JSON.stringify(p.key)))];
  report.next.push(
    `${opts.to} is the primary from ${startsAt} (generation ${raised.generation}): point the application's writes at it.`,
    ...(pending.length
      ? [
          `The fences cannot be lowered, and ${from}'s links can no longer deliver its term's changes; its mappings stay enabled so that they record each one in the review report. ${keys.length} item(s) ${from} acknowledged before ${startsAt} are not on every replica (keys ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', ...' : ''}): list them with \`ddb-replicator review\`, read each from ${from} and write it again on ${opts.to}, which replicates it everywhere.`,
        ]
      : []),
    opts.unplanned
      ? `Before any \`pulumi up\`, commit primaryRegion: ${opts.to} (and ${from} among replicaRegions) in Pulumi.<stack>.yaml: an up with the old config would switch the mappings back.`
      : `Commit primaryRegion: ${opts.to} (and ${from} among replicaRegions) in Pulumi.<stack>.yaml, then \`pulumi up\`: its plan shows only the mappings switching${pending.length ? ` (it disables ${from}'s)` : ''}.`,
    `Keep writes to ${from} stopped: anything written there now is fenced out of replication and reported by \`ddb-replicator review\`.`,
    ...(opts.unplanned ? [`When ${from} is back, run \`ddb-replicator rejoin --region ${from}\`: it reports and reconciles what ${from} holds differently, and only then can ${from} be primary again.`] : []),
    ...failedMappings.map((m) => `The mapping of ${m.functionName} in ${m.region} was not switched (${m.change}${m.detail ? `: ${m.detail}` : ''}): switch it with the Lambda console or API.`),
  );
  return {
    ...report,
    ok: failedMappings.length === 0 && pending.length === 0,
    generation: raised.generation,
    startsAt,
    ...(pending.length && { pending }),
    ...(reconciled && { reconciled }),
  };
}

/**
 * Every region's fence. Unplanned, the old primary is the one the new primary's fence names (the
 * highest generation a failover can go on from), or the configured one where no fence exists yet:
 * that region is never called.
 */
async function readFences(ctx: TableContext, regions: readonly string[], opts: FailoverOptions): Promise<FenceRead[]> {
  const state = stateTableName(ctx.table.name);
  const readOne = async (region: string): Promise<FenceRead> => {
    try {
      return { region, status: 'read', fence: await readFence(sdkDynamo(ctx.client(region)), state) };
    } catch (err) {
      return { region, status: 'unreachable', detail: `${(err as Error).name}: ${(err as Error).message}` };
    }
  };
  if (!opts.unplanned) return Promise.all(regions.map(readOne));
  const target = await readOne(opts.to);
  const down = (target.status === 'read' && target.fence?.primary) || ctx.table.primaryRegion;
  return Promise.all(regions.map((r) => (r === opts.to ? target : r === down ? { region: r, status: 'not called' as const } : readOne(r))));
}

function describePending(pending: readonly PendingChange[]): string {
  const oldest = pending.reduce((m, p) => Math.min(m, p.writtenAt), Infinity);
  return `${new Set(pending.map((p) => p.seq)).size} change(s) not on ${[...new Set(pending.map((p) => p.region))].join(', ')} yet (the oldest written ${new Date(oldest * 1000).toISOString()})`;
}

/** Failed batches waiting in a region's link DLQs. */
async function dlqDepth(ctx: TableContext, region: string, sqs: Pick<SQSClient, 'send'>): Promise<{ queues: number; messages: number }> {
  let messages = 0;
  let queues = 0;
  for (const { slot } of linksFrom(region, [ctx.table.primaryRegion, ...ctx.table.replicaRegions], ctx.table.linkSlots)) {
    const QueueName = linkNames(ctx.table.name, region, slot).queueName;
    let url: string | undefined;
    try {
      url = (await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl;
    } catch (err) {
      if (!/NonExistentQueue|QueueDoesNotExist/.test((err as Error).name)) throw err;
    }
    if (!url) continue;
    queues++;
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    messages += Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  }
  return { queues, messages };
}

/**
 * Makes a replica equal the new primary, first reporting every item where the replica held a newer
 * version of an older term than the primary: a write the old primary replicated there and not to
 * the new primary, which the new primary's state now replaces.
 */
export async function levelFrom(ctx: TableContext, primary: string, region: string, fence: Fence, segments: number): Promise<ReconcileReport & { newerOnReplica: number }> {
  const asPrimary: TableContext = { ...ctx, table: { ...ctx.table, primaryRegion: primary, replicaRegions: [ctx.table.primaryRegion, ...ctx.table.replicaRegions].filter((r) => r !== primary) } };
  const { reports, source, replicas } = await verify(asPrimary, [region], segments, true);
  const entries: ReviewEntry[] = [];
  for (const text of [...reports[0]!.missing, ...reports[0]!.different, ...reports[0]!.extra]) {
    const keys = source.keys.get(text) ?? replicas.get(region)!.keys.get(text)!;
    const get = async (r: string) => (await ctx.client(r).send(new GetItemCommand({ TableName: ctx.table.name, Key: keys, ConsistentRead: true }))).Item;
    const [onPrimary, onReplica] = await Promise.all([get(primary), get(region)]);
    const p = readVersion(onPrimary);
    const v = readVersion(onReplica);
    if (v && v.gen < fence.generation && (!p || compareVersions(v, p) > 0)) {
      entries.push({ kind: 'newer-on-replica', key: toEventItem(keys), region, target: primary, version: encodeVersion(v), detail: p ? `primary holds ${encodeVersion(p)}` : 'primary holds no version of it' });
    }
  }
  if (entries.length) await writeReviewEntries(sdkDynamo(ctx.client(primary)), stateTableName(ctx.table.name), entries, Math.floor(Date.now() / 1000));
  const [repaired] = await reconcile(asPrimary, [region], segments, true);
  return { ...repaired!, newerOnReplica: entries.length };
}
