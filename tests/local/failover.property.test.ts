import { strict as assert } from 'node:assert';
import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import fc from 'fast-check';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atCurrentPrimary, tableContext } from '../../cli/context';
import { failover } from '../../cli/failover';
import { rejoin } from '../../cli/rejoin';
import { review } from '../../cli/review';
import { scanSnapshot } from '../../cli/snapshot';
import { stateTableName } from '../../config/names';
import { forEachRecord } from '../../cli/drain';
import { digest, keyText } from '../../handlers/attribute-values';
import { readFence } from '../../handlers/fence';
import type { Change } from '../../handlers/plan';
import type { RecordedReview } from '../../handlers/review';
import { decodeVersion, encodeVersion, padSeq, readVersion } from '../../handlers/versions';
import { startLocalDeployment } from '../../local/deployment';
import { chaosSettings, mulberry32, propertyRuns, propertySeed } from '../support/chaos';
import { client, uniqueName } from '../support/ddb';
import { freshDynamoDbLocal, freshDynamoDbLocalEvery, localEndpoint } from '../support/setup';
import { sdkDynamo } from '../../handlers/dynamo-sdk';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const KEYS = 3;

type Step =
  /** The application writes to the primary, or (`former`) to a demoted primary still taking writes. */
  | { kind: 'write'; op: 'put' | 'update' | 'delete'; key: number; at: 'primary' | 'former' }
  /** One of the primary's links stops for a while: links lag differently. */
  | { kind: 'pause'; slot: number }
  | { kind: 'resume' }
  /** A failover to another region; `oldLinkRuns`: the old primary's mappings keep running for a while (pulumi up, or an outage that ends). */
  | { kind: 'failover'; to: number; planned: boolean; oldLinkRuns: boolean }
  /** A region that missed a failover comes back. */
  | { kind: 'rejoin' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('write' as const), op: fc.constantFrom('put' as const, 'update' as const, 'delete' as const), key: fc.nat(KEYS - 1), at: fc.constantFrom('primary' as const, 'primary' as const, 'former' as const) }), weight: 12 },
  { arbitrary: fc.record({ kind: fc.constant('pause' as const), slot: fc.nat(1) }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'resume' as const }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('failover' as const), to: fc.nat(REGIONS.length - 1), planned: fc.boolean(), oldLinkRuns: fc.boolean() }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'rejoin' as const }), weight: 1 },
);
/** At least one failover in each history, up to three (failovers and failbacks). */
const history = fc.array(step, { minLength: 4, maxLength: 30 }).filter((h) => h.some((s) => s.kind === 'failover') && h.filter((s) => s.kind === 'failover').length <= 3);

/**
 * Which mappings read besides the primary's: only those the failover command switches (`primary`), or
 * every region's, all the time (`all`: mappings left enabled by mistake, or several `pulumi up`s
 * in flight), so that three regions' links run at once: in a quarter of the runs (they cost half as much again).
 */
const layout = fc.constantFrom('primary' as const, 'primary' as const, 'primary' as const, 'all' as const);
type Layout = typeof layout extends fc.Arbitrary<infer T> ? T : never;
type Chaos = typeof chaosSettings extends fc.Arbitrary<infer T> ? T : never;

const RUNS = propertyRuns(500, 40);

