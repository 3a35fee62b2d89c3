import { PolicyPack } from '@pulumi/policy';
import { policies } from './rules';

// The only place the pack is constructed: tests and the offline preview import ./rules instead.
new PolicyPack('ddb-replicator', { policies });
