import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { Dynamo, isConditionFailure } from './dynamo';

type Client = Dynamo;

/** One primary term: from `start` (epoch seconds) until the next term starts, `primary` takes the application's writes. */
export interface Term {
  readonly gen: number;
  readonly primary: string;
  readonly start: number;
  /**
   * From this second (before `start`) links act on this term. Until then the previous primary's
   * links still replicate what it wrote in its term: a failover raises the fences before its term
   * starts, and a write acknowledged before then is not lost. Absent: at once.
   */
  readonly handover?: number;
  /**
   * The table's regions when this term was raised. A region among them that has no fence missed it
   * (it was down, or its links never ran): no link writes into it until it rejoins. A region added to
   * the table later gets a copy of its source's fence from the first link that writes to it.
   */
  readonly regions?: readonly string[];
}

/**
 * A table's fence in one region: the history of primary terms, newest last, kept in the region's
 * replication state table. It only moves forward: the failover command raises it with a condition
 * on the generation, and no deploy writes it. A link writes into a region only if that region's
 * fence names the link's source region as the primary of the current generation.
 *
 * The terms are the table's, the same in every region; the rejoin mark (`rejoined`, `rejoinedAt`)
 * is the region's own. Raising a fence writes the terms only, and only `markRejoined` writes a
 * mark, so a fence copied from another region never brings that region's mark along.
 */
export interface Fence {
  readonly generation: number;
  readonly primary: string;
  readonly terms: readonly Term[];
  /** This region's own: `ddb-replicator rejoin` diffed it against the primary and reconciled it at this generation. */
  readonly rejoined?: number;
  /** This region's own: when it last rejoined (epoch seconds); writes it took before were reported then. */
  readonly rejoinedAt?: number;
}

export const FENCE_KEY = 'fence';

/** The first term: the configured primary, since the beginning of time. */
export const initialFence = (primary: string): Fence => ({ generation: 1, primary, terms: [{ gen: 1, primary, start: 0 }] });

export const currentTerm = (f: Fence): Term => f.terms[f.terms.length - 1]!;

/** The term a record written at `seconds` belongs to: the last one started at or before it. */
export function termAt(f: Fence, seconds: number): Term {
  let found = f.terms[0]!;
  for (const t of f.terms) if (t.start <= seconds) found = t;
  return found;
}

/** The fence with a new term appended: generation + 1, `primary` from `start`, acted on from `handover`. */
export function nextFence(f: Fence, primary: string, start: number, handover?: number, regions?: readonly string[]): Fence {
  const gen = f.generation + 1;
  return { generation: gen, primary, terms: [...f.terms, { gen, primary, start, ...(handover !== undefined && { handover }), ...(regions && { regions: [...regions] }) }] };
}

/** The fence as links act on it at `seconds`: without the terms whose handover is still ahead. */
export function inEffect(f: Fence, seconds: number): Fence {
  let n = f.terms.length;
  while (n > 1 && (f.terms[n - 1]!.handover ?? -Infinity) > seconds) n--;
  if (n === f.terms.length) return f;
  const last = f.terms[n - 1]!;
  return { ...f, generation: last.gen, primary: last.primary, terms: f.terms.slice(0, n) };
}

/** The terms as attribute values (never the rejoin mark: see `Fence`). */
function termValues(f: Fence): { generation: AttributeValue; primary: AttributeValue; terms: AttributeValue } {
  return {
    generation: { N: String(f.generation) },
    primary: { S: f.primary },
    terms: {
      L: f.terms.map((t) => ({
        M: {
          gen: { N: String(t.gen) },
          primary: { S: t.primary },
          start: { N: String(t.start) },
          ...(t.handover !== undefined && { handover: { N: String(t.handover) } }),
          ...(t.regions?.length && { regions: { SS: [...t.regions] } }),
        },
      })),
    },
  };
}

function fromItem(item: Record<string, AttributeValue> | undefined): Fence | undefined {
  if (!item?.generation?.N || !item.primary?.S || !item.terms?.L) return undefined;
  const terms = item.terms.L.map((t) => ({
    gen: Number(t.M!.gen!.N),
    primary: t.M!.primary!.S!,
    start: Number(t.M!.start!.N),
    ...(t.M!.handover?.N && { handover: Number(t.M!.handover.N) }),
    ...(t.M!.regions?.SS && { regions: t.M!.regions.SS }),
  }));
  return {
    generation: Number(item.generation.N),
    primary: item.primary.S,
    terms,
    ...(item.rejoined?.N && { rejoined: Number(item.rejoined.N) }),
    ...(item.rejoinedAt?.N && { rejoinedAt: Number(item.rejoinedAt.N) }),
  };
}

/** A strongly consistent read of a region's fence; undefined where none was written yet. */
export async function readFence(client: Client, stateTable: string): Promise<Fence | undefined> {
  const { Item } = await client.call('GetItem', { TableName: stateTable, Key: { pk: { S: FENCE_KEY } }, ConsistentRead: true });
  return fromItem(Item);
}

