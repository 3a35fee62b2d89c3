import { CONFLICT_POLICIES, ConflictPolicy, DEFAULTS, METADATA_PREFIX } from '../handlers/contract';
import type { Billing, GlobalSecondaryIndex, KeyAttribute, KeyType, StackModel, TableModel } from './model';

/**
 * Turns the `ddb-replicator:*` stack config into the validated model. Every problem is collected
 * and reported at once, each naming the table, the key, the value and what is allowed.
 *
 * Keys of each `ddb-replicator:tables` entry: name, partitionKey {name, type}, sortKey,
 * globalSecondaryIndexes [{name, partitionKey, sortKey, projectionType, nonKeyAttributes,
 * readCapacity, writeCapacity}], primaryRegion, replicaRegions, billingMode, readCapacity,
 * writeCapacity, ttlAttribute, conflictPolicy, replicateTtlDeletes, stream {batchSize,
 * batchingWindowSeconds, maximumRetryAttempts, maximumRecordAgeSeconds, parallelizationFactor},
 * alarms {iteratorAgeMs, replicationLatencyMs, conflicts}, lambda {memoryMb, timeoutSeconds},
 * deletionProtection, tags.
 */
export class StackConfigError extends Error {
  override name = 'StackConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid ddb-replicator stack configuration:\n- ${problems.join('\n- ')}`);
  }
}

export const AWS_REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'ca-west-1', 'mx-central-1', 'sa-east-1',
  'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7',
  'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-south-2', 'ap-east-1',
  'me-south-1', 'me-central-1', 'il-central-1', 'af-south-1',
] as const;

/**
 * The replication function's memory: Lambda gives CPU in proportion to it, and at 1,024 MB the
 * handler keeps up with the most a shard carries for a fraction of the replica writes' cost
 * (README, Benchmark: the Lambda-shaped rows).
 */
export const DEFAULT_MEMORY_MB = 1024;

const TABLE_KEYS = [
  'name', 'partitionKey', 'sortKey', 'globalSecondaryIndexes', 'primaryRegion', 'replicaRegions', 'linkSlots', 'billingMode', 'readCapacity',
  'writeCapacity', 'ttlAttribute', 'conflictPolicy', 'replicateTtlDeletes', 'stream', 'alarms', 'lambda', 'deletionProtection', 'tags',
];
const NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
export const DEFAULT_METRICS_NAMESPACE = 'DdbReplicator';

type Raw = Record<string, unknown>;

/** Reads one path of the raw config, recording a problem instead of throwing. */
export class Reader {
  constructor(readonly problems: string[], readonly where: string) {}

  problem(key: string, value: unknown, allowed: string): undefined {
    this.problems.push(`${this.where ? `${this.where}.` : ''}${key} is ${value === undefined ? 'missing' : JSON.stringify(value)}: ${allowed}`);
    return undefined;
  }

  object(raw: unknown, key: string, known: readonly string[]): Raw | undefined {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return this.problem(key, raw, 'use a map of settings');
    for (const k of Object.keys(raw)) if (!known.includes(k)) this.problem(`${key}.${k}`, (raw as Raw)[k], `not a known setting; known: ${known.join(', ')}`);
    return raw as Raw;
  }

  string(raw: unknown, key: string, pattern: RegExp, allowed: string): string | undefined {
    return typeof raw === 'string' && pattern.test(raw) ? raw : this.problem(key, raw, allowed);
  }

  number(raw: unknown, key: string, min: number, max: number, fallback?: number): number | undefined {
    if (raw === undefined && fallback !== undefined) return fallback;
    const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return n;
    return this.problem(key, raw, `use a whole number from ${min} to ${max}`);
  }

  boolean(raw: unknown, key: string, fallback: boolean): boolean | undefined {
    if (raw === undefined) return fallback;
    if (raw === true || raw === 'true') return true;
    if (raw === false || raw === 'false') return false;
    return this.problem(key, raw, 'use true or false');
  }

