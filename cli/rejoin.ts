import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { stateTableName } from '../config/names';
import { toEventItem } from '../handlers/attribute-values';
import { Fence, markRejoined, raiseFence, readFence } from '../handlers/fence';
import { stateDigest } from '../handlers/item-state';
import { ReviewEntry, writeReviewEntries } from '../handlers/review';
import { encodeVersion, readVersion } from '../handlers/versions';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CliError, TableContext } from './context';
import { findStrays, RecordSeconds } from './drain';
import { reconcile, ReconcileReport } from './reconcile';
import { verify } from './verify';
import { sdkDynamo } from '../handlers/dynamo-sdk';

export interface RejoinReport {
  readonly table: string;
  readonly region: string;
  readonly primary: string;
  readonly generation: number;
  /** Writes the region took while another was primary (in its retained stream), now in the review report. */
  readonly strays: number;
  /** Items the region held differently from the primary, now in the review report. */
  readonly differences: number;
  readonly fence: 'raised' | 'current';
  readonly reconciled: ReconcileReport;
}

/**
 * Brings back a region after it missed a failover (an old primary back from an outage, a replica
 * that was unreachable) or took writes while another region was primary: first every write its
 * stream shows it took then (strays), and every item it holds differently from the primary, is
 * recorded in the review report (keys, versions and digests: its unreplicated writes are among
 * them); then its fence is raised to the primary's term, so the primary's links write into it
 * again; last it is reconciled from the primary. Only a region rejoined this way can be promoted
 * again.
 */
export async function rejoin(
  ctx: TableContext,
  fence: Fence,
  region: string,
  segments: number,
  streams: Pick<DynamoDBStreamsClient, 'send'>,
  recordSeconds?: RecordSeconds,
  now?: () => number,
): Promise<RejoinReport> {
  const primary = ctx.table.primaryRegion;
  if (region === primary) throw new CliError(`${region} is the primary (generation ${fence.generation}): rejoin a region that is not`);
  if (!ctx.table.replicaRegions.includes(region)) throw new CliError(`--region ${region} is not a region of ${ctx.table.name}: use one of ${ctx.table.replicaRegions.join(', ')}`);
  const state = stateTableName(ctx.table.name);

  // Records stamped in this second or later may be written after the stray scan reads: the next check looks at them again,
  // unless this scan saw a record stamped there (a stamp can come later than the write: DynamoDB Local's are taken when first read).
  let scannedUpTo = Math.floor((now ?? Date.now)() / 1000) - 1;
  // Judged by the current terms (a region that missed a failover still thinks it is primary), since its own last rejoin.
  const entries: ReviewEntry[] = await findStrays(ctx, streams, region, fence, await readFence(sdkDynamo(ctx.client(region)), state), recordSeconds, (s) => {
    scannedUpTo = Math.max(scannedUpTo, s);
  });
  const strays = entries.length;
  const { reports, source, replicas } = await verify(ctx, [region], segments, true);
  const rules = ctx.rules();
  for (const text of [...reports[0]!.missing, ...reports[0]!.different, ...reports[0]!.extra]) {
    const keys = source.keys.get(text) ?? replicas.get(region)!.keys.get(text)!;
    const get = async (r: string) => (await ctx.client(r).send(new GetItemCommand({ TableName: ctx.table.name, Key: keys, ConsistentRead: true }))).Item;
    const [onPrimary, onRegion] = await Promise.all([get(primary), get(region)]);
    const v = readVersion(onRegion);
    entries.push({
      kind: 'rejoin-diff',
      key: toEventItem(keys),
      region,
      target: primary,
      ...(v && { version: encodeVersion(v) }),
      detail: `${region} holds ${stateDigest(onRegion, rules)}, ${primary} holds ${stateDigest(onPrimary, rules)}`,
    });
  }
  if (entries.length) await writeReviewEntries(sdkDynamo(ctx.client(primary)), state, entries, Math.floor(Date.now() / 1000));

  const { outcome, fence: held } = await raiseFence(sdkDynamo(ctx.client(region)), state, fence);
  if (outcome === 'newer') throw new CliError(`${region} holds generation ${held.generation}, newer than the primary's ${fence.generation}: read the fences with \`ddb-replicator status\` before going on`);
  const [reconciled] = await reconcile(ctx, [region], segments, true);
  // A later stray check looks again at every record from the second this one's scan began: the
  // reconcile's own writes there are echoes, and entries it finds twice are recorded once.
  await markRejoined(sdkDynamo(ctx.client(region)), state, fence, scannedUpTo);
  return { table: ctx.table.name, region, primary, generation: fence.generation, strays, differences: entries.length - strays, fence: outcome === 'raised' ? 'raised' : 'current', reconciled: reconciled! };
}
