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
// (dockerode's BuildKit protos and gRPC's channelz/ORCA protos are not copied: xnet builds no
// image through Docker's API and uses neither.)
// ssh2 and cpu-features (dockerode's optional ssh transport, native addons) stay packages.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// The CommonJS packages inside an ES module bundle still call require() and read __dirname and
// __filename: the banner gives each chunk its own, under names no module of ours declares
// (`define` renames only free references, so a module's own `const __dirname = ...` stays its
// own; a banner `const __dirname` would clash with it and no program would load).
const banner = [
  "import { createRequire as __xnetCreateRequire } from 'node:module';",
  "import { fileURLToPath as __xnetFileURLToPath } from 'node:url';",
  'const require = __xnetCreateRequire(import.meta.url);',
  'const __xnetFilename = __xnetFileURLToPath(import.meta.url);',
  // globalThis: a bundled module declares a URL of its own
  "const __xnetDirname = __xnetFileURLToPath(new globalThis.URL('.', import.meta.url));",
].join('\n');

const built = await build({
  // dist/cmd/xctl.js <- cmd/xctl.ts
  entryPoints: Object.values(bin).map((f) => join(root, f.replace(/^dist\//, '').replace(/\.js$/, '.ts'))),
  outdir: join(dist, 'cmd'),
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // maps without the sources inside (they would triple the package): a crash's stack names
  // pkg/... lines when the program runs with NODE_OPTIONS=--enable-source-maps
  sourcemap: true,
  sourcesContent: false,
  external: ['ssh2', 'cpu-features'],
  banner: { js: banner },
  define: { __dirname: '__xnetDirname', __filename: '__xnetFilename' },
  metafile: true,
  logLevel: 'warning',
});

// the chunks of earlier builds (esbuild names them name-HASH.js), removed once the new ones are
// written, so that a program started meanwhile finds its own
const written = new Set(Object.keys(built.metafile.outputs).map((f) => resolve(root, f)));
for (const f of readdirSync(join(dist, 'cmd'))) {
  if (/-[A-Z0-9]{8}\.js(\.map)?$/.test(f) && !written.has(join(dist, 'cmd', f))) rmSync(join(dist, 'cmd', f));
}

const etcd3 = dirname(createRequire(import.meta.url).resolve('etcd3/package.json'));
mkdirSync(join(dist, 'proto'), { recursive: true });
cpSync(join(etcd3, 'proto'), join(dist, 'proto'), { recursive: true });
cpSync(join(dist, 'pkg', 'spawn', 'helper.cjs'), join(dist, 'cmd', 'helper.cjs'));

// a bundle that does not load fails the build, not its first user
for (const f of Object.values(bin)) {
  const r = spawnSync(process.execPath, [join(root, f), '--help'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    console.error(`scripts/bundle.mjs: the bundled ${f} does not start (--help exited ${r.status}):\n${r.stderr}`);
    process.exit(1);
  }
}
