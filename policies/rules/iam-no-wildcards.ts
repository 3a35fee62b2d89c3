import * as aws from '@pulumi/aws';
import { ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy';
import { Unchecked, UNKNOWN } from '../lib/preview-unknowns';

type Statement = { Effect?: string; Action?: string | string[]; NotAction?: unknown; Resource?: string | string[] };
type Report = (message: string) => void;
const GUARDED = /^(dynamodb|sqs):/;

/**
 * Checks one policy document: wildcard actions in every statement first, then wildcard resources
 * on DynamoDB, Streams or SQS actions. Actions come first because they rarely depend on other
 * resources while resources usually do; parts still unknown at preview are left to `unchecked`.
 */
export function checkPolicyDocument(policy: unknown, path: string, report: Report, unchecked: Unchecked): void {
  let doc: { Statement?: Statement | Statement[] };
  try {
    doc = typeof policy === 'string' ? JSON.parse(policy) : (policy as typeof doc);
  } catch {
    report(`${path} is not valid JSON: give IAM a JSON policy document`);
    return;
  }
  const allowed = unchecked
    .items(`${path}.Statement`, () => doc?.Statement)
    .filter(({ value: s, path: at }) => unchecked.read(`${at}.Effect`, () => s.Effect) !== 'Deny')
    .map(({ value: s, path: at }) => ({ s, at, actions: unchecked.items(`${at}.Action`, () => s.Action).map((a) => a.value) }));
  for (const { s, at, actions } of allowed) {
    for (const a of actions) if (a === '*' || a.endsWith(':*')) report(`action ${a} grants every action: name the actions`);
    if (unchecked.read(`${at}.NotAction`, () => s.NotAction) !== undefined) report('NotAction grants everything not listed: name the actions instead');
  }
  for (const { s, at, actions } of allowed) {
    const guarded = actions.filter((a) => GUARDED.test(a));
    if (guarded.length === 0) continue;
    const resources = unchecked.items(`${at}.Resource`, () => s.Resource).map((r) => r.value);
    if (resources.some((r) => r === '*' || /^arn:aws[\w-]*:(dynamodb|sqs):\*/.test(r) || /:table\/\*$/.test(r))) {
      report(`resource * on ${guarded.join(', ')}: name the exact table, stream or queue ARNs`);
    }
  }
}

/** Checks every known document; then one advisory for what is unknown, worded for whole documents. */
function checkDocuments(read: (unchecked: Unchecked) => { path: string; policy: unknown }[], report: Report): void {
  const unchecked = new Unchecked();
  const documents = read(unchecked);
  for (const { path, policy } of documents) if (policy !== UNKNOWN && policy !== undefined) checkPolicyDocument(policy, path, report, unchecked);
  const whole = documents.filter((d) => d.policy === UNKNOWN).map((d) => d.path);
  if (whole.length > 0 && whole.length === unchecked.unknownPaths.length) {
    unchecked.finish(
      `the policy document ${whole.join(', ')} is unknown as a whole at preview: it is built (with apply or interpolation) from outputs of resources this update creates, ` +
        'typically their ARNs, so none of its actions or resources can be read before they exist; pulumi up checks them',
    );
  }
  unchecked.finish();
}

export const iamNoWildcards: ResourceValidationPolicy = {
  name: 'iam-no-wildcards',
  description: 'IAM policies grant no "*" action, and no "*" resource on DynamoDB, DynamoDB Streams or SQS.',
  enforcementLevel: 'mandatory',
  validateResource: [
    validateResourceOfType(aws.iam.RolePolicy, (p, _a, report) => checkDocuments((u) => [{ path: 'policy', policy: u.read('policy', () => p.policy) }], report)),
    validateResourceOfType(aws.iam.Policy, (p, _a, report) => checkDocuments((u) => [{ path: 'policy', policy: u.read('policy', () => p.policy) }], report)),
    validateResourceOfType(aws.iam.Role, (r, _a, report) =>
      checkDocuments((u) => u.items('inlinePolicies', () => r.inlinePolicies).map(({ value: p, path }) => ({ path: `${path}.policy`, policy: u.read(`${path}.policy`, () => p.policy) })), report),
    ),
  ],
};
