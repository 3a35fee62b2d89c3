/**
 * Resource identity as the Pulumi engine computes it (sdk/go/common/resource/urn/urn.go and the
 * alias rules of pkg/resource/deploy/step_generator.go). The SDK's mock monitor only prefixes the
 * parent's last type, so the offline preview builds URNs here, from the full parent type chain.
 */

const ROOT_STACK_TYPE = 'pulumi:pulumi:Stack';

/** `urn:pulumi:stack::project::parentTypeChain$type::name`; the root stack adds no type. */
export function urnOf(stack: string, project: string, type: string, name: string, parentUrn?: string): string {
  const parentType = parentUrn ? qualifiedType(parentUrn) : '';
  const chain = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${chain}::${name}`;
}

/** The type part of a URN, including the parent type chain. */
export const qualifiedType = (urn: string): string => urn.split('::')[2] ?? '';

/** The name part of a URN (a name may itself contain `::`). */
export const urnName = (urn: string): string => urn.split('::').slice(3).join('::');

/** One entry of a resource's `aliases` option, as the SDK sends it to the engine (alias.proto). */
export interface AliasSpec {
  readonly urn?: string;
  readonly name?: string;
  readonly type?: string;
  readonly stack?: string;
  readonly project?: string;
  readonly parentUrn?: string;
  readonly noParent?: boolean;
}

export interface AliasContext {
  readonly stack: string;
  readonly project: string;
  /** The old URN a (new) parent was matched to through one of its aliases, if it was. */
  readonly parentMatchedAlias: (parentUrn: string) => string | undefined;
}

/**
 * Every old URN a resource may be found under, in the engine's order: its own aliases, then the
 * aliases it inherits from a parent that was itself found through an alias (the child's name prefix
 * follows the parent's old name, as `inheritedChildAlias` does).
 */
export function aliasUrns(ctx: AliasContext, type: string, name: string, parentUrn: string | undefined, specs: readonly AliasSpec[]): string[] {
  const out = new Set<string>();
  const collapse = (a: AliasSpec) => {
    if (a.urn) return a.urn;
    let parent = a.parentUrn ?? parentUrn;
    if (a.parentUrn) parent = ctx.parentMatchedAlias(a.parentUrn) ?? a.parentUrn;
    if (a.noParent) parent = undefined;
    return urnOf(a.stack || ctx.stack, a.project || ctx.project, a.type || type, a.name || name, parent);
  };
  for (const a of specs) out.add(collapse(a));
  const parentAlias = parentUrn ? ctx.parentMatchedAlias(parentUrn) : undefined;
  if (parentUrn && parentAlias) {
    const inherited = (childType: string, childName: string) => {
      const parentName = urnName(parentUrn);
      const aliasName = childName.startsWith(parentName) ? urnName(parentAlias) + childName.slice(parentName.length) : childName;
      return urnOf(ctx.stack, ctx.project, childType, aliasName, parentAlias);
    };
    out.add(inherited(type, name));
    for (const a of specs) {
      const own = collapse(a);
      out.add(inherited(qualifiedType(own).split('$').pop()!, urnName(own)));
    }
  }
  return [...out];
}
