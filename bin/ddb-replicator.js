#!/usr/bin/env node
// The `ddb-replicator` command: runs cli/main.ts through tsx, which this package depends on.
require('tsx/cjs');
require('../cli/main.ts').runCli(process.argv.slice(2));
