import * as aws from '@pulumi/aws';
import { StackValidationPolicy } from '@pulumi/policy';
import { REPLICA_GROUP_TAG } from '../lib/stream-resources';

type TableProps = { hashKey?: string; rangeKey?: string; attributes?: { name: string; type: string }[]; globalSecondaryIndexes?: Record<string, unknown>[]; tags?: Record<string, string> };

export const replicasMatchSource: StackValidationPolicy = {
  name: 'dynamodb-replicas-match-source',
  description: `Tables tagged with the same "${REPLICA_GROUP_TAG}" value (a source and its replicas) agree on keys and GSIs.`,
  enforcementLevel: 'mandatory',
  validateStack: (args, report) => {
    const groups = new Map<string, { name: string; urn: string; shape: string }[]>();
    for (const r of args.resources.filter((x) => x.isType(aws.dynamodb.Table))) {
      const p = r.props as TableProps;
      const group = p.tags?.[REPLICA_GROUP_TAG];
      if (!group) continue;
      const types = new Map((p.attributes ?? []).map((a) => [a.name, a.type]));
      const key = (name?: string) => (name ? `${name}:${types.get(name)}` : '-');
      const gsis = (p.globalSecondaryIndexes ?? [])
        .map((g) => JSON.stringify({ name: g.name, keys: g.keySchemas ?? [g.hashKey, g.rangeKey], projection: g.projectionType, include: g.nonKeyAttributes ?? [] }))
        .sort();
      const shape = JSON.stringify({ keys: [key(p.hashKey), key(p.rangeKey)], gsis });
      groups.set(group, [...(groups.get(group) ?? []), { name: r.name, urn: r.urn, shape }]);
    }
    for (const [group, tables] of groups) {
      const first = tables[0]!;
      for (const t of tables.slice(1)) {
        if (t.shape !== first.shape) report(`table ${t.name} differs from ${first.name} (both "${group}") in keys or GSIs: replicas must match their source`, t.urn);
      }
    }
  },
};
