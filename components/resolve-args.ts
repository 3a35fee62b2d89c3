import * as pulumi from '@pulumi/pulumi';
import type { TableModel } from '../config/model';
import { Reader, readAlarmEmail, readMetricsNamespace, readTable, readTags } from '../config/parse';
import type { ReplicatedTableArgs } from './replicated-table-args';

/** A ReplicatedTable's args with every default applied and every rule checked. */
export interface ResolvedTable {
  /** The same model the stack config produces; its tags are empty when they are not known yet. */
  readonly model: TableModel;
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
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
  const message = (found: string[]) => `invalid ReplicatedTable ${componentName}: ${found.join('; ')}`;
  /** Checks a value once it is known, with the same rule and message (its own problems only). */
  const later = <T>(value: pulumi.Input<T>, read: (r: Reader, v: unknown) => unknown) =>
    pulumi.output(value).apply((v) => {
      const found: string[] = [];
      read(new Reader(found, ''), v);
      if (found.length > 0) throw fail(message(found));
      return v as T;
    });

  // A known map keeps its keys known (and the tables' group tag with them); each value is checked when known.
  const tagMap = pulumi.Output.isInstance(tags) || tags instanceof Promise ? undefined : ((tags ?? {}) as Record<string, pulumi.Input<string>>);
  if (tagMap) readTags(r, Object.fromEntries(Object.entries(tagMap).map(([k, v]) => [k, isPlain(v) ? v : ''])));
  const knownEmail = isPlain(alarmEmail) ? readAlarmEmail(r, alarmEmail) : undefined;
  const namespace = readMetricsNamespace(r, metricsNamespace);
  const named = table.name !== undefined;
  const model = readTable({ ...table, name: named ? table.name : componentName, tags: {} }, '', problems);
  // The table takes the component's name unless args.name is set: say so when that name does not fit.
  if (!named) problems.forEach((p, i) => p.startsWith('name is ') && (problems[i] = p.replace(/^name is ("[^"]*")/, 'name is $1 (the component\'s name, as args.name is not set)')));
  if (problems.length > 0 || !model) throw fail(message(problems));

  const checkedTags = tagMap
    ? Object.fromEntries(Object.entries(tagMap).map(([k, v]) => [k, isPlain(v) ? v : later(v, (lr, known) => readTags(lr, { [k]: known }))]))
    : later(tags as pulumi.Input<Record<string, string>>, readTags);
  // A known empty alarmEmail means none; one from another resource must be an address, as its subscriptions exist already.
  const email = alarmEmail === undefined || isPlain(alarmEmail) ? knownEmail : later(alarmEmail, (lr, v) => (v === '' || v === undefined ? lr.problem('alarmEmail', v, 'an alarmEmail from another resource must be an e-mail address; leave alarmEmail out for none') : readAlarmEmail(lr, v)));
  return {
    model: { ...model, tags: tagMap && Object.values(tagMap).every(isPlain) ? (tagMap as Record<string, string>) : {} },
    tags: checkedTags as pulumi.Input<Record<string, pulumi.Input<string>>>,
    ...(email !== undefined && { alarmEmail: email }),
    metricsNamespace: namespace!,
  };
}

/** A value with no Output or Promise in it: checked now. */
function isPlain(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return false;
  if (typeof value === 'object' && value !== null) return Object.values(value).every(isPlain);
  return true;
}
