// Stack program: stack config -> one ReplicatedTable per table -> exports.
import * as pulumi from '@pulumi/pulumi';
import { parseStackConfig, StackConfigError } from './config/parse';
import { regionalProviders } from './components/providers';
import { ReplicatedTable } from './components/replicated-table';

const config = new pulumi.Config('ddb-replicator');
const tablesConfig = (): unknown => {
  try {
    return config.getObject('tables');
  } catch {
    // Pulumi's own message names the value but not the fix.
    throw new pulumi.RunError('invalid ddb-replicator stack configuration: ddb-replicator:tables must be a list of tables (see README, "Stack configuration")');
  }
};

const model = (() => {
  const tables = tablesConfig();
  try {
    return parseStackConfig({ tables, alarmEmail: config.get('alarmEmail'), metricsNamespace: config.get('metricsNamespace') });
  } catch (err) {
    if (!(err instanceof StackConfigError)) throw err;
    // Pulumi's runner prints a RunError as its message alone (no stack trace); the name keeps the offline preview's handling.
    throw Object.assign(new pulumi.RunError(`invalid ddb-replicator stack configuration: ${err.problems.join('; ')}`), { name: err.name });
  }
})();

const providers = regionalProviders(model.tables.flatMap((t) => [t.primaryRegion, ...t.replicaRegions]));

const replicated = model.tables.map(
  (table) => new ReplicatedTable(table.name, { table, providers, metricsNamespace: model.metricsNamespace, alarmEmail: model.alarmEmail }),
);

/** Per table: ARN per region, the stream replication reads, DLQ URLs, function and alarm names. */
export const tables = Object.fromEntries(
  replicated.map((r, i) => [
    model.tables[i]!.name,
    {
      tableArns: r.tableArns,
      streamArn: r.streamArn,
      dlqUrls: r.dlqUrls,
      functionNames: r.functionNames,
      alarmNames: r.alarmNames,
    },
  ]),
);