const calm: Chaos = { seed: 1, batchSize: 4, bisect: false, parallelizationFactor: 1, throwBefore: 0, throwAfter: 0, spuriousRewind: 0, duplicate: 0, catchUp: false };
const write = (op: 'put' | 'update' | 'delete', key: number, at: 'primary' | 'former' = 'primary'): Step => ({ kind: 'write', op, key, at });
const failoverTo = (to: number, planned: boolean, oldLinkRuns = false): Step => ({ kind: 'failover', to, planned, oldLinkRuns });
/** Histories that once failed, always run first. */
const examples: [Step[], Chaos, Layout][] = [
  // A later failover's raised fence dropped the region's rejoin mark: what its rejoin had reported was found again, refusing its promotion.
  [[failoverTo(1, false, true), { kind: 'rejoin' }, failoverTo(2, true), failoverTo(0, true), write('put', 0)], { ...calm, batchSize: 1 }, 'primary'],
  // Replication's deletion of an item the old primary wrote itself (no __rep_v) was a stray there: the planned failback was refused.
  [[write('put', 1), failoverTo(1, true), write('delete', 1), failoverTo(0, true)], calm, 'primary'],
  // A demoted primary's write, then overwritten by replication from the new primary: reported all the same, with its version.
  [[failoverTo(1, true), write('put', 1, 'former'), write('update', 1)], calm, 'primary'],
  // Three regions' links live through two failovers.
  [[write('put', 0), write('update', 1), failoverTo(1, true), write('update', 0), write('delete', 1), failoverTo(2, false), write('put', 1, 'former'), write('delete', 0)], calm, 'all'],  // A write a region took in the second after its rejoin was never found as a stray (the rejoin was marked at the next second).
  [[failoverTo(1, true), write('put', 1, 'former'), { kind: 'rejoin' }, write('put', 2, 'former'), write('update', 2)], calm, 'primary'],
  // A failover raised the fence of a region that missed an earlier one: links overwrote its unreplicated tail before it rejoined.
  [[write('put', 0), { kind: 'pause', slot: 0 }, { kind: 'pause', slot: 1 }, write('put', 1), failoverTo(1, false), failoverTo(2, false), write('put', 1)], calm, 'primary'],
  // A primary whose links never finished a batch had no fence: the new primary's link created it as a copy of its own.
  [[{ kind: 'pause', slot: 0 }, { kind: 'pause', slot: 1 }, write('put', 1), failoverTo(2, false), write('put', 1)], calm, 'primary'],
  // A region's second rejoin-diff of an item replaced its first where neither carried a version.
  [[{ kind: 'pause', slot: 0 }, { kind: 'pause', slot: 1 }, write('put', 1), failoverTo(1, false), { kind: 'rejoin' }, write('put', 1, 'former')], calm, 'primary'],
  // A region with no fence of its own took the primary's rejoin mark, which was another region's: its stray went unreported.
  [[failoverTo(2, false), write('put', 0, 'former'), failoverTo(1, false), write('put', 0), write('put', 0), failoverTo(2, false), { kind: 'pause', slot: 0 }], { ...calm, seed: 0, batchSize: 1 }, 'primary'],
  // The primary deleted the same state twice (it was back after two failovers): two changes, not one change written twice.
  [[write('put', 0), { kind: 'pause', slot: 1 }, write('delete', 0), failoverTo(1, false), failoverTo(0, false), write('delete', 0), write('put', 0), write('put', 0), { kind: 'resume' }], { ...calm, seed: 155922278, batchSize: 1, throwAfter: 0.16 }, 'all'],
];


/** Each run creates six tables (three with a stream): a fresh DynamoDB Local every 100 runs keeps it at its first speed. */
const freshEvery100 = freshDynamoDbLocalEvery(100);

describe('failover: fences, terms and review (property, DynamoDB Local, three regions)', function () {
  this.timeout(RUNS * 20_000);

  before(async function () {
    this.timeout(120_000);
    await freshDynamoDbLocal();
  });

  it(`replicas converge on the current primary, versions never go back, no acknowledged write of a primary is lost, nothing writes into the primary, one replica write per change, every other write is reported with its version (${RUNS} runs)`, async () => {
    await fc.assert(fc.asyncProperty(history, chaosSettings, layout, (steps, c, links) => run(steps, c, links)), { numRuns: RUNS, examples, ...propertySeed() });
  });

  // Pending until fixed: each fails today on its own bug (the others let pass), naming the write it loses.
});

