import type { Policies } from '@pulumi/policy';
import { alarmsHaveActions } from './alarm-has-action';
import { dlqDepthAlarm } from './dlq-depth-alarm';
import { dlqRetention } from './dlq-retention';
import { iamNoWildcards } from './iam-no-wildcards';
import { iteratorAgeAlarm } from './iterator-age-alarm';
import { lambdaRuntimeSupported } from './lambda-runtime';
import { replicasMatchSource } from './replicas-match-source';
import { sqsEncrypted } from './sqs-queue-encrypted';
import { streamMappingSafety } from './stream-mapping-safety';
import { maxTwoStreamConsumers } from './stream-max-two-consumers';
import { streamViewForReplication } from './stream-new-and-old-images';
import { tableDeletionProtection } from './table-deletion-protection';
import { tableRecoveryAndEncryption } from './table-pitr-and-kms';

/** Every rule of the pack, each in its own module and usable on any Pulumi program. */
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
