import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { OnFailureDestination, OnFailureMessage } from './esm/on-failure';

/** A local SQS-compatible server (fauxqs, in memory) on 127.0.0.1 and a free port. */
export async function startLocalSqs(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const { startFauxqs } = await import('fauxqs');
  const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false } as never);
  return { endpoint: server.address, stop: () => server.stop() };
}

/** The emulator's on-failure destination as a real SQS queue, as Lambda delivers it. */
export class SqsDestination implements OnFailureDestination {
  constructor(private readonly client: SQSClient, readonly queueUrl: string) {}

  static async create(client: SQSClient, queueName: string): Promise<SqsDestination> {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: queueName, Attributes: { MessageRetentionPeriod: '1209600' } }));
    return new SqsDestination(client, QueueUrl!);
  }

  async send(message: OnFailureMessage): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message) }));
  }
}
