// The built `xctl` program as users run it: argv, stdin, stdout/stderr and exit codes. What is
// about a command's outcome rather than the program (the commands --help lists, diff of
// reordered keys, ipam check, the endpoints refused, the fall-back to a lab's etcd, a get and a
// delete after an apply) and a case's set-up run xctl's code in this process (runXctl, as the
// program runs it: each spawned xctl costs about 0.7 CPU seconds to load); exit codes 0, 1, 2,
// 4 and 5, --help and a closed pipe through the program.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { XCTL_BIN as BIN, useBuiltXctl } from './built-xctl.js';
import { freePort } from '../../pkg/etcd/server.js';
import { xctlInTest } from '../harness/xctl-in-process.js';

const built = useBuiltXctl();

const xctl = (args: string[], opts: { input?: string; env?: Record<string, string> } = {}) =>
  execa('node', [BIN, ...args], { reject: false, input: opts.input ?? '', env: { XCTL_ENDPOINTS: built.etcd.endpoints.join(','), ...opts.env } });

/** xctl's code in this process, with the same environment; XNET_LAB_DIR (read from the process's, as the program reads its own) set while it runs */
async function xctlHere(args: string[], opts: { input?: string; env?: Record<string, string> } = {}) {
  const all: Record<string, string> = { XCTL_ENDPOINTS: built.etcd.endpoints.join(','), ...opts.env };
  const { XNET_LAB_DIR: labDir, ...env } = all;
  const saved = process.env.XNET_LAB_DIR;
  if (labDir !== undefined) process.env.XNET_LAB_DIR = labDir;
  try {
    return await xctlInTest(args, { input: opts.input, env, timeoutMs: 60_000 });
  } finally {
    if (saved === undefined) delete process.env.XNET_LAB_DIR; else process.env.XNET_LAB_DIR = saved;
  }
}

const NODE = 'apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata: {name: bin-1}\nspec: {address: 198.18.0.11}\n';

describe('xctl program', () => {
  it('--help lists the commands and exits 0', async () => {
    // the program's --help (exit 0, on stdout) is the `npx xctl --help` case below
    const r = await xctlHere(['--help']);
    expect(r.exitCode).toBe(0);
    for (const c of ['apply', 'diff', 'get', 'describe', 'delete', 'wait', 'ipam', 'lab']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it('runs as `npx xctl` from the repository root, as the README tells users (the built programs are executable)', async () => {
    const r = await execa('npx', ['--no-install', 'xctl', '--help'], { reject: false, env: { XCTL_ENDPOINTS: built.etcd.endpoints.join(',') } });
    expect(r.stderr).not.toContain('Permission denied');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^  apply\b/m);
  });

  it('stops quietly when the reader closes the pipe early (xctl ... | head)', async () => {
    const nodes = Array.from({ length: 300 }, (_, i) => NODE.replace('bin-1', `pipe-${i}`).replace('198.18.0.11', `198.18.${1 + Math.floor(i / 250)}.${i % 250 + 1}`)).join('---\n');
    expect((await xctlHere(['apply', '-f', '-'], { input: nodes })).exitCode).toBe(0);
    // the reader takes one line and goes away while xctl is still writing
    const r = await execa('bash', ['-c', `node ${BIN} get nodes -o yaml | head -n 1`], { reject: false, env: { XCTL_ENDPOINTS: built.etcd.endpoints.join(',') } });
    expect(r.stdout).toBe('apiVersion: v1');
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(r.exitCode).toBe(0);
  });

  it('applies from stdin, prints kind/name action, gets it back, deletes it', async () => {
    const a = await xctl(['apply', '-f', '-'], { input: NODE });
    expect(a).toMatchObject({ exitCode: 0, stdout: 'node/bin-1 created', stderr: '' });
    const g = await xctlHere(['get', 'no', 'bin-1', '-o', 'json']);
    expect(JSON.parse(g.stdout)).toMatchObject({ kind: 'Node', metadata: { name: 'bin-1' }, spec: { address: '198.18.0.11' } });
    expect((await xctlHere(['delete', 'node', 'bin-1'])).stdout).toBe('node/bin-1 deleted');
    expect((await xctl(['get', 'no', 'bin-1'])).exitCode).toBe(4);
  });

  it('an invalid manifest exits 2 with the location on stderr and nothing on stdout', async () => {
    const r = await xctl(['apply', '-f', '-'], { input: NODE.replace('198.18.0.11', '198.18.0.300') });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('<stdin>:4: document 1 (node/bin-1): spec.address: must be an IPv4 address');
  });

  it('diff exits 1 when the manifest differs', async () => {
    const r = await xctl(['diff', '-f', '-'], { input: NODE });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('--- node/bin-1 (does not exist)');
  });

  it('diff exits 0 and apply says unchanged when only the order of a map\'s keys differs', async () => {
    const cn = (m: string) => `apiVersion: xnet.io/v1alpha1\nkind: ClusterNetwork\nmetadata: {name: bin-keys, labels: ${m}}\n` +
      `spec: {cidr: 10.98.0.0/16, hostPrefix: 24, nodeSelector: {matchLabels: ${m}}}\n`;
    expect((await xctlHere(['apply', '-f', '-'], { input: cn('{b: "2", a: "1"}') })).stdout).toBe('clusternetwork/bin-keys created');
    const d = await xctlHere(['diff', '-f', '-'], { input: cn('{a: "1", b: "2"}') });
    expect(d).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    expect((await xctlHere(['apply', '-f', '-'], { input: cn('{a: "1", b: "2"}') })).stdout).toBe('clusternetwork/bin-keys unchanged');
    expect((await xctlHere(['diff', '-f', '-'], { input: cn('{a: "1", b: "3"}') })).exitCode).toBe(1);
  });

  it('get -w runs until Ctrl-C and then exits 0', async () => {
    expect((await xctlHere(['apply', '-f', '-'], { input: NODE.replace('bin-1', 'bin-w') })).exitCode).toBe(0);
    const p = execa('node', [BIN, 'get', 'nodes', '-w'], { reject: false, env: { XCTL_ENDPOINTS: built.etcd.endpoints.join(',') } });
    // killed also when the test fails or times out before its Ctrl-C (a no-op once it exited)
    onTestFinished(() => { p.kill('SIGKILL'); });
    await new Promise<void>((resolve) => p.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('bin-w')) resolve(); }));
    p.kill('SIGINT');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+ADDRESS\s+READY\s+AGE\nbin-w\s+198\.18\.0\.11/);
  });

  it('exits 5 when etcd is unreachable', async () => {
    const r = await xctl(['get', 'nodes'], { env: { XCTL_ENDPOINTS: `http://127.0.0.1:${await freePort()}` } });
    expect(r.exitCode).toBe(5);
    expect(r.stderr).toContain('cannot reach etcd');
  });

  it('ipam check exits 0 on a consistent store and 1 on a leaked claim, naming it', async () => {
    const cn = 'apiVersion: xnet.io/v1alpha1\nkind: ClusterNetwork\nmetadata: {name: leaky}\nspec: {cidr: 10.99.0.0/16, hostPrefix: 24}\n';
    expect((await xctlHere(['apply', '-f', '-'], { input: cn })).exitCode).toBe(0);
    const clean = await xctlHere(['ipam', 'check']);
    expect(clean.exitCode, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toContain('no leaks');
    // what a controller that crashed between claiming and recording would leave: a claim
    // whose owner does not exist
    const key = '/xnet/ipam/clusternetworks/leaky/addresses/010.099.001.007';
    await built.etcd.client().put(key).value(JSON.stringify({ owner: { kind: 'ContainerNic', name: 'gone', uid: 'uid-gone' }, role: 'nic', ip: '10.99.1.7' }));
    const leak = await xctlHere(['ipam', 'check']);
    expect(leak.exitCode).toBe(1);
    expect(leak.stdout).toMatch(/10\.99\.1\.7 \(ContainerNic "gone"\): owner does not exist/);
    await built.etcd.client().delete().key(key);
    expect((await xctlHere(['ipam', 'check'])).exitCode).toBe(0);
  }, 180_000);
});

