// `npm run build` (and `npm pack` / `npm publish` through prepack): the package's dist/.
// - tsc -p tsconfig.build.json: CommonJS JavaScript in dist/ and declarations in dist/types/ for
//   components/, config/, handlers/, policies/rules (+ lib) and the operations CLI.
// - handlers/*.ts copied to dist/handlers/: the components bundle a Lambda handler at deploy time
//   from `<components>/../handlers/<name>.ts` with esbuild (components/lambda-bundle.ts), which in
//   the installed package is dist/handlers/. A tsconfig.json there pins how esbuild reads them, so a
//   consumer's own tsconfig never applies. Declarations live apart (dist/types) so that a consumer's
//   TypeScript resolves `../handlers/x` to x.d.ts, never to these sources.
const { execFileSync } = require('node:child_process');
const { copyFileSync, readdirSync, rmSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

const root = resolve(__dirname, '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
for (const file of readdirSync(join(root, 'handlers'))) {
  if (file.endsWith('.ts')) copyFileSync(join(root, 'handlers', file), join(dist, 'handlers', file));
}
writeFileSync(join(dist, 'handlers', 'tsconfig.json'), `${JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true } }, null, 2)}\n`);
