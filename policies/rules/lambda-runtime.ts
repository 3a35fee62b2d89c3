import * as aws from '@pulumi/aws';
import { ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy';

/** Runtimes Lambda has deprecated (Lambda developer guide, runtime deprecation policy). */
export const DEPRECATED_RUNTIMES = [
  'nodejs', 'nodejs4.3', 'nodejs4.3-edge', 'nodejs6.10', 'nodejs8.10', 'nodejs10.x', 'nodejs12.x', 'nodejs14.x', 'nodejs16.x', 'nodejs18.x',
  'python2.7', 'python3.6', 'python3.7', 'python3.8', 'java8', 'dotnetcore1.0', 'dotnetcore2.0', 'dotnetcore2.1', 'dotnetcore3.1', 'dotnet5.0', 'dotnet6', 'dotnet7',
  'ruby2.5', 'ruby2.7', 'ruby3.2', 'go1.x', 'provided',
];

export const lambdaRuntimeSupported: ResourceValidationPolicy = {
  name: 'lambda-runtime-not-deprecated',
  description: 'Lambda functions use a runtime Lambda still supports.',
  enforcementLevel: 'mandatory',
  configSchema: { properties: { deprecatedRuntimes: { type: 'array', items: { type: 'string' }, default: DEPRECATED_RUNTIMES } } },
  validateResource: validateResourceOfType(aws.lambda.Function, (fn, args, report) => {
    const { deprecatedRuntimes = DEPRECATED_RUNTIMES } = args.getConfig<{ deprecatedRuntimes?: string[] }>();
    if (fn.runtime && deprecatedRuntimes.includes(String(fn.runtime))) report(`runtime ${fn.runtime} is deprecated: use a current one such as nodejs22.x`);
  }),
};
