import { LambdaClient, ListEventSourceMappingsCommand, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';

export type MappingChange = 'enabled' | 'disabled' | 'unchanged' | 'missing';

/** Switches a link's event source mapping on or off, keeping its checkpoint (Lambda resumes there). */
export interface MappingControl {
  setEnabled(region: string, functionName: string, enabled: boolean): Promise<MappingChange>;
}

/** Through the Lambda API: AWS, or a local endpoint that speaks it (local/lambda-api.ts over a local deployment; `npm start` serves none). */
export function lambdaMappings(clientFor: (region: string) => Pick<LambdaClient, 'send'>): MappingControl {
  return {
    async setEnabled(region, functionName, enabled) {
      const client = clientFor(region);
      const { EventSourceMappings = [] } = await client.send(new ListEventSourceMappingsCommand({ FunctionName: functionName }));
      if (EventSourceMappings.length === 0) return 'missing';
      let changed = false;
      for (const m of EventSourceMappings) {
        const on = m.State !== 'Disabled' && m.State !== 'Disabling';
        if (on === enabled) continue;
        await client.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID, Enabled: enabled }));
        changed = true;
      }
      return changed ? (enabled ? 'enabled' : 'disabled') : 'unchanged';
    },
  };
}
