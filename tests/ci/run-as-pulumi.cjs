// Runs the stack program the way `pulumi up` does, in the folder it is started in: through
// @pulumi/pulumi/cmd/run (the entry point the CLI's Node.js language host runs, which compiles
// TypeScript with the project's own typescript and type-checks it), with Pulumi's mocks in place of
// the engine. Plain JavaScript, so it needs nothing but the project's production dependencies.
// Prints {"exitCode", "types"} (resources registered per type) when the process exits.
const { createRequire } = require('node:module');
const { statSync, readFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

const fromProject = createRequire(join(process.cwd(), 'package.json'));
const pulumi = fromProject('@pulumi/pulumi');
const [project, stack] = process.argv.slice(2);
const types = {};
pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      types[args.type] = (types[args.type] || 0) + 1;
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call: () => ({}),
  },
  project,
  stack,
  false,
);
// The engine answers this when the program is done; the SDK's mock monitor does not implement it.
fromProject('@pulumi/pulumi/runtime/settings').getMonitor().signalAndWaitForShutdown = (_req, callback) => callback(null, {});

process.env.PULUMI_NODEJS_TYPESCRIPT = 'true'; // what the language host sets for a TypeScript project
// The program as the CLI hands it over: Pulumi.yaml's `main` if set (a file: its absolute path, run
// from its folder), else "." (cmd/run then takes package.json's exports or main).
const main = fromProject('yaml').parse(readFileSync(join(process.cwd(), 'Pulumi.yaml'), 'utf8')).main;
let program = '.';
if (main) {
  const path = resolve(process.cwd(), main);
  if (statSync(path).isDirectory()) process.chdir(path);
  else program = path;
}
process.argv = [process.argv[0], process.argv[1], '--monitor=mock', `--project=${project}`, `--stack=${stack}`, program];
fromProject('@pulumi/pulumi/cmd/run');
// Registered after cmd/run's own exit handler, which sets the exit code when the program failed.
process.on('exit', () => console.log(JSON.stringify({ exitCode: process.exitCode ?? 0, types })));
