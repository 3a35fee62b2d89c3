import { isDeepStrictEqual } from 'node:util';
import { unknownValue } from '@pulumi/pulumi/runtime/rpc';
import type { MockedResource, NewRegistration } from './mocks';
import { FORCE_NEW, isRegional, PROVIDER_FORCE_NEW, tableKeyTypeChange } from './replace-rules';
import { aliasUrns } from './urns';

export type ChangeOp = 'create' | 'update' | 'replace' | 'delete' | 'same';

export interface Change {
  readonly op: ChangeOp;
  readonly urn: string;
  /** The URN in the base, when the resource was found through an alias. */
  readonly oldUrn?: string;
  readonly type: string;
  readonly name: string;
  /** A region, `global` for resources without one, `components` for component resources. */
  readonly group: string;
  /** What changed: `key: old -> new` per input, `region`, `provider`; replace reasons first. */
  readonly reasons: readonly string[];
  /** A replaced or deleted resource the program keeps in the cloud (`retainOnDelete`). */
  readonly retained: boolean;
  readonly protected: boolean;
  /** Why this change is dangerous; set for the changes that fail the plan. */
  readonly risk?: string;
}

/** Replacing or deleting these loses data or alerting; the second part says what is lost. */
const AT_RISK: Readonly<Record<string, [string, string]>> = {
  'aws:dynamodb/table:Table': ['table', 'its items are lost: the new table starts empty'],
  'aws:sqs/queue:Queue': ['queue', 'failed batches waiting in it are lost'],
  'aws:sns/topic:Topic': ['alarm topic', 'alarms notify nobody until it exists again and subscribers confirm again'],
  'aws:sns/topicSubscription:TopicSubscription': ['alarm subscription', 'the subscriber gets no alarms until it confirms again'],
};

/**
 * Decides, as the engine does, what applying the new config does to each resource of the base:
 * identity is the URN (or an alias of it); a provider whose DiffConfig asks for it, a changed region
 * or a changed replace-on-change input means replace; other input changes update; base resources
 * no longer declared are deleted. Hand `existing` to the new run's mocks: it decides each
 * registration as it happens, so a replaced resource's outputs are unknown to its dependents, as in
 * a real preview (a dependent's replace-on-change input then replaces it too).
 */
export class ChangePlanner {
  private readonly oldByUrn: Map<string, MockedResource>;
  private readonly matched = new Map<string, MockedResource>(); // new URN -> the base resource it is
  private readonly claimed = new Set<string>();
  private readonly replaced = new Set<string>(); // new URNs
  private readonly newByUrn = new Map<string, NewRegistration>();
  private readonly changes: Change[] = [];

  /** `base`: the resources as the base config declares them, all existing (none for a stack new at the base). */
  constructor(private readonly base: readonly MockedResource[]) {
    this.oldByUrn = new Map(base.map((r) => [r.urn, r]));
  }

  readonly existing = (reg: NewRegistration): { id: string; state: Record<string, unknown> } | undefined => {
    this.newByUrn.set(reg.urn, reg);
    const old = this.find(reg);
    if (!old) {
      this.changes.push(change('create', reg, undefined, []));
      return undefined;
    }
    this.claimed.add(old.urn);
    this.matched.set(reg.urn, old);
    const { op, reasons } = this.diff(old, reg);
    if (op === 'replace') this.replaced.add(reg.urn);
    this.changes.push(change(op, reg, old, reasons));
    return op === 'replace' ? undefined : { id: old.id, state: old.state };
  };

  /** Every change, the deletions of base resources the new run did not declare last. */
  result(): Change[] {
    const deletes = this.base.filter((r) => !this.claimed.has(r.urn)).map((r) => change('delete', r, r, []));
    return [...this.changes, ...deletes];
  }

