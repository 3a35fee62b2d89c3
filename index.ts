// The stack program: a consumer of the package's public API like any other program. The stack
// config's table entries are ReplicatedTable args; parseStackConfig names every problem at once.
import * as pulumi from '@pulumi/pulumi';
import { ReplicatedTable, ReplicatedTableArgs } from './components';
import { parseStackConfig, StackConfigError } from './config';

const config = new pulumi.Config('ddb-replicator');
const tableConfigs = (() => {
  try {
    return config.getObject<ReplicatedTableArgs[]>('tables');
  } catch {
    // Pulumi's own message names the value but not the fix.
    throw new pulumi.RunError('invalid ddb-replicator stack configuration: ddb-replicator:tables must be a list of tables (see README, "Stack configuration")');
  }
})();
const alarmEmail = config.get('alarmEmail');
const metricsNamespace = config.get('metricsNamespace');

try {
  parseStackConfig({ tables: tableConfigs, alarmEmail, metricsNamespace });
} catch (err) {
  if (!(err instanceof StackConfigError)) throw err;
  // Pulumi's runner prints a RunError as its message alone (no stack trace); the name keeps the offline preview's handling.
  throw Object.assign(new pulumi.RunError(`invalid ddb-replicator stack configuration: ${err.problems.join('; ')}`), { name: err.name });
}

const replicated = tableConfigs!.map((t) => new ReplicatedTable(t.name!, { ...t, alarmEmail, metricsNamespace }));

/** Per table: ARN per region, the stream replication reads, DLQ URLs, function and alarm names. */
export const tables = Object.fromEntries(
  replicated.map((r, i) => [
    tableConfigs![i]!.name!,
    { tableArns: r.tableArns, streamArn: r.streamArn, dlqUrls: r.dlqUrls, functionNames: r.functionNames, alarmNames: r.alarmNames },
  ]),
);
