import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { stateTableName } from '../config/names';
import { readReviewEntries, RecordedReview } from '../handlers/review';
import type { TableContext } from './context';
import { sdkDynamo } from '../handlers/dynamo-sdk';

export interface ReviewReport {
  readonly table: string;
  readonly entries: RecordedReview[];
  /** Regions whose state table did not answer. */
  readonly unreachable: { region: string; error: string }[];
  readonly cleared: number;
}

/** The review report of every region: writes replication did not carry, with keys and versions, never values. */
export async function review(ctx: TableContext, clear: boolean): Promise<ReviewReport> {
  const state = stateTableName(ctx.table.name);
  const entries: RecordedReview[] = [];
  const unreachable: ReviewReport['unreachable'] = [];
  let cleared = 0;
  for (const region of [ctx.table.primaryRegion, ...ctx.table.replicaRegions]) {
    let found: RecordedReview[];
    try {
      found = await readReviewEntries(sdkDynamo(ctx.client(region)), state);
    } catch (err) {
      unreachable.push({ region, error: `${(err as Error).name}: ${(err as Error).message}` });
      continue;
    }
    entries.push(...found);
    if (clear) {
      for (let i = 0; i < found.length; i += 25) {
        await ctx.client(region).send(new BatchWriteItemCommand({ RequestItems: { [state]: found.slice(i, i + 25).map((e) => ({ DeleteRequest: { Key: { pk: { S: e.id } } } })) } }));
      }
      cleared += found.length;
    }
  }
  return { table: ctx.table.name, entries, unreachable, cleared };
}

const time = (s?: number) => (s === undefined ? '' : new Date(s * 1000).toISOString());

export function renderReview(r: ReviewReport): string {
  if (r.entries.length === 0) return `${r.table}: nothing to review${r.unreachable.length ? ` in the regions that answered (not ${r.unreachable.map((u) => u.region).join(', ')})` : ''}`;
  const lines = [`${r.table}: ${r.entries.length} write(s) to review (keys and versions; read the items with aws dynamodb get-item --key)`];
  for (const e of r.entries) {
    const where = e.target ? `${e.region} -> ${e.target}` : e.region;
    lines.push(`  ${e.kind.padEnd(16)} ${where.padEnd(30)} key ${JSON.stringify(e.key)}${e.version ? ` version ${e.version}` : ''}${e.writtenAt ? ` written ${time(e.writtenAt)}` : ''}${e.detail ? ` (${e.detail})` : ''}`);
  }
  if (r.cleared) lines.push(`cleared ${r.cleared} entr${r.cleared === 1 ? 'y' : 'ies'}`);
  for (const u of r.unreachable) lines.push(`  ${u.region} did not answer: ${u.error}`);
  return lines.join('\n');
}

/** The command's fields of the JSON envelope (entries' keys are DynamoDB JSON already). */
export const reviewFields = (r: ReviewReport) => ({ entries: r.entries, unreachable: r.unreachable, cleared: r.cleared });