  oneOf<T extends string>(raw: unknown, key: string, allowed: readonly T[], fallback: T): T | undefined {
    if (raw === undefined) return fallback;
    return allowed.includes(raw as T) ? (raw as T) : this.problem(key, raw, `use one of ${allowed.join(', ')}`);
  }

  key(raw: unknown, key: string): KeyAttribute | undefined {
    const o = this.object(raw, key, ['name', 'type']);
    if (!o) return undefined;
    const name = this.string(o.name, `${key}.name`, /^.{1,255}$/s, 'use an attribute name of 1 to 255 characters');
    const type = this.oneOf(o.type, `${key}.type`, ['S', 'N', 'B'] as const, undefined as never);
    if (o.type === undefined) this.problem(`${key}.type`, undefined, 'use S, N or B (key attributes are strings, numbers or binaries)');
    return name && type ? { name, type } : undefined;
  }

  region(raw: unknown, key: string): string | undefined {
    if (typeof raw === 'string' && (AWS_REGIONS as readonly string[]).includes(raw)) return raw;
    const near = typeof raw === 'string' ? AWS_REGIONS.find((r) => editDistance(r, raw) <= 2) : undefined;
    return this.problem(key, raw, near ? `not an AWS region; did you mean ${near}?` : 'use an AWS region name such as us-east-1');
  }
}

export function parseStackConfig(raw: { tables?: unknown; alarmEmail?: unknown; metricsNamespace?: unknown }): StackModel {
  const problems: string[] = [];
  const top = new Reader(problems, 'ddb-replicator');
  const tables: TableModel[] = [];
  if (!Array.isArray(raw.tables) || raw.tables.length === 0) {
    top.problem('tables', raw.tables, 'list at least one table to replicate (see Pulumi.yaml for its keys)');
  } else {
    raw.tables.forEach((t, i) => {
      const label = typeof (t as Raw | null)?.name === 'string' ? `tables[${i}] (${(t as Raw).name})` : `tables[${i}]`;
      const table = readTable(t, label, problems);
      if (table) tables.push(table);
    });
    const names = tables.map((t) => t.name);
    for (const dup of new Set(names.filter((n, i) => names.indexOf(n) !== i))) problems.push(`ddb-replicator.tables lists table ${dup} more than once: give each table one entry`);
  }
  const alarmEmail = readAlarmEmail(top, raw.alarmEmail);
  const metricsNamespace = readMetricsNamespace(top, raw.metricsNamespace);
  if (problems.length > 0) throw new StackConfigError(problems);
  return { tables, alarmEmail, metricsNamespace: metricsNamespace! };
}

/** `alarmEmail`: an address, or none (empty or missing). */
export function readAlarmEmail(r: Reader, raw: unknown): string | undefined {
  return raw === undefined || raw === '' ? undefined : r.string(raw, 'alarmEmail', EMAIL, 'use an e-mail address such as oncall@example.com, or leave it empty');
}

/** `metricsNamespace`: default DdbReplicator; never AWS/. */
export function readMetricsNamespace(r: Reader, raw: unknown): string | undefined {
  if (raw === undefined || raw === '') return DEFAULT_METRICS_NAMESPACE;
  return r.string(raw, 'metricsNamespace', /^(?!AWS\/).{1,255}$/s, 'use 1 to 255 characters, not starting with AWS/ (reserved for AWS)');
}

/**
 * The rules of one table's settings, shared by the stack config (`ddb-replicator:tables`) and the
 * ReplicatedTable component's args: every problem is pushed to `problems`, prefixed with `label`.
 */