/**
 * Writes `fence`'s terms only if the region's fence is older (or missing): `raised`; else says whether
 * the region already holds this generation (`current`) or a newer one (`newer`). Either way with what
 * the region holds: the region's own rejoin mark stays, and `fence`'s (another region's) is not copied.
 */
export async function raiseFence(client: Client, stateTable: string, fence: Fence): Promise<{ outcome: 'raised' | 'current' | 'newer'; fence: Fence }> {
  const values = termValues(fence);
  try {
    const { Attributes } = await client.call('UpdateItem', {
      TableName: stateTable,
      Key: { pk: { S: FENCE_KEY } },
      UpdateExpression: 'SET generation = :g, #primary = :p, terms = :t',
      ConditionExpression: 'attribute_not_exists(pk) OR generation < :g',
      ExpressionAttributeNames: { '#primary': 'primary' },
      ExpressionAttributeValues: { ':g': values.generation, ':p': values.primary, ':t': values.terms },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    return { outcome: 'raised', fence: fromItem(Attributes) ?? fence };
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const held = fromItem(err.Item) ?? fence;
    return { outcome: held.generation === fence.generation ? 'current' : 'newer', fence: held };
  }
}

/** Marks a region rejoined at its fence's generation and `atSeconds` (`ddb-replicator rejoin`), if the fence is still at it: the only write of a mark. */
export async function markRejoined(client: Client, stateTable: string, fence: Fence, atSeconds: number): Promise<void> {
  await client.call('UpdateItem', {
    TableName: stateTable,
    Key: { pk: { S: FENCE_KEY } },
    UpdateExpression: 'SET rejoined = :g, rejoinedAt = :at',
    ConditionExpression: 'generation = :g',
    ExpressionAttributeValues: { ':g': { N: String(fence.generation) }, ':at': { N: String(atSeconds) } },
  });
}

/**
 * The fences a link reads, each cached for at most `ttlMs` from the moment its read was sent (the
 * failover waits that long, plus the function timeout, before the new primary takes writes). Past
 * half that age a fence is read again in the background while the cached one still serves, so a
 * batch seldom waits for a fence read, which is a cross-region round trip for a target region.
 * Where a region has no fence yet, the link creates one: its own region's as the first term, with
 * itself as primary (only the primary's mappings are enabled, and no deploy writes fences); a
 * target's as a copy of its source's, but only while its source is the primary (a region added to
 * the table later). Fences come back as in effect now (`inEffect`), so a link's cache never delays a
 * handover.
 */
export class FenceView {
  private readonly cache = new Map<string, { fence: Fence | undefined; at: number }>();
  private readonly reading = new Map<string, { read: Promise<Fence | undefined>; sentAt: number }>();

  constructor(
    private readonly client: (region: string) => Client,
    private readonly stateTable: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private async read(region: string): Promise<Fence | undefined> {
    const hit = this.cache.get(region);
    const age = hit ? this.now() - hit.at : Infinity;
    if (hit && age < this.ttlMs) {
      if (age >= this.ttlMs / 2) this.refresh(region).catch(() => undefined); // a failure here is met again when the cached fence expires
      return hit.fence;
    }
    return this.refresh(region);
  }

  /** Reads a region's fence, joining a read in flight only if it was sent within the cache's lifetime. */
  private refresh(region: string): Promise<Fence | undefined> {
    const pending = this.reading.get(region);
    if (pending && this.now() - pending.sentAt < this.ttlMs) return pending.read;
    const sentAt = this.now();
    const read = readFence(this.client(region), this.stateTable).then((fence) => {
      this.remember(region, fence, sentAt);
      return fence;
    });
    const entry = { read, sentAt };
    this.reading.set(region, entry);
    const done = () => this.reading.get(region) === entry && this.reading.delete(region);
    read.then(done, done);
    return read;
  }

  /** Keeps a fence read (or written) from `sentAt` on, unless a later read is already kept. */
  private remember(region: string, fence: Fence | undefined, sentAt: number): void {
    const held = this.cache.get(region);
    if (!held || held.at <= sentAt) this.cache.set(region, { fence, at: sentAt });
  }

  private async create(region: string, fence: Fence): Promise<Fence> {
    const sentAt = this.now();
    const held = (await raiseFence(this.client(region), this.stateTable, fence)).fence;
    this.remember(region, held, sentAt);
    return held;
  }

  /** The source region's fence, as in effect now. */
  async source(region: string): Promise<Fence> {
    return this.effective((await this.read(region)) ?? (await this.create(region, initialFence(region))));
  }

  /** A target region's fence as in effect now, or undefined where it has none and the source is not the primary. */
  async target(region: string, source: string, sourceFence: Fence): Promise<Fence | undefined> {
    const fence = await this.read(region);
    if (fence || sourceFence.primary !== source) return fence && this.effective(fence);
    const whole = this.cache.get(source)?.fence ?? sourceFence;
    // A region that was in the table when a failover raised the fences, and has none, missed it.
    if (currentTerm(whole).regions?.includes(region)) return undefined;
    // A region added later: a copy of the source's whole fence, a term not in effect yet included.
    return this.effective(await this.create(region, whole));
  }

  private effective(f: Fence): Fence {
    return inEffect(f, Math.floor(this.now() / 1000));
  }
}
