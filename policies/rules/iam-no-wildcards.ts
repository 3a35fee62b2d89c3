import * as aws from '@pulumi/aws';
import { ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy';

type Statement = { Effect?: string; Action?: string | string[]; NotAction?: unknown; Resource?: string | string[] };
const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const GUARDED = /^(dynamodb|sqs):/;

/** Problems of one policy document: wildcard actions anywhere, wildcard resources on DynamoDB, Streams or SQS. */
export function wildcardProblems(policy: unknown): string[] {
  let doc: { Statement?: Statement | Statement[] };
  try {
    doc = typeof policy === 'string' ? JSON.parse(policy) : (policy as typeof doc);
  } catch {
    return ['the policy is not valid JSON'];
  }
  const problems: string[] = [];
  for (const s of list(doc?.Statement)) {
    if (s.Effect === 'Deny') continue;
    const actions = list(s.Action);
    for (const a of actions) if (a === '*' || a.endsWith(':*')) problems.push(`action ${a} grants every action: name the actions`);
    if (s.NotAction !== undefined) problems.push('NotAction grants everything not listed: name the actions instead');
    const wildResource = list(s.Resource).some((r) => r === '*' || /^arn:aws[\w-]*:(dynamodb|sqs):\*/.test(r) || /:table\/\*$/.test(r));
    if (wildResource && actions.some((a) => GUARDED.test(a))) problems.push(`resource * on ${actions.filter((a) => GUARDED.test(a)).join(', ')}: name the exact table, stream or queue ARNs`);
  }
  return problems;
}

const check = (policy: unknown, report: (m: string) => void) => wildcardProblems(policy).forEach((m) => report(m));

export const iamNoWildcards: ResourceValidationPolicy = {
  name: 'iam-no-wildcards',
  description: 'IAM policies grant no "*" action, and no "*" resource on DynamoDB, DynamoDB Streams or SQS.',
  enforcementLevel: 'mandatory',
  validateResource: [
    validateResourceOfType(aws.iam.RolePolicy, (p, _a, report) => check(p.policy, report)),
    validateResourceOfType(aws.iam.Policy, (p, _a, report) => check(p.policy, report)),
    validateResourceOfType(aws.iam.Role, (r, _a, report) => (r.inlinePolicies ?? []).forEach((p) => p.policy && check(p.policy, report))),
  ],
};
