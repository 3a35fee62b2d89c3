// A Pulumi program of your own that replicates one DynamoDB table between two regions with the
// ddb-replicator package: `npm install ddb-replicator`, then `pulumi up`.
import * as pulumi from '@pulumi/pulumi';
import { regionalProviders, ReplicatedTable } from 'ddb-replicator/components';
import { parseStackConfig } from 'ddb-replicator/config';

// The same validator (and defaults) as the ddb-replicator stack program's `ddb-replicator:tables`:
// a bad setting throws a StackConfigError naming the table, the key, the value and what is allowed.
const model = parseStackConfig({
  tables: [
    {
      name: 'Orders',
      partitionKey: { name: 'customerId', type: 'S' },
      sortKey: { name: 'orderId', type: 'S' },
      primaryRegion: 'us-east-1',
      replicaRegions: ['eu-west-1'],
      ttlAttribute: 'expiresAt',
      tags: { team: 'checkout' },
    },
  ],
  metricsNamespace: `Orders-${pulumi.getStack()}`,
});
const table = model.tables[0]!;

// One explicit AWS provider per region (named aws-<region>); use your own instead if you have them.
const providers = regionalProviders([table.primaryRegion, ...table.replicaRegions]);

const orders = new ReplicatedTable(table.name, { table, providers, metricsNamespace: model.metricsNamespace });

export const tableArns = orders.tableArns;
export const streamArn = orders.streamArn;
export const dlqUrls = orders.dlqUrls;
export const alarmNames = orders.alarmNames;
