// A Pulumi program of your own that replicates one DynamoDB table between two regions with the
// ddb-replicator package: `npm install ddb-replicator`, then `pulumi up`.
import * as pulumi from '@pulumi/pulumi';
import { ReplicatedTable } from 'ddb-replicator/components';

// Tags can come from other resources: they are Inputs, checked once known.
const team = new pulumi.Config().get('team') ?? 'checkout';

// Every setting not given takes its documented default; a bad one stops the program with one line
// naming each problem, in the same words as the ddb-replicator stack config.
const orders = new ReplicatedTable('Orders', {
  partitionKey: { name: 'customerId', type: 'S' },
  sortKey: { name: 'orderId', type: 'S' },
  primaryRegion: 'us-east-1',
  replicaRegions: ['eu-west-1'],
  ttlAttribute: 'expiresAt',
  tags: pulumi.output({ team }),
  metricsNamespace: `Orders-${pulumi.getStack()}`,
});

// One AWS provider serves every region (each resource names its own): here the stack's default
// provider, so aws:profile, aws:assumeRoles and aws:defaultTags apply. To deploy into another
// account, pass yours: new ReplicatedTable('Audit', args, { providers: [auditAccount] }).
export const tableArns = orders.tableArns;
export const streamArn = orders.streamArn;
export const dlqUrls = orders.dlqUrls;
export const alarmNames = orders.alarmNames;
