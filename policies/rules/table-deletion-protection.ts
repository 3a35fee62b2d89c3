import * as aws from '@pulumi/aws';
import { ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy';

export const tableDeletionProtection: ResourceValidationPolicy = {
  name: 'dynamodb-table-deletion-protection',
  description: 'DynamoDB tables have deletion protection (set this policy to advisory for scratch stacks).',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(aws.dynamodb.Table, (t, _args, report) => {
    if (t.deletionProtectionEnabled !== true) report('deletion protection is off: set deletionProtectionEnabled to true');
  }),
};
