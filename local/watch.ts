import type { EmulatorStats } from './esm/emulator';
import { percentile, ReplicationStats } from './replication-stats';

/** What `npm start -- --watch` needs to say where things are and how to act on them. */
export interface WatchTarget {
  readonly stack: string;
  readonly table: string;
  readonly primaryRegion: string;
  readonly replicaRegion: string;
  /** Passed on to the CLI commands when the stack files are not in this project. */
  readonly projectDir?: string;
  readonly endpoint: string;
  readonly sqsEndpoint: string;
  readonly dlqUrl: string;
  /** DynamoDB Local keeps one database per access key: other shells must use the same one. */
  readonly accessKeyId: string;
}

/** The ready-to-paste operations command for this run (`npx ddb-replicator <command> ...`). */
export function cliCommand(t: WatchTarget, command: 'redrive' | 'status' | 'verify' | 'reconcile'): string {
  const dir = t.projectDir ? ` --dir ${t.projectDir}` : '';
  // A local pipeline publishes its status (DLQ depth included) in its state table: only redrive reads SQS.
  const sqs = command === 'redrive' ? ` --sqs-endpoint ${t.sqsEndpoint}` : '';
  return `npx ddb-replicator ${command} --stack ${t.stack} --table ${t.table}${dir} --endpoint ${t.endpoint}${sqs}`;
}

export function watchBanner(t: WatchTarget): string[] {
  return [
    `Watching. Write to ${t.table} in ${t.primaryRegion} with any DynamoDB client and read it back from a replica region, e.g.:`,
    // The secret is not checked by DynamoDB Local; the key id picks the database.
    `  export AWS_ACCESS_KEY_ID=${t.accessKeyId} AWS_SECRET_ACCESS_KEY=local`,
    `  aws dynamodb put-item --endpoint-url ${t.endpoint} --region ${t.primaryRegion} --table-name ${t.table} --item '{"userId":{"S":"me"},"name":{"S":"Me"}}'`,
    `  aws dynamodb get-item --endpoint-url ${t.endpoint} --region ${t.replicaRegion} --table-name ${t.table} --key '{"userId":{"S":"me"}}'`,
    '(DynamoDB Local keeps one database per region and access key: use the same key id.) Ctrl-C stops.',
    `DynamoDB endpoint: ${t.endpoint}`,
    `SQS endpoint:      ${t.sqsEndpoint} (on-failure queue ${t.dlqUrl})`,
    `Status:  ${cliCommand(t, 'status')}`,
    `Verify:  ${cliCommand(t, 'verify')}`,
    `Redrive: ${cliCommand(t, 'redrive')}`,
    '  (repairs the items of the batches discarded to the on-failure queue; run it once their cause is fixed)',
    'Lag below is the replica write\'s second minus the record\'s ApproximateCreationDateTime, in whole seconds as on AWS, for any write.',
  ];
}

interface Figures {
  readonly applied: ReadonlyMap<string, number>;
  readonly lagsSeen: ReadonlyMap<string, number>;
  readonly failures: number;
  readonly discarded: number;
  readonly dropped: number;
}

/** Turns the figures' changes since the last call into lines: replicated (with lag), failed, discarded, dropped. */
export class WatchReporter {
  private last: Figures;

  constructor(
    private readonly stats: ReplicationStats,
    private readonly emulator: EmulatorStats,
    private readonly target: WatchTarget,
  ) {
    this.last = this.read();
  }

  private read(): Figures {
    const regions = [...this.stats.regions];
    return {
      applied: new Map(regions.map(([r, s]) => [r, s.recordsApplied])),
      lagsSeen: new Map(regions.map(([r, s]) => [r, s.streamLagsS.length])),
      failures: this.stats.total('failures'),
      discarded: this.emulator.recordsDiscarded,
      dropped: this.emulator.recordsDropped,
    };
  }

  /** Lines for what changed since the last call; none when nothing did. */
  lines(now = new Date()): string[] {
    const [last, cur] = [this.last, (this.last = this.read())];
    const at = now.toISOString();
    const out: string[] = [];
    const applied = [...cur.applied].map(([r, n]) => [r, n - last.applied.get(r)!] as const).filter(([, n]) => n > 0);
    if (applied.length > 0) {
      const lags = [...this.stats.regions].flatMap(([r, s]) => s.streamLagsS.slice(last.lagsSeen.get(r)));
      const lag = lags.length ? `lag p50 ${percentile(lags, 50)} s, max ${Math.max(...lags)} s` : 'lag -';
      out.push(`${at}  replicated ${applied.map(([r, n]) => `${r} +${n}`).join('  ')}  ${lag}`);
    }
    if (cur.failures > last.failures) {
      const f = this.stats.lastFailure;
      out.push(`${at}  FAILED: ${cur.failures - last.failures} item write(s)${f ? ` (last: ${f.region}: ${f.error.replace(/\s+/g, " ")})` : ''}; the mapping retries them; details in .ddb-replicator/local.log`);
    }
    if (cur.discarded > last.discarded) {
      out.push(`${at}  DISCARDED: ${cur.discarded - last.discarded} record(s) after the mapping's retries, sent to the SQS DLQ ${this.target.dlqUrl}; once the cause is fixed: ${cliCommand(this.target, 'redrive')}`);
    }
    if (cur.dropped > last.dropped) {
      out.push(`${at}  DROPPED: ${cur.dropped - last.dropped} record(s) reached no DLQ (the send failed); find the items with ${cliCommand(this.target, 'verify')}, repair with ${cliCommand(this.target, 'reconcile')}`);
    }
    return out;
  }
}