export function readTable(raw: unknown, label: string, problems: string[]): TableModel | undefined {
  const before = problems.length;
  const r = new Reader(problems, label);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`${label} is ${JSON.stringify(raw)}: use a map with name, partitionKey, primaryRegion and replicaRegions`);
    return undefined;
  }
  const t = raw as Raw;
  for (const k of Object.keys(t)) if (!TABLE_KEYS.includes(k)) r.problem(k, t[k], `not a known table setting; known: ${TABLE_KEYS.join(', ')}`);

  const name = r.string(t.name, 'name', NAME, 'use a table name of 3 to 255 characters from A-Z a-z 0-9 _ - .');
  const partitionKey = r.key(t.partitionKey, 'partitionKey');
  const sortKey = t.sortKey === undefined ? undefined : r.key(t.sortKey, 'sortKey');
  const primaryRegion = r.region(t.primaryRegion, 'primaryRegion');
  const replicaRegions = parseReplicaRegions(r, t.replicaRegions, primaryRegion);
  const linkSlots = parseLinkSlots(r, t.linkSlots, [primaryRegion, ...(replicaRegions ?? [])]);
  const billing = parseBilling(r, t);
  const globalSecondaryIndexes = parseIndexes(r, t.globalSecondaryIndexes, billing);
  const ttlAttribute = t.ttlAttribute === undefined ? undefined : r.string(t.ttlAttribute, 'ttlAttribute', /^.{1,255}$/s, 'use an attribute name of 1 to 255 characters');
  const conflictPolicy = r.oneOf<ConflictPolicy>(t.conflictPolicy, 'conflictPolicy', CONFLICT_POLICIES, DEFAULTS.conflictPolicy);
  const replicateTtlDeletes = r.boolean(t.replicateTtlDeletes, 'replicateTtlDeletes', DEFAULTS.replicateTtlDeletes);
  const s = t.stream === undefined ? {} : (r.object(t.stream, 'stream', ['batchSize', 'batchingWindowSeconds', 'maximumRetryAttempts', 'maximumRecordAgeSeconds', 'parallelizationFactor']) ?? {});
  const stream = {
    batchSize: r.number(s.batchSize, 'stream.batchSize', 1, 10_000, 100),
    batchingWindowSeconds: r.number(s.batchingWindowSeconds, 'stream.batchingWindowSeconds', 0, 300, 0),
    maximumRetryAttempts: r.number(s.maximumRetryAttempts, 'stream.maximumRetryAttempts', 0, 10_000, 10),
    maximumRecordAgeSeconds: r.number(s.maximumRecordAgeSeconds, 'stream.maximumRecordAgeSeconds', 60, 86_400, 3600),
    parallelizationFactor: r.number(s.parallelizationFactor, 'stream.parallelizationFactor', 1, 10, 1),
  };
  const a = t.alarms === undefined ? {} : (r.object(t.alarms, 'alarms', ['iteratorAgeMs', 'replicationLatencyMs', 'conflicts']) ?? {});
  const alarms = {
    iteratorAgeMs: r.number(a.iteratorAgeMs, 'alarms.iteratorAgeMs', 1, 86_400_000, 60_000),
    replicationLatencyMs: r.number(a.replicationLatencyMs, 'alarms.replicationLatencyMs', 1, 86_400_000, 120_000),
    conflicts: r.number(a.conflicts, 'alarms.conflicts', 0, 1_000_000, 0),
  };
  const l = t.lambda === undefined ? {} : (r.object(t.lambda, 'lambda', ['memoryMb', 'timeoutSeconds']) ?? {});
  const lambda = { memoryMb: r.number(l.memoryMb, 'lambda.memoryMb', 128, 10_240, DEFAULT_MEMORY_MB), timeoutSeconds: r.number(l.timeoutSeconds, 'lambda.timeoutSeconds', 1, 900, 60) };
  const deletionProtection = r.boolean(t.deletionProtection, 'deletionProtection', true);
  const tags = readTags(r, t.tags);
  checkKeyAttributes(r, partitionKey, sortKey, globalSecondaryIndexes, ttlAttribute);
  if (problems.length > before) return undefined;
  return {
    name: name!,
    partitionKey: partitionKey!,
    ...(sortKey && { sortKey }),
    globalSecondaryIndexes: globalSecondaryIndexes!,
    primaryRegion: primaryRegion!,
    replicaRegions: replicaRegions!,
    linkSlots: linkSlots!,
    billing: billing!,
    ...(ttlAttribute && { ttlAttribute }),
    conflictPolicy: conflictPolicy!,
    replicateTtlDeletes: replicateTtlDeletes!,
    stream: stream as TableModel['stream'],
    alarms: alarms as TableModel['alarms'],
    lambda: lambda as TableModel['lambda'],
    deletionProtection: deletionProtection!,
    tags: tags!,
  };
}