describe('xctl --endpoints and XCTL_ENDPOINTS', () => {
  /** A running lab of the test's own (XNET_LAB_DIR) whose etcd is a listener that counts who connects and hangs up. */
  async function fakeLab() {
    const connected: Socket[] = [];
    const server = createServer((c) => { connected.push(c); c.destroy(); });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const dir = mkdtempSync(join(tmpdir(), 'xctl-endpoints-'));
    writeFileSync(join(dir, 'lab.json'), JSON.stringify({ endpoints: [`http://127.0.0.1:${(server.address() as { port: number }).port}`] }));
    onTestFinished(async () => { await new Promise((ok) => server.close(ok)); rmSync(dir, { recursive: true, force: true }); });
    return { connected, env: { XNET_LAB_DIR: dir, XCTL_ENDPOINTS: '' } };
  }

  it('an --endpoints given empty is a usage error, exit 2, and contacts no etcd, not even the running lab\'s', async () => {
    const lab = await fakeLab();
    // without --endpoints, and with XCTL_ENDPOINTS empty (as if unset), xctl goes to the lab
    // (exit 5 through the program: 'exits 5 when etcd is unreachable')
    const fallback = await xctlHere(['get', 'no'], { env: lab.env });
    expect(fallback.exitCode).toBe(5);
    expect(fallback.stderr).toContain('the running lab\'s');
    const reached = lab.connected.length;
    expect(reached).toBeGreaterThan(0);
    for (const args of [['--endpoints', ''], ['--endpoints=']]) {
      const r = await xctlHere([...args, 'get', 'no'], { env: lab.env });
      expect(r).toMatchObject({ exitCode: 2, stdout: '', stderr: 'error: --endpoints is empty; give etcd\'s URLs, e.g. http://127.0.0.1:2379' });
    }
    expect(lab.connected.length).toBe(reached);
  });

  it('a malformed endpoint is a usage error, exit 2, naming it and where it came from', async () => {
    const lab = await fakeLab();
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['--endpoints', 'http://'], {}, 'error: invalid endpoint "http://" in --endpoints: no host; e.g. http://127.0.0.1:2379'],
      [['--endpoints', 'ftp://127.0.0.1:23791'], {}, 'error: invalid endpoint "ftp://127.0.0.1:23791" in --endpoints: scheme "ftp" is not one etcd serves; use http or https'],
      [['--endpoints', 'http://127.0.0.1:99999'], {}, 'error: invalid endpoint "http://127.0.0.1:99999" in --endpoints: port "99999" is not a number from 1 to 65535'],
      [['--endpoints', 'http://127.0.0.1:23791/path'], {}, 'error: invalid endpoint "http://127.0.0.1:23791/path" in --endpoints: "/path" is not part of an etcd endpoint; give http://HOST[:PORT] without a path or query'],
      [[], { XCTL_ENDPOINTS: 'http://127.0.0.1:23791/path' }, 'error: invalid endpoint "http://127.0.0.1:23791/path" in XCTL_ENDPOINTS: "/path" is not part of an etcd endpoint; give http://HOST[:PORT] without a path or query'],
    ];
    for (const [flags, env, message] of cases) {
      const r = await xctlHere([...flags, 'get', 'no'], { env: { ...lab.env, ...env } });
      expect({ code: r.exitCode, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 2, stdout: '', stderr: message });
    }
    expect(lab.connected).toHaveLength(0);
  });
});
