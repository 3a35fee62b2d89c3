import * as aws from '@pulumi/aws';
import { ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy';

export const alarmsHaveActions: ResourceValidationPolicy = {
  name: 'alarm-has-action',
  description: 'Every CloudWatch alarm notifies someone.',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(aws.cloudwatch.MetricAlarm, (a, _args, report) => {
    if (!a.alarmActions || a.alarmActions.length === 0 || a.actionsEnabled === false) report('the alarm has no enabled alarmActions: nobody would hear it; add an SNS topic');
  }),
};
