import * as aws from '@pulumi/aws';
import { StackValidationPolicy } from '@pulumi/policy';
import { streamMappings } from '../lib/stream-resources';

export const streamViewForReplication: StackValidationPolicy = {
  name: 'dynamodb-stream-new-and-old-images',
  description: 'A table whose stream a Lambda event source mapping reads has a stream with NEW_AND_OLD_IMAGES.',
  enforcementLevel: 'mandatory',
  validateStack: (args, report) => {
    const read = new Set(streamMappings(args.resources).map((m) => m.eventSourceArn));
    for (const t of args.resources.filter((r) => r.isType(aws.dynamodb.Table))) {
      const p = t.props as { streamArn?: string; streamEnabled?: boolean; streamViewType?: string };
      if (p.streamArn && read.has(p.streamArn) && (p.streamEnabled !== true || p.streamViewType !== 'NEW_AND_OLD_IMAGES')) {
        report(`table ${t.name} is read by an event source mapping but its stream view is ${p.streamViewType ?? 'unset'}: replication needs NEW_AND_OLD_IMAGES`, t.urn);
      }
    }
  },
};
