import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { atCurrentPrimary, TableContext } from '../cli/context';
import { failover, FailoverReport } from '../cli/failover';
import { rejoin } from '../cli/rejoin';
import { review } from '../cli/review';
import { scanSnapshot } from '../cli/snapshot';
import type { TableModel } from '../config/model';
import { digest, keyText } from '../handlers/attribute-values';
import type { AppliedEvent } from '../handlers/replicate';
import { LocalDeployment, startLocalDeployment } from './deployment';
import { generator } from './workload';

/** One write the application got an acknowledgement for. */
interface Ack {
  readonly key: string;
  readonly region: string;
  /** The item after the write, or undefined for a delete. */
  readonly item?: Record<string, { S: string } | { N: string }>;
  /** Whether the write counts: taken by the primary in its term (a demoted region's writes are reported instead). */
  readonly byPrimary: boolean;
  readonly phase: string;
  /** A delete of an absent item: DynamoDB changes nothing and streams no record, so there is nothing to review. */
  readonly noop?: boolean;
}

export interface DrillOptions {
  readonly table: TableModel;
  readonly clientFor: (region: string) => DynamoDBClient;
  readonly ctx: TableContext;
  readonly sqs: (region: string) => Pick<SQSClient, 'send'>;
  /** Writes per phase of live traffic. */
  readonly operations: number;
  readonly seed: number;
  readonly print: (line?: string) => void;
  readonly log: (line: Record<string, unknown>) => void;
}

/**
 * A disaster-recovery drill on the local runtime, with the table laid out as deployed (every region's
 * links, only the primary's enabled): live traffic; the primary's replication stops while it keeps
 * taking writes (an outage); an unplanned failover to a replica, with the old primary's application
 * still writing to it; the old primary coming back with its mapping still enabled and a backlog, then
 * rejoining; more traffic; and a planned failback. Passes only if every region ends with the last
 * write the primary of its time acknowledged (from the workload's own log), no write loops, and every
 * write the old primary took but could not replicate is in the review report.
 */
export async function runDrill(o: DrillOptions): Promise<boolean> {
  const { table, print } = o;
  const [A, B] = [table.primaryRegion, table.replicaRegions[0]!];
  const regions = [table.primaryRegion, ...table.replicaRegions];
  let applied = 0;
  let echoes = 0;
  const deployment = await startLocalDeployment({
    table,
    clientFor: o.clientFor,
    existing: false,
    watchStreams: true,
    // Short waits for the drill: links re-read fences every batch, and a "function timeout" of 1 s.
    handler: { fenceCacheMs: 0 },
    emulator: { pollIntervalMs: 50, discoveryIntervalMs: 200, retryDelayMs: 20, log: (l) => o.log({ component: 'emulator', ...l }) },
    handlerDeps: () => ({
      log: (l) => {
        if (l.msg === 'batch') echoes += Number(l.echoes ?? 0);
        o.log({ component: 'handler', ...l });
      },
      onApplied: (e: AppliedEvent) => void (e.outcome.status === 'applied' && applied++),
    }),
  });
  const acks: Ack[] = [];
  // Each traffic run draws from its own generator and numbers its own values, so two runs at once
  // (phase 4) write the same for the same seed whatever their interleaving.
  let runs = 0;
  const traffic = async (region: string, phase: string, operations: number, byPrimary: boolean) => {
    const c = o.clientFor(region);
    const run = runs++;
    const random = generator(o.seed, run);
    for (let i = 0; i < operations; i++) {
      const key = `user-${String(Math.floor(random() * 40)).padStart(3, '0')}`;
      const r = random();
      const v = String(run * 1_000_000 + i + 1);
      if (r < 0.15) {
        const { Attributes } = await c.send(new DeleteItemCommand({ TableName: table.name, Key: { userId: { S: key } }, ReturnValues: 'ALL_OLD' }));
        acks.push({ key, region, phase, byPrimary, ...(!Attributes && { noop: true }) });
      } else if (r < 0.5) {
        const item = { userId: { S: key }, v: { N: v }, by: { S: region } };
        await c.send(new PutItemCommand({ TableName: table.name, Item: item }));
        acks.push({ key, region, phase, byPrimary, item });
      } else {
        // An UpdateItem keeps whatever __rep_v the item carries: the trap a promoted replica sets.
        const out = await c.send(new UpdateItemCommand({ TableName: table.name, Key: { userId: { S: key } }, UpdateExpression: 'SET v = :v, #by = :by', ExpressionAttributeNames: { '#by': 'by' }, ExpressionAttributeValues: { ':v': { N: v }, ':by': { S: region } }, ReturnValues: 'ALL_NEW' }));
        const { ['__rep_v']: _, ...item } = out.Attributes as Record<string, { S: string } | { N: string }>;
        acks.push({ key, region, phase, byPrimary, item });
      }
    }
  };
  const linksOf = (region: string) => deployment.links.filter((l) => l.region === region);
  const options = { fenceCacheSeconds: 0, clockMarginSeconds: 1, segments: 4 };
  const deps = { streams: (r: string) => new DynamoDBStreamsClient({ region: r }), sqs: o.sqs, mappings: deployment.mappings, recordSeconds: deployment.recordSeconds, progress: (l: string) => print(`    ${l}`) };
  const step = (what: string) => print(`\n${what}`);
  const showFailover = (r: FailoverReport) => {
    print(`    ${r.mode} failover ${r.from} -> ${r.to}: ${r.ok ? `generation ${r.generation}, ${r.to} takes writes from ${r.startsAt}` : `REFUSED: ${r.refused}`}`);
    for (const f of r.fences) print(`    fence ${f.region}: ${f.outcome}`);
    for (const c of r.reconciled ?? []) print(`    reconciled ${c.region} from ${r.to}: ${c.repaired} repaired, ${c.newerOnReplica} held newer there (reported)`);
  };

  try {
    step(`1. Live traffic: ${o.operations} writes to ${A}, replicated to ${regions.slice(1).join(', ')}`);
    await traffic(A, 'traffic', o.operations, true);
    await deployment.waitForIdle();

    step(`2. ${A}'s replication stops (an outage) while its application keeps writing: ${Math.ceil(o.operations / 4)} writes, acknowledged, not replicated`);
    for (const l of linksOf(A)) await l.emulator.disable();
    await traffic(A, 'tail', Math.ceil(o.operations / 4), false);

    step(`3. Unplanned failover to ${B} (${A} is not called)`);
    const unplanned = await failover(o.ctx, { ...options, to: B, unplanned: true }, deps);
    showFailover(unplanned);
    if (!unplanned.ok) return false;

    step(`4. Traffic moves to ${B}; an application instance still writes to ${A}`);
    await Promise.all([traffic(B, 'after failover', o.operations, true), traffic(A, 'stray', 10, false)]);

    step(`5. ${A} comes back, its mapping still enabled (as until pulumi up runs): its backlog meets the fences`);
    for (const l of linksOf(A)) l.emulator.enable();
    await deployment.waitForIdle();
    for (const l of linksOf(A)) await l.emulator.disable();
    const afterReturn = await review(o.ctx, false);
    print(`    ${afterReturn.entries.length} review entr${afterReturn.entries.length === 1 ? 'y' : 'ies'}: ${A}'s writes fenced out, per region they could not reach (nothing of them applied to ${B} or the other replicas)`);

    step(`6. ${A} rejoins: compared with ${B}, reported, reconciled`);
    const current = await atCurrentPrimary(o.ctx);
    const back = await rejoin(current.ctx, current.fence, A, 4, new DynamoDBStreamsClient({ region: A }), deployment.recordSeconds);
    print(`    ${back.strays} write(s) taken while not primary and ${back.differences} item(s) that differed, reported; repaired ${back.reconciled.repaired}; fence ${back.fence}`);
    await traffic(B, 'after rejoin', Math.ceil(o.operations / 2), true);
    await deployment.waitForIdle();

    step(`7. Planned failback to ${A}: writes stopped, drained, then switched`);
    const planned = await failover(current.ctx, { ...options, to: A, unplanned: false }, deps);
    showFailover(planned);
    if (!planned.ok) return false;
    await traffic(A, 'after failback', Math.ceil(o.operations / 2), true);
    await deployment.waitForIdle();

    return await check(o, acks, regions, applied, echoes);
  } finally {
    await deployment.stop();
  }
}

