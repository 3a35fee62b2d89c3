import { MockedResource, setRealisticMocks } from '../../preview/mocks';

export { ACCOUNT, settled } from '../../preview/mocks';
export type RecordedResource = MockedResource;

/** Pulumi's documented engine-free mocks (preview/mocks.ts) for project ddb-replicator, stack test. */
export const useMocks = (): RecordedResource[] => setRealisticMocks('ddb-replicator', 'test');

export const ofType = (recorded: readonly RecordedResource[], type: string) => recorded.filter((r) => r.type === type);
