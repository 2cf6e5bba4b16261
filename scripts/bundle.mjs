// Bundles the three programs after tsc: dist/cmd/{xctl,xnet-agent,xnet-controller}.js are
// replaced by one ES module each (plus chunks they share, dist/cmd/chunk-*.js), with our code,
// etcd3, gRPC, zod, yaml, commander and dockerode inside. Why: Node 20 resolves, reads and (for
// CommonJS imported from ES modules) lexes every module file on its own; `xctl --help`, loading
// ~300 files, took 0.78 s of CPU, 0.45 s bundled (the agent 1.04 and 0.55 s; docs/contributing.md).
// Each xctl run, agent restart and controller failover pays that, and so do the ~300 program
// starts of the test suite. dist/pkg and dist/bench stay as tsc wrote them
// (the benchmarks use them). The bundles are made from the TypeScript sources, not from tsc's
// dist/cmd output that they overwrite, so an incremental build never bundles a bundle.
//
// What the bundle cannot carry is copied next to it:
// - etcd3 reads its protocol definitions at load from `${__dirname}/../proto` (dist/proto);
// - pkg/spawn starts helper.cjs from beside its own module (dist/cmd/helper.cjs).
// ssh2 and cpu-features (dockerode's optional ssh transport, native addons) stay packages.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// The CommonJS packages inside an ES module bundle still call require() and read __dirname.
const banner = [
  "import { createRequire as __xnetCreateRequire } from 'node:module';",
  "import { fileURLToPath as __xnetFileURLToPath } from 'node:url';",
  'const require = __xnetCreateRequire(import.meta.url);',
  'const __filename = __xnetFileURLToPath(import.meta.url);',
  // globalThis: a bundled module declares a URL of its own
  "const __dirname = __xnetFileURLToPath(new globalThis.URL('.', import.meta.url));",
].join('\n');

// the chunks of an earlier build (esbuild names them name-HASH.js): a rebuild would leave them
for (const f of readdirSync(join(dist, 'cmd'))) if (/-[A-Z0-9]{8}\.js(\.map)?$/.test(f)) rmSync(join(dist, 'cmd', f));

await build({
  // dist/cmd/xctl.js <- cmd/xctl.ts
  entryPoints: Object.values(bin).map((f) => join(root, f.replace(/^dist\//, '').replace(/\.js$/, '.ts'))),
  outdir: join(dist, 'cmd'),
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external: ['ssh2', 'cpu-features'],
  banner: { js: banner },
  logLevel: 'warning',
});

const etcd3 = dirname(createRequire(import.meta.url).resolve('etcd3/package.json'));
mkdirSync(join(dist, 'proto'), { recursive: true });
cpSync(join(etcd3, 'proto'), join(dist, 'proto'), { recursive: true });
cpSync(join(dist, 'pkg', 'spawn', 'helper.cjs'), join(dist, 'cmd', 'helper.cjs'));
