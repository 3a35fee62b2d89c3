import type { Policies } from '@pulumi/policy';
import { alarmsHaveActions, dlqDepthAlarm, iteratorAgeAlarm } from './alarms';
import { iamNoWildcards } from './iam';
import { lambdaRuntimeSupported } from './lambda';
import { dlqRetention, sqsEncrypted } from './sqs';
import { maxTwoStreamConsumers, streamMappingSafety, streamViewForReplication } from './streams';
import { replicasMatchSource, tableDeletionProtection, tableRecoveryAndEncryption } from './tables';

/** Every rule of the pack, each usable on any Pulumi program. */
export const policies: Policies = [
  streamViewForReplication,
  tableRecoveryAndEncryption,
  tableDeletionProtection,
  streamMappingSafety,
  maxTwoStreamConsumers,
  iteratorAgeAlarm,
  dlqDepthAlarm,
  alarmsHaveActions,
  replicasMatchSource,
  lambdaRuntimeSupported,
  iamNoWildcards,
  sqsEncrypted,
  dlqRetention,
];