  private find(reg: NewRegistration): MockedResource | undefined {
    const free = (urn: string) => (this.claimed.has(urn) ? undefined : this.oldByUrn.get(urn));
    const [stack, project] = reg.urn.slice('urn:pulumi:'.length).split('::');
    const ctx = { stack: stack!, project: project!, parentMatchedAlias: (urn: string) => this.matchedThroughAlias(urn) };
    return free(reg.urn) ?? aliasUrns(ctx, reg.type, reg.name, reg.parent, reg.aliases).map(free).find(Boolean);
  }

  private matchedThroughAlias(newUrn: string): string | undefined {
    const old = this.matched.get(newUrn);
    return old && old.urn !== newUrn ? old.urn : undefined;
  }

  private diff(old: MockedResource, reg: NewRegistration): { op: ChangeOp; reasons: string[] } {
    const replace: string[] = [];
    const update: string[] = [];
    if (reg.type.startsWith('pulumi:providers:')) {
      // A provider's own diff is its DiffConfig.
      for (const key of changedKeys(old.wireInputs, reg.wireInputs)) (PROVIDER_FORCE_NEW[reg.type]?.includes(key) ? replace : update).push(describe(key, old.wireInputs, reg.wireInputs));
      return { op: replace.length ? 'replace' : update.length ? 'update' : 'same', reasons: [...replace, ...update] };
    }
    if (reg.custom) {
      const oldProvider = old.providerUrn ? this.oldByUrn.get(old.providerUrn) : undefined;
      const newProvider = reg.providerUrn ? this.newByUrn.get(reg.providerUrn) : undefined;
      const sameProvider = (reg.providerUrn ? this.matched.get(reg.providerUrn)?.urn : undefined) === old.providerUrn;
      // A replaced provider gets a new ID, so its resources see a new provider reference (DiffConfig already asked for it).
      if (reg.providerUrn && this.replaced.has(reg.providerUrn)) replace.push(`provider ${reg.providerUrn.split('::').pop()} is replaced`);
      else if (!sameProvider && oldProvider && newProvider) {
        const forcing = changedKeys(oldProvider.wireInputs, newProvider.wireInputs).filter((k) => PROVIDER_FORCE_NEW[newProvider.type]?.includes(k));
        if (forcing.length) replace.push(`provider ${oldProvider.name} -> ${newProvider.name} (${forcing.join(', ')})`);
      }
      if (isRegional(reg.type) && old.region && reg.region && old.region !== reg.region) replace.push(`region ${old.region} -> ${reg.region}`);
    }
    const news = withIgnoredChanges(old.wireInputs, reg.wireInputs, reg.ignoreChanges);
    const forceNew = new Set([...(FORCE_NEW[reg.type] ?? []), ...reg.replaceOnChanges]);
    for (const key of changedKeys(old.wireInputs, news)) {
      if (key === 'region' && replace.some((r) => r.startsWith('region '))) continue;
      (forceNew.has(key) || forceNew.has('*') ? replace : update).push(describe(key, old.wireInputs, news));
    }
    const keyType = reg.type === 'aws:dynamodb/table:Table' ? tableKeyTypeChange(old.wireInputs, news) : undefined;
    if (keyType) replace.push(keyType);
    return { op: replace.length ? 'replace' : update.length ? 'update' : 'same', reasons: [...replace, ...update] };
  }
}

