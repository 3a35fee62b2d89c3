// Stack program: stack config -> one ReplicatedTable per table -> exports.
// The Pulumi components (components/) arrive with the infrastructure issue; until then this
// program declares no resources. The replication engine it will deploy is in handlers/.
export {};
