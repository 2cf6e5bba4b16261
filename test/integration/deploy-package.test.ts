// What `npm install -g <this package>` puts on a machine holds what deploy/README.md has the
// operator use from it: the systemd units, xnet.default, and the README the units' own
// Documentation= line points at (deploy/README.md under npm's global root, /usr/lib/node_modules
// or /usr/local/lib/node_modules: both are named).
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const UNITS = ['deploy/systemd/xnet-agent.service', 'deploy/systemd/xnet-controller.service'];

async function packedFiles(): Promise<string[]> {
  const r = await execa('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { reject: false, timeout: 60_000 });
  expect(r.exitCode, r.stderr).toBe(0);
  const [pack] = JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>;
  return pack.files.map((f) => f.path);
}

describe('the npm package', () => {
  it('holds the units, xnet.default and the README their Documentation= names', async () => {
    const files = await packedFiles();
    expect(files).toEqual(expect.arrayContaining([...UNITS, 'deploy/xnet.default', 'deploy/README.md']));
    for (const u of UNITS) {
      const docs = (/^Documentation=(.*)$/m.exec(readFileSync(u, 'utf8'))?.[1] ?? '').split(/\s+/).filter(Boolean);
      // npm's global root: /usr/lib/node_modules with NodeSource's nodejs (its own npm, prefix
      // /usr), /usr/local/lib/node_modules with Debian's npm package (prefix /usr/local)
      expect(docs, `${u} names the README under both global roots`).toEqual([
        'file:/usr/lib/node_modules/xnet/deploy/README.md', 'file:/usr/local/lib/node_modules/xnet/deploy/README.md']);
      for (const d of docs) expect(files).toContain(d.replace(/^file:\/usr\/(local\/)?lib\/node_modules\/xnet\//, ''));
    }
  });

  it('holds the bundled programs and what they read beside them (scripts/bundle.mjs)', async () => {
    const files = await packedFiles();
    const programs = ['dist/cmd/xctl.js', 'dist/cmd/xnet-agent.js', 'dist/cmd/xnet-controller.js'];
    // etcd3 reads its protocol from ../proto of the bundle; pkg/spawn starts helper.cjs beside it
    expect(files).toEqual(expect.arrayContaining([...programs, 'dist/cmd/helper.cjs', 'dist/proto/rpc.proto', 'dist/proto/kv.proto', 'dist/proto/auth.proto']));
    for (const p of programs) {
      // a program tsc wrote alone imports ../pkg/...: it would load ~300 files at every start
      expect(readFileSync(p, 'utf8'), `${p} is a bundle`).not.toMatch(/from\s+["']\.\.\/pkg\//);
      for (const chunk of readFileSync(p, 'utf8').matchAll(/from\s+["']\.\/([^"']+)["']/g)) expect(files).toContain(`dist/cmd/${chunk[1]}`);
    }
  });
});