function change(op: ChangeOp, now: NewRegistration, old: MockedResource | undefined, reasons: string[]): Change {
  const retained = (op === 'replace' || op === 'delete') && !!old?.retainOnDelete;
  // The engine refuses to delete a protected resource, and to replace one still protected.
  const isProtected = op === 'delete' ? !!old?.protect : op === 'replace' ? !!old?.protect && now.protect : now.protect;
  const risks: string[] = [];
  const atRisk = AT_RISK[now.type];
  if (atRisk && (op === 'replace' || op === 'delete') && !retained) {
    const physical = typeof old?.wireInputs.name === 'string' ? old.wireInputs.name : now.name;
    risks.push(`${op === 'replace' ? 'replaces' : 'deletes'} ${atRisk[0]} ${physical}: ${atRisk[1]}`);
  }
  if (isProtected && (op === 'replace' || op === 'delete')) {
    risks.push(
      retained && op === 'delete'
        ? `it is protected: \`pulumi up\` refuses to remove it until you run \`pulumi state unprotect '${old!.urn}'\`; then it leaves the stack and stays in AWS`
        : `it is protected: \`pulumi up\` refuses to ${op} it`,
    );
  }
  // Unprotected or not, a retained resource replaced under its own name cannot be created again.
  const collision = op === 'replace' && retained ? nameKeptByRetainedOld(now, old!) : undefined;
  if (collision) risks.push(collision);
  return {
    op,
    urn: now.urn,
    oldUrn: old && old.urn !== now.urn ? old.urn : undefined,
    type: now.type,
    name: now.name,
    group: groupOf(now),
    reasons,
    retained,
    protected: isProtected,
    risk: risks.length ? risks.join('; ') : undefined,
  };
}

/**
 * A retained resource replaced under the same explicit physical name cannot be replaced: pulumi-aws
 * (pulumi-terraform-bridge `nameRequiresDeleteBeforeReplace`) asks for delete-before-replace whenever
 * an auto-nameable `name` is set by the program, the engine then deletes the old resource first
 * (step_generator.go), but a retained resource's delete is a no-op (step.go DeleteStep: RetainOnDelete),
 * so the create runs while the old resource still holds the name, and fails at `pulumi up`. (A
 * `deleteBeforeReplace: false` option would create first: the same collision.) Returns the risk, or
 * undefined when the name changes, the program lets the provider name it, or the resource moves to
 * another region (names of regional resources are per region).
 */
function nameKeptByRetainedOld(now: NewRegistration, old: MockedResource): string | undefined {
  if (!now.custom || !now.type.startsWith('aws:')) return undefined;
  const before = old.wireInputs.name;
  const after = now.wireInputs.name;
  if (typeof before !== 'string' || before === unknownValue || after !== before) return undefined;
  if (isRegional(now.type) && old.region !== now.region) return undefined;
  const what = AT_RISK[now.type]?.[0] ?? now.type;
  return (
    `replaces retained ${what} ${before} under the same name: the AWS provider deletes an explicitly named resource before creating its replacement, ` +
    `retainOnDelete skips that delete, so creating ${before} again fails at \`pulumi up\` (it already exists); ` +
    `fix: give the replacement a new name, or delete the old one in AWS and run \`pulumi state delete '${old.urn}'\` first if what it holds may go`
  );
}

function groupOf(r: NewRegistration): string {
  if (!r.custom) return 'components';
  if (r.type.startsWith('pulumi:providers:') || isRegional(r.type)) return r.region ?? 'default region';
  return 'global';
}

/** Top-level inputs whose values differ; an unknown new value differs from any known one. */
function changedKeys(olds: Record<string, unknown>, news: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((k) => !isDeepStrictEqual(olds[k], news[k])).sort();
}

/** The engine keeps the old value of every `ignoreChanges` path (dot-separated here). */
function withIgnoredChanges(olds: Record<string, unknown>, news: Record<string, unknown>, paths: readonly string[]): Record<string, unknown> {
  if (!paths.length) return news;
  const out = structuredClone(news);
  for (const path of paths) {
    const keys = path.split('.');
    const last = keys.pop()!;
    const from = keys.reduce<any>((o, k) => o?.[k], olds);
    const to = keys.reduce<any>((o, k) => (o && typeof o[k] === 'object' ? o[k] : undefined), out);
    if (!to) continue;
    if (from?.[last] === undefined) delete to[last];
    else to[last] = structuredClone(from[last]);
  }
  return out;
}

function describe(key: string, olds: Record<string, unknown>, news: Record<string, unknown>): string {
  return `${key}: ${shown(olds[key])} -> ${shown(news[key])}`;
}

function shown(v: unknown): string {
  if (v === undefined) return '(none)';
  const text = JSON.stringify(v);
  if (text.includes(unknownValue)) return '(known after apply)';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
