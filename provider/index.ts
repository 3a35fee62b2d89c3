// The component provider's entry: Pulumi's nodejs plugin runner (@pulumi/pulumi cmd/run-plugin)
// serves every component class exported here, with a schema inferred from its TypeScript (args
// interface, JSDoc, enums). The parts ReplicatedTable is made of stay TypeScript-only.
export { ReplicatedTable } from '../components/replicated-table';