/**
 * Key attributes are the items' identity: one named with the replication prefix would be stripped
 * from every image (all items would collapse into one), and one attribute cannot have two types.
 */
function checkKeyAttributes(r: Reader, pk?: KeyAttribute, sk?: KeyAttribute, indexes?: GlobalSecondaryIndex[], ttlAttribute?: string): void {
  const keys: [string, KeyAttribute | undefined][] = [
    ['partitionKey', pk],
    ['sortKey', sk],
    ...(indexes ?? []).flatMap((g, i): [string, KeyAttribute | undefined][] => [
      [`globalSecondaryIndexes[${i}].partitionKey`, g.partitionKey],
      [`globalSecondaryIndexes[${i}].sortKey`, g.sortKey],
    ]),
  ];
  const typeOf = new Map<string, [string, KeyType]>();
  for (const [where, key] of keys) {
    if (!key) continue;
    if (key.name.startsWith(METADATA_PREFIX)) r.problem(`${where}.name`, key.name, `names starting with ${METADATA_PREFIX} are reserved for replication metadata; rename the attribute`);
    const seen = typeOf.get(key.name);
    if (seen && seen[1] !== key.type) r.problem(`${where}.type`, key.type, `${key.name} is type ${seen[1]} as ${seen[0]}; an attribute has one type: use ${seen[1]} or another attribute`);
    else if (!seen) typeOf.set(key.name, [where, key.type]);
  }
  if (ttlAttribute?.startsWith(METADATA_PREFIX)) r.problem('ttlAttribute', ttlAttribute, `names starting with ${METADATA_PREFIX} are reserved for replication metadata; use the table's own TTL attribute`);
}

function parseReplicaRegions(r: Reader, raw: unknown, primary: string | undefined): string[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return r.problem('replicaRegions', raw, 'list at least one region to replicate to, such as [eu-west-1]');
  const regions = raw.map((x, i) => r.region(x, `replicaRegions[${i}]`));
  regions.forEach((region, i) => {
    if (region && region === primary) r.problem(`replicaRegions[${i}]`, region, 'is the primary region; a replica must be in another region');
    else if (region && regions.indexOf(region) !== i) r.problem(`replicaRegions[${i}]`, region, 'is listed twice; list each replica region once');
  });
  return regions.every(Boolean) ? (regions as string[]) : undefined;
}

function parseLinkSlots(r: Reader, raw: unknown, regions: (string | undefined)[]): Record<string, number> | undefined {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return r.problem('linkSlots', raw, 'use a map of region to link slot, such as { eu-west-1: 1 }');
  const out: Record<string, number> = {};
  for (const [region, slot] of Object.entries(raw as Raw)) {
    if (!regions.includes(region)) r.problem(`linkSlots.${region}`, slot, `${region} is not a region of this table; pin only regions it lists`);
    else if (slot !== 0 && slot !== 1 && slot !== '0' && slot !== '1') r.problem(`linkSlots.${region}`, slot, 'use 0 or 1 (each stream has two link slots)');
    else out[region] = Number(slot);
  }
  return out;
}

function parseBilling(r: Reader, t: Raw): Billing | undefined {
  const mode = r.oneOf(t.billingMode, 'billingMode', ['PAY_PER_REQUEST', 'PROVISIONED'] as const, 'PAY_PER_REQUEST');
  if (mode !== 'PROVISIONED') {
    for (const k of ['readCapacity', 'writeCapacity']) if (t[k] !== undefined) r.problem(k, t[k], 'only with billingMode PROVISIONED; remove it or set billingMode: PROVISIONED');
    return mode ? { mode } : undefined;
  }
  const readCapacity = r.number(t.readCapacity, 'readCapacity', 1, 40_000);
  const writeCapacity = r.number(t.writeCapacity, 'writeCapacity', 1, 40_000);
  return readCapacity && writeCapacity ? { mode, readCapacity, writeCapacity } : undefined;
}

