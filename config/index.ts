// The config surface of the package ("ddb-replicator/config"): the validator that turns raw table
// settings into the model ReplicatedTable takes, the model's types and the physical-name rules.
export { parseStackConfig, StackConfigError, AWS_REGIONS } from './parse';
export type { Billing, GlobalSecondaryIndex, KeyAttribute, KeyType, LambdaSettings, StackModel, StreamSettings, AlarmThresholds, TableModel } from './model';
export { NAME_RULES, NameKind, physicalName, stateTableName, linkNames, alarmTopicName } from './names';
export { LINK_SLOTS, linkSlot, linksFrom, LinkPlan } from './links';
