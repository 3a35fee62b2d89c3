#!/usr/bin/env node
// The `ddb-replicator` command. In this repository it runs cli/main.ts through tsx (a dependency);
// from the installed package, where only the built JavaScript ships, it runs dist/cli/main.js.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const source = join(__dirname, '..', 'cli', 'main.ts');
if (existsSync(source)) {
  require('tsx/cjs');
  require(source).runCli(process.argv.slice(2));
} else {
  require('../dist/cli/main.js').runCli(process.argv.slice(2));
}
