import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { LambdaBundle } from './lambda-bundle';
import { LAMBDA_ASSUME_ROLE_POLICY } from './replication-policy';

/** The current Lambda Node.js runtime the handlers are built for (esbuild target node22). */
export const LAMBDA_RUNTIME = 'nodejs22.x';

export interface LambdaWithRoleArgs {
  readonly region: string;
  readonly names: { readonly functionName: string; readonly roleName: string; readonly logGroupName: string };
  readonly bundle: LambdaBundle;
  /** The role's inline policy (named `policyName`), given the log group's ARN it must write to. */
  readonly policyName: string;
  readonly policy: (logGroupArn: pulumi.Output<string>) => pulumi.Input<string>;
  readonly memorySize: number;
  readonly timeout: number;
  readonly environment: Record<string, string>;
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * A handler bundle as an arm64 function with its own role, inline policy and log group (30 days),
 * named explicitly: what every function of this package is made of. The function waits for its
 * policy, so its first invocation has the permissions.
 */
export function lambdaWithRole(name: string, a: LambdaWithRoleArgs, opts: pulumi.CustomResourceOptions) {
  const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { region: a.region, name: a.names.logGroupName, retentionInDays: 30, tags: a.tags }, opts);
  const role = new aws.iam.Role(`${name}-role`, { name: a.names.roleName, assumeRolePolicy: JSON.stringify(LAMBDA_ASSUME_ROLE_POLICY), tags: a.tags }, opts);
  const policy = new aws.iam.RolePolicy(`${name}-policy`, { name: a.policyName, role: role.id, policy: a.policy(logGroup.arn) }, opts);
  const fn = new aws.lambda.Function(
    `${name}-fn`,
    {
      region: a.region,
      name: a.names.functionName,
      runtime: LAMBDA_RUNTIME,
      architectures: ['arm64'],
      handler: 'index.handler',
      role: role.arn,
      code: new pulumi.asset.AssetArchive({ 'index.js': new pulumi.asset.StringAsset(a.bundle.code) }),
      memorySize: a.memorySize,
      timeout: a.timeout,
      loggingConfig: { logFormat: 'Text', logGroup: logGroup.name },
      environment: { variables: a.environment },
      tags: a.tags,
    },
    { ...opts, dependsOn: [policy] },
  );
  return { fn, policy };
}
