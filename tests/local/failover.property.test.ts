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
import { digest, keyText } from '../../handlers/attribute-values';
import { readFence } from '../../handlers/fence';
import { encodeVersion } from '../../handlers/versions';
import { startLocalDeployment } from '../../local/deployment';
import { chaosSettings, mulberry32, propertyRuns } from '../support/chaos';
import { client, uniqueName } from '../support/ddb';
import { localEndpoint } from '../support/setup';

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

const RUNS = propertyRuns(500, 40);

describe('failover: fences, terms and review (property, DynamoDB Local, three regions)', function () {
  this.timeout(RUNS * 20_000);

  it(`replicas converge on the current primary, versions never go back, no acknowledged write of a primary is lost, every other write is replicated or reported (${RUNS} runs)`, async () => {
    await fc.assert(fc.asyncProperty(history, chaosSettings, (steps, c) => run(steps, c)), { numRuns: RUNS });
  });
});

async function run(steps: Step[], c: typeof chaosSettings extends fc.Arbitrary<infer T> ? T : never): Promise<void> {
  const name = uniqueName('Fp');
  const spec = { name, partitionKey: { name: 'pk', type: 'S' as const }, primaryRegion: REGIONS[0]!, replicaRegions: REGIONS.slice(1) };
  const dir = mkdtempSync(join(tmpdir(), 'failover-property-'));
  writeFileSync(join(dir, 'Pulumi.test.yaml'), `config:\n  ddb-replicator:tables:\n    - name: ${name}\n      partitionKey: { name: pk, type: S }\n      primaryRegion: ${REGIONS[0]}\n      replicaRegions: [${REGIONS.slice(1).join(', ')}]\n      lambda: { timeoutSeconds: 1 }\n`);
  const ctx = tableContext({ stack: 'test', endpoint: localEndpoint(), projectDir: dir });
  // Virtual time: a failover's wait advances the clock once every invocation in flight has ended.
  let offset = 0;
  const now = () => Date.now() + offset;
  const random = mulberry32(c.seed);
  /** Per region and key, the versions replication wrote there (deletions included), in the order they landed. */
  const written = new Map<string, string[]>();
  let applied = 0;
  const deployment = await startLocalDeployment({
    table: spec,
    clientFor: client,
    watchStreams: true,
    clock: now,
    handler: { fenceCacheMs: 0 },
    mapping: { batchSize: c.batchSize, bisectBatchOnFunctionError: c.bisect, parallelizationFactor: c.parallelizationFactor, maximumRetryAttempts: -1, maximumRecordAgeInSeconds: -1 },
    emulator: { pollIntervalMs: 10, discoveryIntervalMs: 30, retryDelayMs: 0, log: () => undefined },
    handlerDeps: () => ({
      log: () => undefined,
      onApplied: ({ target, plan, outcome }) => {
        if (outcome.status !== 'applied') return;
        applied++;
        const at = `${target.region} ${plan.key}`;
        written.set(at, [...(written.get(at) ?? []), encodeVersion(plan.version)]);
      },
    }),
    wrapInvoke: (_link, invoke) => async (event: DynamoDBStreamEvent) => {
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
      await deployment.settle();
      offset += ms;
    },
  };
  const linksOf = (region: string) => deployment.links.filter((l) => l.region === region);

  let primary = REGIONS[0]!;
  let former: string | undefined;
  /** The state each key should end in: what the primary of each term acknowledged. */
  const model = new Map<string, string>();
  /** Per term: the last write the primary acknowledged per key, to check after an unplanned failover. */
  let termWrites = new Map<string, string>();
  /** Keys of writes replication did not carry, that must end in the review report: per region, until it rejoins. */
  const toReport = new Map<string, Set<string>>();
  const mustReport = new Set<string>();
  /** Regions that missed a failover (not rejoined since). */
  const missed = new Set<string>();
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
    const current = await atCurrentPrimary(ctx);
    // A write whose key the primary holds the same way lost nothing; every other one must be reported by the rejoin.
    for (const k of toReport.get(region) ?? []) {
      const Key = { pk: { S: /S"(k\d+)"/.exec(k)![1]! } };
      const [p, r] = await Promise.all([current.ctx.table.primaryRegion, region].map((x) => client(x).send(new GetItemCommand({ TableName: name, Key, ConsistentRead: true }))));
      if (digest(p!.Item) !== digest(r!.Item)) mustReport.add(k);
    }
    toReport.delete(region);
    missed.delete(region);
    await rejoin(current.ctx, current.fence, region, 2, new DynamoDBStreamsClient({ region }), deployment.recordSeconds, now);
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
        if (s.op === 'delete') {
          const out = await c2.send(new DeleteItemCommand({ TableName: name, Key, ReturnValues: 'ALL_OLD' }));
          if (!out.Attributes) continue; // deleting nothing writes nothing (no stream record)
          state = 'absent';
        } else if (s.op === 'put') {
          const Item = { ...Key, v: { N: String(++marker) } };
          await c2.send(new PutItemCommand({ TableName: name, Item }));
          state = digest(Item);
        } else {
          const out = await c2.send(new UpdateItemCommand({ TableName: name, Key, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: String(++marker) } }, ReturnValues: 'ALL_NEW' }));
          state = digest(out.Attributes);
        }
        if (region === primary) {
          model.set(k, state);
          termWrites.set(k, state);
        } else {
          // A demoted primary's write: reported if it missed the failover (nothing overwrites it until it rejoins); on a replica, an out-of-band write.
          if (missed.has(region)) report(region, k);
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
        if (s.planned && behind.size === 0 && (await primaryHoldsFence())) {
          // Planned: writes to the primary stop, its links catch up, then the switch.
          for (const l of linksOf(from)) if (!l.emulator.enabled) l.emulator.enable();
          await deployment.waitForIdle();
          const current = await atCurrentPrimary(ctx);
          const done = await failover(current.ctx, { to, unplanned: false, fenceCacheSeconds: 0, clockMarginSeconds: 1, segments: 2 }, deps);
          assert.ok(done.ok, `planned failover ${from} -> ${to} refused: ${done.refused}`);
        } else {
          // Unplanned: the old primary goes dark, its links keep their position (and maybe run on).
          const current = await atCurrentPrimary(ctx);
          const unplannedCtx = { ...current.ctx, table: { ...current.ctx.table, primaryRegion: from, replicaRegions: REGIONS.filter((r) => r !== from) } };
          if (!s.oldLinkRuns) for (const l of linksOf(from)) if (l.emulator.enabled) await l.emulator.disable();
          const done = await failover(unplannedCtx, { to, unplanned: true, fenceCacheSeconds: 0, clockMarginSeconds: 1, segments: 2 }, deps);
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
        termWrites = new Map();
        former = from;
        primary = to;
        if (s.oldLinkRuns) {
          // The old mapping runs on (an up that creates before it deletes, or the old primary back from an outage), then
          // stops; the old primary's application writes meanwhile, and the link must fence that write out and report it.
          for (const l of linksOf(from)) if (!l.emulator.enabled) l.emulator.enable();
          const Key = { pk: { S: 'k0' } };
          await client(from).send(new PutItemCommand({ TableName: name, Item: { ...Key, v: { N: String(++marker) } } }));
          mustReport.add(keyText(Key));
          outOfBand.add(`${from} ${keyText(Key)}`);
          behind.add(from);
          await deployment.waitForIdle();
        }
        for (const l of linksOf(from)) if (l.emulator.enabled) await l.emulator.disable();
      }
    }

    // The end: every region that missed a failover or took writes while not primary rejoins, replication drains.
    for (const l of deployment.links) if (l.region === primary && !l.emulator.enabled) l.emulator.enable();
    await deployment.waitForIdle();
    for (const region of [...behind]) await rejoinRegion(region);
    await deployment.waitForIdle();

    // Converged on the current primary, holding every write a primary acknowledged in its term.
    const fence = await readFence(client(primary), stateTableName(name));
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
    // Every write not carried by replication (a demoted primary's, an unplanned failover's lost tail) is in the review report.
    const reported = new Set((await review(ctx, false)).entries.map((e) => keyText(e.key)));
    for (const k of mustReport) assert.ok(reported.has(k), `a write to ${k} that replication did not carry is not in the review report`);
    // No loops: each application write reached each replica at most once.
    const writes = steps.filter((s) => s.kind === 'write').length;
    assert.ok(applied <= writes * (REGIONS.length - 1), `${applied} replica writes for ${writes} application writes`);
  } finally {
    await deployment.stop();
    ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
