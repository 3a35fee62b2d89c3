import * as pulumi from '@pulumi/pulumi';
import type { TableModel } from '../config/model';
import { Reader, readAlarmEmail, readMetricsNamespace, readTable, readTags } from '../config/parse';
import type { ReplicatedTableArgs } from './replicated-table-args';

/** A ReplicatedTable's args with every default applied and every rule checked. */
export interface ResolvedTable {
  /** The same model the stack config produces; its tags are empty when they are not known yet. */
  readonly model: TableModel;
  readonly tags: pulumi.Input<Record<string, string>>;
  readonly alarmEmail?: pulumi.Input<string>;
  readonly metricsNamespace: string;
}

/**
 * Checks the args with the stack config's rules (config/parse.ts) and throws one error naming every
 * problem. Inputs not known yet (tags or alarmEmail from another resource) are checked when they are.
 */
export function resolveTableArgs(componentName: string, args: ReplicatedTableArgs, fail: (message: string) => Error): ResolvedTable {
  const problems: string[] = [];
  const r = new Reader(problems, '');
  const { tags, alarmEmail, metricsNamespace, ...table } = (args ?? {}) as ReplicatedTableArgs;
  const knownTags = isPlain(tags) ? readTags(r, tags) : {};
  const knownEmail = isPlain(alarmEmail) ? readAlarmEmail(r, alarmEmail) : alarmEmail;
  const namespace = readMetricsNamespace(r, metricsNamespace);
  const model = readTable({ ...table, name: table.name ?? componentName, tags: knownTags }, '', problems);
  const message = () => `invalid ReplicatedTable ${componentName}: ${problems.join('; ')}`;
  if (problems.length > 0 || !model) throw fail(message());

  /** Checks a value once it is known, with the same rule and message. */
  const later = <T>(value: pulumi.Input<T>, read: (r: Reader, v: unknown) => unknown) =>
    pulumi.output(value).apply((v) => {
      read(r, v);
      if (problems.length > 0) throw fail(message());
      return v as T;
    });
  return {
    model,
    tags: isPlain(tags) ? model.tags : later(tags as pulumi.Input<Record<string, string>>, readTags),
    ...(knownEmail !== undefined && { alarmEmail: isPlain(alarmEmail) ? knownEmail : later(knownEmail, readAlarmEmail) }),
    metricsNamespace: namespace!,
  };
}

/** A value with no Output or Promise in it: checked now. */
function isPlain(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return false;
  if (typeof value === 'object' && value !== null) return Object.values(value).every(isPlain);
  return true;
}
