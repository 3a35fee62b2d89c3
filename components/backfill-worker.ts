import * as pulumi from '@pulumi/pulumi';
import type { TableModel } from '../config/model';
import { backfillWorkerNames, stateTableName } from '../config/names';
import { ENV } from '../handlers/contract';
import { WORKER_ENV } from '../handlers/backfill-contract';
import { handlerBundle, LambdaBundle } from './lambda-bundle';
import { lambdaWithRole } from './lambda-with-role';

/** Lambda's longest timeout: a worker hands its segment over (checkpointed) before it runs out. */
export const BACKFILL_WORKER_TIMEOUT_SECONDS = 900;

export interface BackfillWorkerArgs {
  readonly table: TableModel;
  /** The region whose table the worker copies from; its resources live there. */
  readonly sourceRegion: string;
  /** The slot of the replication link it sits beside (its names carry it). */
  readonly slot: number;
  /** Regions it may copy into: the link's targets. */
  readonly targetRegions: readonly string[];
  readonly sourceTableArn: pulumi.Input<string>;
  readonly replicaTableArns: Readonly<Record<string, pulumi.Input<string>>>;
  /** The state table in the source region: where segments are checkpointed. */
  readonly stateTableArn: pulumi.Input<string>;
  /** Memory in MB (default 1024: CPU scales with it, and JSON and hashing are the worker's work). */
  readonly memoryMb?: number;
  /** Tags of every resource; default the table's. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The backfill worker beside a replication link: an esbuild bundle of handlers/backfill-worker.ts,
 * invoked by `ddb-replicator backfill --workers N`, one scan segment per invocation. Idle, it costs
 * nothing; its role may scan the source, write the link's targets and checkpoint in the state table.
 */
export class BackfillWorker extends pulumi.ComponentResource {
  readonly functionName: pulumi.Output<string>;

  constructor(name: string, args: BackfillWorkerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('ddb-replicator:index:BackfillWorker', name, {}, opts);
    const { table } = args;
    const parent = { parent: this, retainOnDelete: opts?.retainOnDelete };
    const tags = args.tags ?? table.tags;
    const names = backfillWorkerNames(table.name, args.sourceRegion, args.slot);
    const { fn } = lambdaWithRole(
      name,
      {
        region: args.sourceRegion,
        names,
        bundle: backfillWorkerBundle(),
        policyName: 'backfill',
        policy: (logGroupArn) =>
          pulumi
            .all([args.sourceTableArn, pulumi.all(args.targetRegions.map((r) => args.replicaTableArns[r]!)), args.stateTableArn, logGroupArn])
            .apply(([sourceTableArn, replicaTableArns, stateTableArn, logGroupArn]) => JSON.stringify(backfillPolicyDocument({ sourceTableArn, replicaTableArns, stateTableArn, logGroupArn }))),
        memorySize: args.memoryMb ?? 1024,
        timeout: BACKFILL_WORKER_TIMEOUT_SECONDS,
        environment: {
          [ENV.replicaTargets]: JSON.stringify(args.targetRegions.map((region) => ({ region, tableName: table.name }))),
          [ENV.stateTable]: stateTableName(table.name),
          ...(table.ttlAttribute && { [ENV.ttlAttribute]: table.ttlAttribute }),
          [WORKER_ENV.sourceTable]: table.name,
          [WORKER_ENV.keyAttributes]: JSON.stringify([table.partitionKey.name, ...(table.sortKey ? [table.sortKey.name] : [])]),
        },
        tags,
      },
      parent,
    );
    this.functionName = fn.name;
    this.registerOutputs({ functionName: this.functionName });
  }
}

/** Least privilege, exact ARNs: what handlers/backfill-worker.ts and handlers/repair.ts call. */
export function backfillPolicyDocument(p: { sourceTableArn: string; replicaTableArns: readonly string[]; stateTableArn: string; logGroupArn: string }) {
  return {
    Version: '2012-10-17',
    Statement: [
      // Scan its segment; GetItem re-reads an item after copying it (a deletion meanwhile undoes the copy).
      { Sid: 'ReadSourceItems', Effect: 'Allow', Action: ['dynamodb:Scan', 'dynamodb:GetItem'], Resource: [p.sourceTableArn] },
      { Sid: 'WriteReplicaItems', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], Resource: [...p.replicaTableArns] },
      { Sid: 'KeepCheckpoints', Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: [p.stateTableArn] },
      { Sid: 'WriteLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [`${p.logGroupArn}:*`] },
    ],
  };
}

/** handlers/backfill-worker.ts bundled like the replication handler. */
export const backfillWorkerBundle = (): LambdaBundle => handlerBundle('backfill-worker');
