import { CONFLICT_POLICIES, ConflictPolicy, DEFAULTS, ENV } from './contract';

export interface ReplicaTarget {
  readonly region: string;
  readonly tableName: string;
}

export interface ReplicatorConfig {
  readonly targets: readonly ReplicaTarget[];
  /** The replication state table in the source region (this function's region): tombstones. */
  readonly state: ReplicaTarget;
  /** The table's TTL attribute: an item whose TTL has passed counts as deleted in comparisons. */
  readonly ttlAttribute?: string;
  /** How long a region's fence may be trusted before it is read again. */
  readonly fenceCacheMs: number;
  readonly conflictPolicy: ConflictPolicy;
  readonly replicateTtlDeletes: boolean;
  /** Undefined when metrics are off. */
  readonly metricsNamespace?: string;
  readonly maxConcurrency: number;
}

/** Bad configuration: no retry can fix it, so the handler throws it instead of reporting items. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the handler's configuration from environment variables, naming the fix for every bad value. */
export function parseConfig(env: Env): ReplicatorConfig {
  return {
    targets: parseTargets(env[ENV.replicaTargets]),
    state: parseState(env),
    ttlAttribute: env[ENV.ttlAttribute]?.trim() || undefined,
    fenceCacheMs: parseFenceCache(env[ENV.fenceCacheSeconds]) * 1000,
    conflictPolicy: parseConflictPolicy(env[ENV.conflictPolicy]),
    replicateTtlDeletes: parseBoolean(ENV.replicateTtlDeletes, env[ENV.replicateTtlDeletes], DEFAULTS.replicateTtlDeletes),
    metricsNamespace: env[ENV.metricsNamespace]?.trim() || undefined,
    maxConcurrency: parseConcurrency(env[ENV.maxConcurrency]),
  };
}

function parseTargets(raw: string | undefined): ReplicaTarget[] {
  const example = `for example ${ENV.replicaTargets}='[{"region":"eu-west-1","tableName":"Users-eu-west-1"}]'`;
  if (!raw?.trim()) throw new ConfigError(`${ENV.replicaTargets} is not set: set it to a JSON array of replica targets, ${example}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`${ENV.replicaTargets} is not valid JSON (${(err as Error).message}): ${example}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new ConfigError(`${ENV.replicaTargets} must be a non-empty JSON array of targets, ${example}`);
  }
  const seen = new Set<string>();
  return parsed.map((entry: unknown, i) => {
    const { region, tableName } = (entry ?? {}) as Record<string, unknown>;
    if (typeof region !== 'string' || !REGION.test(region)) {
      throw new ConfigError(`${ENV.replicaTargets}[${i}].region is ${JSON.stringify(region)}: use an AWS region name such as "eu-west-1"`);
    }
    if (typeof tableName !== 'string' || !TABLE_NAME.test(tableName)) {
      throw new ConfigError(
        `${ENV.replicaTargets}[${i}].tableName is ${JSON.stringify(tableName)}: use a DynamoDB table name of 3-255 characters from A-Z a-z 0-9 _ - .`,
      );
    }
    const id = `${region}/${tableName}`;
    if (seen.has(id)) throw new ConfigError(`${ENV.replicaTargets} lists ${id} twice: list each replica table once`);
    seen.add(id);
    return { region, tableName };
  });
}

function parseState(env: Env): ReplicaTarget {
  const tableName = env[ENV.stateTable]?.trim();
  if (!tableName || !TABLE_NAME.test(tableName)) {
    throw new ConfigError(`${ENV.stateTable} is ${JSON.stringify(env[ENV.stateTable])}: set it to the replication state table's name in this region (the component sets it)`);
  }
  const region = parseRegion('AWS_REGION', env.AWS_REGION, "run in Lambda, which sets it, or set it to this function's region");
  return { region, tableName };
}

function parseRegion(name: string, raw: string | undefined, fix: string): string {
  const value = raw?.trim();
  if (!value || !REGION.test(value)) throw new ConfigError(`${name} is ${JSON.stringify(raw)}: ${fix}`);
  return value;
}

function parseFenceCache(raw: string | undefined): number {
  if (!raw?.trim()) return DEFAULTS.fenceCacheSeconds;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 300) throw new ConfigError(`${ENV.fenceCacheSeconds} is ${JSON.stringify(raw)}: use a whole number of seconds from 0 to 300`);
  return value;
}

function parseConflictPolicy(raw: string | undefined): ConflictPolicy {
  const value = raw?.trim() || DEFAULTS.conflictPolicy;
  if (!(CONFLICT_POLICIES as readonly string[]).includes(value)) {
    throw new ConfigError(`${ENV.conflictPolicy} is ${JSON.stringify(raw)}: use one of ${CONFLICT_POLICIES.join(', ')}`);
  }
  return value as ConflictPolicy;
}

function parseBoolean(name: string, raw: string | undefined, fallback: boolean): boolean {
  const value = raw?.trim().toLowerCase();
  if (!value) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigError(`${name} is ${JSON.stringify(raw)}: use true or false`);
}

function parseConcurrency(raw: string | undefined): number {
  if (!raw?.trim()) return DEFAULTS.maxConcurrency;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw new ConfigError(`${ENV.maxConcurrency} is ${JSON.stringify(raw)}: use a whole number from 1 to 1000`);
  }
  return value;
}
