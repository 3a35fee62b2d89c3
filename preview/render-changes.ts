import type { Change, ChangeOp } from './plan-diff';

const SYMBOL: Record<ChangeOp, string> = { create: '+ create ', update: '~ update ', replace: '+-replace', delete: '- delete ', same: '  same   ' };
const ORDER: ChangeOp[] = ['create', 'update', 'replace', 'delete'];

export function summarize(changes: readonly Change[]) {
  const count = (op: ChangeOp) => changes.filter((c) => c.op === op).length;
  return { create: count('create'), update: count('update'), replace: count('replace'), delete: count('delete'), same: count('same') };
}

/** The change plan grouped by region (then `global` and `components`), unchanged resources counted only. */
export function renderChangesText(changes: readonly Change[], baseSource: string): string {
  const s = summarize(changes);
  const aliased = changes.filter((c) => c.oldUrn).length;
  const lines = [
    `Changes from the base (${baseSource}): ${s.create} to create, ${s.update} to update, ${s.replace} to replace, ${s.delete} to delete, ${s.same} unchanged${aliased ? ` (${aliased} found through aliases)` : ''}`,
    '',
  ];
  const changed = changes.filter((c) => c.op !== 'same');
  const groups = [...new Set(changed.map((c) => c.group))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  for (const group of groups) {
    lines.push(group);
    const inGroup = changed.filter((c) => c.group === group).sort((a, b) => ORDER.indexOf(a.op) - ORDER.indexOf(b.op) || a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
    for (const c of inGroup) {
      const notes = [c.retained && 'retained: the program keeps it (retainOnDelete)', c.oldUrn && `was ${c.oldUrn.split('::').pop()} (alias)`].filter(Boolean);
      lines.push(`  ${SYMBOL[c.op]}  ${c.type}  ${c.name}${notes.length ? `  [${notes.join('; ')}]` : ''}`);
      for (const reason of c.reasons) lines.push(`        ${reason}`);
      if (c.risk) lines.push(`        ERROR: ${c.risk}`);
    }
    lines.push('');
  }
  const risky = changes.filter((c) => c.risk);
  lines.push(
    risky.length
      ? `${risky.length} change(s) would lose data or alerting, or fail: keep those resources (same logical name, an alias, or retainOnDelete, with a new name where a retained one is replaced) or change them deliberately`
      : 'No table, queue, alarm topic or subscription is lost: none is replaced or deleted unless the program retains it.',
    '',
  );
  return lines.join('\n');
}

const rank = (group: string) => (group === 'components' ? 2 : group === 'global' ? 1 : 0);
