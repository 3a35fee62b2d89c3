import * as aws from '@pulumi/aws';
import { ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy';

export const tableRecoveryAndEncryption: ResourceValidationPolicy = {
  name: 'dynamodb-table-pitr-and-kms',
  description: 'DynamoDB tables have point-in-time recovery and KMS server-side encryption.',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(aws.dynamodb.Table, (t, _args, report) => {
    if (t.pointInTimeRecovery?.enabled !== true) report('point-in-time recovery is off: set pointInTimeRecovery.enabled to true');
    if (t.serverSideEncryption?.enabled !== true) report('KMS server-side encryption is off: set serverSideEncryption.enabled to true (AWS managed key or your own kmsKeyArn)');
  }),
};