/** Every region against the workload's log: the last write each key's primary acknowledged. */
async function check(o: DrillOptions, acks: readonly Ack[], regions: readonly string[], applied: number, echoes: number): Promise<boolean> {
  const { table, print } = o;
  const keyOf = (userId: string) => keyText({ userId: { S: userId } });
  const expected = new Map<string, string>();
  for (const a of acks.filter((x) => x.byPrimary)) expected.set(keyOf(a.key), a.item ? digest({ ...a.item }) : 'absent');
  const rules = { nowSeconds: Math.floor(Date.now() / 1000) };
  let ok = true;
  print('\nResult');
  for (const region of regions) {
    const snap = await scanSnapshot(o.clientFor(region), table.name, ['userId'], { rules });
    const keys = new Set([...expected.keys(), ...snap.states.keys()]);
    const wrong = [...keys].filter((k) => (snap.states.get(k) ?? 'absent') !== (expected.get(k) ?? 'absent'));
    ok &&= wrong.length === 0;
    print(`  ${region.padEnd(16)} ${String(snap.states.size).padStart(4)} items; ${wrong.length === 0 ? 'every key holds the last write its primary acknowledged' : `WRONG for ${wrong.length} key(s): ${wrong.slice(0, 5).join(' ')}`}`);
  }
  const reported = new Set((await review(o.ctx, false)).entries.map((e) => e.key.userId?.S));
  const unreplicated = [...new Set(acks.filter((a) => !a.byPrimary && !a.noop).map((a) => a.key))];
  const missing = unreplicated.filter((k) => !reported.has(k));
  ok &&= missing.length === 0;
  print(`  review report: every one of the ${unreplicated.length} key(s) the old primary wrote but could not replicate is listed${missing.length ? ` - NOT: ${missing.join(', ')}` : ''}`);
  const changes = acks.filter((a) => a.byPrimary).length;
  const perChange = applied / (changes * (regions.length - 1));
  ok &&= perChange <= 1;
  print(`  replica writes: ${applied} for ${changes} acknowledged change(s) to ${regions.length - 1} replica(s): ${perChange.toFixed(2)} per change and replica (coalescing keeps it under 1; a loop would not stop); ${echoes} echo record(s) skipped`);
  print(ok ? '\nDrill passed: nothing acknowledged was lost, nothing looped, every unreplicated write is reported.' : '\nDrill FAILED: see above and .ddb-replicator/local.log');
  return ok;
}