/** One replica write, as the handler reported it through `onApplied`. */
interface Applied {
  readonly source: string;
  readonly target: string;
  readonly key: string;
  /** The application change the write carries (its last one): see `changeId`. */
  readonly change: string;
  readonly version: string;
  /** The region whose term had started when the write was made. */
  readonly primary: string;
  /** The target had missed a failover and not rejoined yet when the write was made. */
  readonly missed: boolean;
}

/** An application change by what it wrote: each put and update writes a new `v`; a deletion names the `v` it deleted. */
const changeId = (key: string, ch: Pick<Change, 'eventName' | 'before' | 'after'>) => (ch.eventName === 'REMOVE' ? `delete ${key} of v${ch.before?.v?.N}` : `v${ch.after?.v?.N}`);

/** The stream sequence number a review entry names: `fenced` and `newer-on-replica` carry a version, `stray` and `old-term` the record's own. */
function sequenceOf(e: RecordedReview): string | undefined {
  if (!e.version) return undefined;
  if (e.kind === 'fenced' || e.kind === 'newer-on-replica') return decodeVersion(e.version)?.seq;
  if (e.kind === 'stray' || e.kind === 'old-term') return padSeq(e.version);
  return undefined;
}

let runCount = 0;

async function run(steps: Step[], c: Chaos, links: Layout): Promise<void> {
  await freshEvery100();
  const name = uniqueName('Fp');
  const spec = { name, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: REGIONS[0]!, replicaRegions: REGIONS.slice(1) };
  const dir = mkdtempSync(join(tmpdir(), 'failover-property-'));
  writeFileSync(join(dir, 'Pulumi.test.yaml'), `config:\n  ddb-replicator:tables:\n    - name: ${name}\n      partitionKey: { name: pk, type: S }\n      primaryRegion: ${REGIONS[0]}\n      replicaRegions: [${REGIONS.slice(1).join(', ')}]\n      lambda: { timeoutSeconds: 1 }\n`);
  const ctx = tableContext({ stack: 'test', endpoint: localEndpoint(), projectDir: dir });
  // Virtual time: a failover's wait advances the clock once every invocation in flight has ended.
  let offset = 0;
  const now = () => Date.now() + offset;
  /** Invocations begun so far: a jump of the clock waits until none begins any more (see `deps.sleep`). */
  let invocations = 0;
  const random = mulberry32(c.seed);
  /** Per region and key, the versions replication wrote there (deletions included), in the order they landed. */
  const written = new Map<string, string[]>();
  /** Every replica write, checked at the end against the application's changes. */
  const applied: Applied[] = [];
  /** The region whose term has started: it switches when a failover's wait for its new term ends. */
  let termPrimary = REGIONS[0]!;
  /** Regions an unplanned failover left behind, until they rejoin: no link writes into them meanwhile. */
  const missed = new Set<string>();
  let switchingTo: string | undefined;
  const t0 = Date.now();
  const deployment = await startLocalDeployment({
    table: spec,
    clientFor: client,
    watchStreams: true,
    clock: now,
    handler: { fenceCacheMs: 0 },
    mapping: { batchSize: c.batchSize, bisectBatchOnFunctionError: c.bisect, parallelizationFactor: c.parallelizationFactor, maximumRetryAttempts: -1, maximumRecordAgeInSeconds: -1 },
    emulator: { pollIntervalMs: 10, discoveryIntervalMs: 30, retryDelayMs: 0, log: () => undefined },
    handlerDeps: (link) => ({
      log: () => undefined,
      onApplied: ({ target, plan, outcome }) => {
        if (outcome.status !== 'applied') return;
        const version = encodeVersion(plan.version);
        applied.push({ source: link.region, target: target.region, key: plan.key, change: changeId(plan.key, plan.changes.at(-1)!), version, primary: termPrimary, missed: missed.has(target.region) });
        const at = `${target.region} ${plan.key}`;
        written.set(at, [...(written.get(at) ?? []), version]);
      },
    }),
    wrapInvoke: (_link, invoke) => async (event: DynamoDBStreamEvent) => {
      invocations++;
      if (random() < c.throwBefore) throw new Error('injected: failed before any write');
      if (random() < c.duplicate) await invoke(event);
      const response = (await invoke(event)) as DynamoDBBatchResponse;
      if (random() < c.throwAfter) throw new Error('injected: failed after writing');
      if (random() < c.spuriousRewind && response.batchItemFailures.length === 0) {
        const r = event.Records[Math.floor(random() * event.Records.length)]!;
        return { batchItemFailures: [{ itemIdentifier: r.dynamodb!.SequenceNumber! }] };
      }
      return response;
    },
  });
  const deps = {
    streams: (region: string) => new DynamoDBStreamsClient({ region }),
    sqs: () => ({ send: async () => ({}) }) as never, // no DLQ exists: every batch is retried until it succeeds
    mappings: deployment.mappings,
    recordSeconds: deployment.recordSeconds,
    now,
    sleep: async (ms: number) => {
      // A wait ends only after every invocation begun before it (the function timeout bounds each): one that began while
      // the clock was about to jump, on the fences of that moment, ends before the jump too. (A failover's handover lets
      // the old primary's links replicate until shortly before the new term; none of their writes may land after it.)
      for (let seen = -1; seen !== invocations; ) {
        seen = invocations;
        await deployment.settle();
      }
      offset += ms;
    },
  };
  /** The failover's own wait: once it ends, the new primary's term has started. */
  const failoverDeps = {
    ...deps,
    sleep: async (ms: number) => {
      await deps.sleep(ms);
      if (switchingTo) termPrimary = switchingTo;
    },
  };
  const linksOf = (region: string) => deployment.links.filter((l) => l.region === region);
  /** With every region's links live, a region that is not primary keeps its mappings enabled (the primary's may be paused). */
  const liveLinks = () => {
    if (links === 'all') for (const l of deployment.links) if (l.region !== primary && !l.emulator.enabled) l.emulator.enable();
  };

  let primary = REGIONS[0]!;
  let former: string | undefined;
  /** The state each key should end in: what the primary of each term acknowledged. */
  const model = new Map<string, string>();
  /** Per term: the last write the primary acknowledged per key, to check after an unplanned failover. */
  let termWrites = new Map<string, string>();
  /**
   * Every application change, as `<region> <changeId>`, with how many there were: two regions may delete
   * the same state, and so may one region twice (the state was back after failovers).
   */
  const changes = new Map<string, number>();
  const changed = (id: string) => changes.set(id, (changes.get(id) ?? 0) + 1);
  /** Keys of writes replication did not carry, whose item the region's rejoin must report if it still differs: per region, until it rejoins. */
  const toReport = new Map<string, Set<string>>();
  /** What each rejoin must report: the differing item with the region's version and both states' digests. */
  const rejoinDiffs: { region: string; primary: string; key: string; version: string | undefined; detail: string }[] = [];
  /** Puts and updates on a region that was not primary: each in the review report with its own record's sequence number. */
  const strays: { region: string; key: string; v: string; afterRejoin: number | undefined }[] = [];
  /** Per region, when it last rejoined (its fence's `rejoinedAt`). */
  const rejoinedAt = new Map<string, number>();
  /** Writes to a region that is not primary are, there, writes outside replication. */
  const outOfBand = new Set<string>();
  const report = (region: string, k: string) => toReport.set(region, new Set([...(toReport.get(region) ?? []), k]));
  /** Regions that missed a failover, or took writes while not primary: they rejoin before they are promoted. */
  const behind = new Set<string>();
  let marker = 0;
  const rejoinRegion = async (region: string) => {
    for (const l of linksOf(region)) if (l.emulator.enabled) await l.emulator.disable();
    // Time passes before an operator rejoins a region: writes before it are stamped earlier than the rejoin's second.
    await deps.sleep(2_000);
    // Replication into the region (when it is admitted) has delivered what it will: the states compared below stay.
    await deployment.waitForIdle();
    const current = await atCurrentPrimary(ctx);
    const p = current.ctx.table.primaryRegion;
    // A write whose key the primary holds the same way lost nothing; every other one must be reported by the rejoin, as it finds it.
    for (const k of toReport.get(region) ?? []) {
      const Key = { pk: { S: /S"(k\d+)"/.exec(k)![1]! } };
      const [onPrimary, onRegion] = await Promise.all([p, region].map((x) => client(x).send(new GetItemCommand({ TableName: name, Key, ConsistentRead: true }))));
      if (digest(onPrimary!.Item) === digest(onRegion!.Item)) continue;
      const v = readVersion(onRegion!.Item);
      rejoinDiffs.push({ region, primary: p, key: k, version: v && encodeVersion(v), detail: `${region} holds ${digest(onRegion!.Item)}, ${p} holds ${digest(onPrimary!.Item)}` });
    }
    toReport.delete(region);
    missed.delete(region);
    await rejoin(current.ctx, current.fence, region, 2, new DynamoDBStreamsClient({ region }), deployment.recordSeconds, now);
    rejoinedAt.set(region, (await readFence(sdkDynamo(client(region)), stateTableName(name)))!.rejoinedAt!);
    behind.delete(region);
  };
  /** A planned failover needs the primary to hold the newest fence (it is not a region left behind). */
  const primaryHoldsFence = async () => (await atCurrentPrimary(ctx)).fence.primary === primary;
  try {
    for (const s of steps) {
      if (s.kind === 'write') {
        const region = s.at === 'former' && former ? former : primary;
        const Key = { pk: { S: `k${s.key}` } };
        const k = keyText(Key);
        const c2 = client(region);
        let state: string;
        const v = String(++marker);
        let change = `v${v}`;
        if (s.op === 'delete') {
          const out = await c2.send(new DeleteItemCommand({ TableName: name, Key, ReturnValues: 'ALL_OLD' }));
          if (!out.Attributes) continue; // deleting nothing writes nothing (no stream record)
          change = changeId(k, { eventName: 'REMOVE', before: { v: { N: out.Attributes.v!.N! } } });
          state = 'absent';
        } else if (s.op === 'put') {
          const Item = { ...Key, v: { N: v } };
          await c2.send(new PutItemCommand({ TableName: name, Item }));
          state = digest(Item);
        } else {
          const out = await c2.send(new UpdateItemCommand({ TableName: name, Key, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: v } }, ReturnValues: 'ALL_NEW' }));
          state = digest(out.Attributes);
        }
        changed(`${region} ${change}`);
        if (region === primary) {
          model.set(k, state);
          termWrites.set(k, state);
        } else {
          // A demoted primary's write, after a planned failover as after an unplanned one: never replicated, so reported.
          // A put or update by its own record (a link fences it out, or the rejoin finds it in the stream as a stray); a deletion
          // (no stream record tells who deleted) by the rejoin's diff, if the item still differs then.
          report(region, k);
          if (s.op !== 'delete') strays.push({ region, key: k, v, afterRejoin: rejoinedAt.get(region) });
          outOfBand.add(`${region} ${k}`);
          behind.add(region);
        }
      } else if (s.kind === 'pause') {
        const link = linksOf(primary).find((l) => l.slot === s.slot);
        if (link?.emulator.enabled) await link.emulator.disable();
      } else if (s.kind === 'resume') {
        for (const l of linksOf(primary)) if (!l.emulator.enabled) l.emulator.enable();
      } else if (s.kind === 'rejoin') {
        const region = [...behind][0];
        if (region) await rejoinRegion(region);
      } else {
        const to = REGIONS[s.to]!;
        if (to === primary) continue;
        if (behind.has(to)) await rejoinRegion(to); // the operator's step before promoting it
        const from = primary;
        // With every region's links live, the old primary's run on after any failover.
        const oldLinkRuns = s.oldLinkRuns || links === 'all';
        switchingTo = to;
        if (s.planned && behind.size === 0 && (await primaryHoldsFence())) {
          // Planned: writes to the primary stop, its links catch up, then the switch.
          for (const l of linksOf(from)) if (!l.emulator.enabled) l.emulator.enable();
          await deployment.waitForIdle();
          const current = await atCurrentPrimary(ctx);
          const done = await failover(current.ctx, { to, unplanned: false, fenceCacheSeconds: 0, clockMarginSeconds: 1, segments: 2 }, failoverDeps);
          assert.ok(done.ok, `planned failover ${from} -> ${to} refused: ${done.refused}`);
        } else {
          // Unplanned: the old primary goes dark, its links keep their position (and maybe run on).
          const current = await atCurrentPrimary(ctx);
          const unplannedCtx = { ...current.ctx, table: { ...current.ctx.table, primaryRegion: from, replicaRegions: REGIONS.filter((r) => r !== from) } };
          if (!oldLinkRuns) for (const l of linksOf(from)) if (l.emulator.enabled) await l.emulator.disable();
          const done = await failover(unplannedCtx, { to, unplanned: true, fenceCacheSeconds: 0, clockMarginSeconds: 1, segments: 2 }, failoverDeps);
          assert.ok(done.ok, `unplanned failover ${from} -> ${to} refused: ${done.refused}`);
          behind.add(from);
          // The new primary's state is the truth now; what the old term's primary wrote is replicated or reported.
          const snap = await scanSnapshot(client(to), name, ['pk'], { rules: { nowSeconds: Math.floor(now() / 1000) } });
          for (const [k, state] of termWrites) {
            if ((snap.states.get(k) ?? 'absent') !== state) report(from, k);
          }
          missed.add(from);
          model.clear();
          for (const [k, st] of snap.states) model.set(k, st);
        }
        assert.equal(termPrimary, to, `the failover to ${to} waited for its term`);
        switchingTo = undefined;
        termWrites = new Map();
        former = from;
        primary = to;
        if (oldLinkRuns) {
          // The old mapping runs on (an up that creates before it deletes, or the old primary back from an outage), then
          // stops; the old primary's application writes meanwhile, and the link must fence that write out and report it.
          for (const l of linksOf(from)) if (!l.emulator.enabled) l.emulator.enable();
          const Key = { pk: { S: 'k0' } };
          const v = String(++marker);
          changed(`${from} v${v}`);
          await client(from).send(new PutItemCommand({ TableName: name, Item: { ...Key, v: { N: v } } }));
          report(from, keyText(Key));
          strays.push({ region: from, key: keyText(Key), v, afterRejoin: rejoinedAt.get(from) });
          outOfBand.add(`${from} ${keyText(Key)}`);
          behind.add(from);
          await deployment.waitForIdle();
        }
        if (links !== 'all') for (const l of linksOf(from)) if (l.emulator.enabled) await l.emulator.disable();
      }
      liveLinks();
    }

    // The end: every region that missed a failover or took writes while not primary rejoins, replication drains.
    for (const l of deployment.links) if (l.region === primary && !l.emulator.enabled) l.emulator.enable();
    await deployment.waitForIdle();
    for (const region of [...behind]) await rejoinRegion(region);
    await deployment.waitForIdle();

    // Converged on the current primary, holding every write a primary acknowledged in its term.
    const fence = await readFence(sdkDynamo(client(primary)), stateTableName(name));
    assert.equal(fence?.primary ?? REGIONS[0], primary);
    for (const region of REGIONS) {
      const snap = await scanSnapshot(client(region), name, ['pk'], { rules: { nowSeconds: Math.floor(now() / 1000) } });
      for (const k of new Set([...model.keys(), ...snap.states.keys()])) {
        assert.equal(snap.states.get(k) ?? 'absent', model.get(k) ?? 'absent', `${region} ${k} holds the last write its primary acknowledged`);
      }
    }
    // Versions never go back on any replica, deletions included. (An out-of-band PutItem erases an item's version, so a replay may land there once more.)
    for (const [at, versions] of written) {
      if (!outOfBand.has(at)) versions.forEach((v, i) => i > 0 && assert.ok(v > versions[i - 1]!, `${at}: wrote ${v} after ${versions[i - 1]}`));
    }
    // Every write not carried by replication is in the review report, named by its key and version:
    const entries = (await review(ctx, false)).entries;
    // every item a returning region held differently (an unplanned failover's lost tail, a demoted primary's deletion), with the
    // region's version and both states,
    for (const [i, d] of rejoinDiffs.entries()) {
      const found = entries.filter((e) => e.kind === 'rejoin-diff' && e.region === d.region && e.target === d.primary && keyText(e.key) === d.key && e.version === d.version && e.detail === d.detail);
      assert.ok(found.length > 0, `the rejoin of ${d.region} did not report ${d.key} (version ${d.version}; ${d.detail}): ${JSON.stringify(entries.filter((e) => keyText(e.key) === d.key))}`);
    }
    // a demoted primary's put or update by its record's sequence number (fenced out by its link, or a stray its rejoin found),
    const sequences = new Map<string, string>();
    const stamps = new Map<string, number>();
    for (const region of new Set(strays.map((w) => w.region))) {
      await forEachRecord(deps.streams(region), deployment.streamArns[region]!, region, (r, shardId) => {
        const d = r.dynamodb!;
        const change = changeId(keyText(d.Keys!), { eventName: r.eventName!, before: d.OldImage, after: d.NewImage } as Change);
        sequences.set(`${region} ${change}`, padSeq(d.SequenceNumber!));
        stamps.set(`${region} ${change}`, deployment.recordSeconds(r, shardId, region));
      });
    }
    for (const w of strays) {
      const seq = sequences.get(`${w.region} v${w.v}`);
      assert.ok(seq, `${w.region}'s stream holds the write of v${w.v}`);
      const found = entries.filter((e) => e.region === w.region && keyText(e.key) === w.key && sequenceOf(e) === seq);
      assert.ok(found.length > 0, `the write of v${w.v} to ${w.key} on ${w.region} (sequence number ${seq}), never replicated, is not in the review report: ${JSON.stringify(entries.filter((e) => keyText(e.key) === w.key))}`);
    }
    // Nothing writes into the current primary: no replica write landed in a region once its term had started.
    const intoPrimary = applied.filter((a) => a.target === a.primary);
    assert.deepEqual(intoPrimary, [], 'replication wrote into the current primary');
    // Nor into a region that missed a failover, before it rejoins: that would overwrite its unreplicated writes unreported.
    assert.deepEqual(applied.filter((a) => a.missed), [], 'replication wrote into a region that missed a failover before it rejoined');
    // No loops: a replica write only ever carries an application change of its own source region (never an echo), and each
    // change reaches each replica in at most one write (the same write retried aside: one version).
    for (const a of applied) assert.ok(changes.has(`${a.source} ${a.change}`), `${a.source} -> ${a.target} wrote ${a.change} (${a.version}): no application change of ${a.source}`);
    const versions = new Map<string, { made: number; written: Set<string> }>();
    for (const a of applied) {
      const at = `${a.source} ${a.change} -> ${a.target}`;
      const seen = versions.get(at) ?? versions.set(at, { made: changes.get(`${a.source} ${a.change}`) ?? 0, written: new Set() }).get(at)!;
      seen.written.add(a.version);
    }
    for (const [at, { made, written }] of versions) {
      assert.ok(written.size <= made, `${at}: ${written.size} writes (${[...written].join(', ')}) for ${made} application change${made === 1 ? '' : 's'}`);
    }
  } finally {
    await deployment.stop();
    ctx.close();
    rmSync(dir, { recursive: true, force: true });
    if (process.env.TIMING) console.error(`run ${++runCount}: ${Date.now() - t0} ms`);
  }
}