function parseIndexes(r: Reader, raw: unknown, billing: Billing | undefined): GlobalSecondaryIndex[] | undefined {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return r.problem('globalSecondaryIndexes', raw, 'use a list of indexes');
  const out = raw.map((g, i): GlobalSecondaryIndex | undefined => {
    const key = `globalSecondaryIndexes[${i}]`;
    const o = r.object(g, key, ['name', 'partitionKey', 'sortKey', 'projectionType', 'nonKeyAttributes', 'readCapacity', 'writeCapacity']);
    if (!o) return undefined;
    const name = r.string(o.name, `${key}.name`, NAME, 'use an index name of 3 to 255 characters from A-Z a-z 0-9 _ - .');
    const partitionKey = r.key(o.partitionKey, `${key}.partitionKey`);
    const sortKey = o.sortKey === undefined ? undefined : r.key(o.sortKey, `${key}.sortKey`);
    const projectionType = r.oneOf(o.projectionType, `${key}.projectionType`, ['ALL', 'KEYS_ONLY', 'INCLUDE'] as const, 'ALL');
    let nonKeyAttributes: string[] | undefined;
    if (o.nonKeyAttributes !== undefined) {
      if (projectionType !== 'INCLUDE') r.problem(`${key}.nonKeyAttributes`, o.nonKeyAttributes, 'only with projectionType INCLUDE');
      else if (!Array.isArray(o.nonKeyAttributes) || o.nonKeyAttributes.some((a) => typeof a !== 'string' || a === '')) r.problem(`${key}.nonKeyAttributes`, o.nonKeyAttributes, 'use a list of attribute names');
      else nonKeyAttributes = o.nonKeyAttributes as string[];
    } else if (projectionType === 'INCLUDE') r.problem(`${key}.nonKeyAttributes`, undefined, 'list the attributes to project with INCLUDE');
    const capacity = (k: 'readCapacity' | 'writeCapacity') =>
      o[k] === undefined ? undefined : billing?.mode === 'PROVISIONED' ? r.number(o[k], `${key}.${k}`, 1, 40_000) : r.problem(`${key}.${k}`, o[k], 'only with billingMode PROVISIONED');
    const readCapacity = capacity('readCapacity');
    const writeCapacity = capacity('writeCapacity');
    if (!name || !partitionKey || !projectionType) return undefined;
    return { name, partitionKey, ...(sortKey && { sortKey }), projectionType, ...(nonKeyAttributes && { nonKeyAttributes }), ...(readCapacity && { readCapacity }), ...(writeCapacity && { writeCapacity }) };
  });
  const names = out.map((g) => g?.name);
  names.forEach((n, i) => n && names.indexOf(n) !== i && r.problem(`globalSecondaryIndexes[${i}].name`, n, 'is used by another index; index names must be unique'));
  return out.every(Boolean) ? (out as GlobalSecondaryIndex[]) : undefined;
}

/** `tags`: at most 50, AWS's tag lengths. */
export function readTags(r: Reader, raw: unknown): Record<string, string> | undefined {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return r.problem('tags', raw, 'use a map of tag names to string values');
  const entries = Object.entries(raw as Raw);
  if (entries.length > 50) r.problem('tags', `${entries.length} tags`, 'use at most 50 tags (AWS limit)');
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > 128) r.problem(`tags.${k}`, k, 'tag names have 1 to 128 characters');
    if (typeof v !== 'string' || v.length > 256) r.problem(`tags.${k}`, v, 'tag values are strings of at most 256 characters');
  }
  return raw as Record<string, string>;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length]![b.length]!;
}
