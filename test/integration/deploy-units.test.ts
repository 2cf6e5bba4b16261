// deploy/systemd/*.service parse as systemd reads them. `systemd-analyze verify` needs no
// running systemd (it runs in containers too). It comes with Debian's `systemd` package, which
// scripts/setup.sh does not install (in a container it would bring an init system that never
// runs); where it is absent the test skips and says what it measured.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const UNITS = ['deploy/systemd/xnet-agent.service', 'deploy/systemd/xnet-controller.service'];
const probe = await execa('systemd-analyze', ['--version'], { reject: false });
const missing = probe.exitCode === 0 ? undefined : `systemd-analyze not runnable here (${probe.shortMessage ?? probe.stderr})`;
const dir = mkdtempSync(join(tmpdir(), 'xnet-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const verify = (files: string[]) => execa('systemd-analyze', ['verify', ...files], { reject: false, timeout: 30_000 });

describe.skipIf(!!missing)(`systemd units${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('verify finds nothing to say about either unit', async () => {
    const r = await verify(UNITS);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('verify does catch a mistake in such a unit (the check above can fail)', async () => {
    const bad = join(dir, 'xnet-agent.service');
    writeFileSync(bad, readFileSync(UNITS[0], 'utf8').replace('LoadCredential=etcd-key', 'LoadCredentail=etcd-key'));
    const r = await verify([bad]);
    expect(r.stderr).toMatch(/xnet-agent\.service:\d+: Unknown key .LoadCredentail./);
  });

  // verify starts each unit in a transaction with what it pulls in, Docker's own units where
  // installed (Debian's docker.io: After=network-online.target docker.socket containerd.service):
  // the empty output above then also says the agent's order against docker.service has no cycle.
  it.skipIf(!existsSync('/lib/systemd/system/docker.service'))('verify does report an ordering cycle with docker.service (the check above can fail)', async () => {
    const bad = join(dir, 'xnet-agent.service');
    writeFileSync(bad, readFileSync(UNITS[0], 'utf8').replace(/^Before=docker\.service$/m, 'Before=docker.service\nAfter=docker.service'));
    const r = await verify([bad]);
    expect(r.stderr).toMatch(/Found ordering cycle/);
  });

  it('keys reach the programs only as credential files, never through argv or the environment', () => {
    for (const u of UNITS) {
      const text = readFileSync(u, 'utf8');
      expect(text).toMatch(/^LoadCredential=etcd-key:\/etc\/xnet\/\S+-key\.pem$/m);
      expect(text).toMatch(/--key %d\/etcd-key/);
      expect(text).not.toMatch(/-----BEGIN|Environment=.*(KEY|CERT)/);
    }
    expect(readFileSync('deploy/xnet.default', 'utf8')).not.toMatch(/\.pem|KEY/);
  });
});

const unitText = (u: string) => readFileSync(u, 'utf8');
/** Every value of key in a unit's text, in order (a key may be given more than once). */
const values = (text: string, key: string) => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1].trim());

// What each unit says, read as text: runs with or without systemd-analyze.
describe('what the agent unit allows', () => {
  // Docker's plugin docs: a plugin starts before Docker and stops after it. Ordered after
  // docker.service (and Requires= it), the plugin's socket was missing while a booting or
  // restarted dockerd restarted its containers, and a `systemctl restart docker` restarted
  // the agent too.
  it('starts before docker.service and stops after it, wanting it without requiring it', () => {
    const text = unitText(UNITS[0]);
    const list = (key: string) => values(text, key).join(' ').split(/\s+/).filter(Boolean);
    expect(list('Before')).toContain('docker.service');
    expect(list('Wants')).toContain('docker.service');
    for (const key of ['After', 'Requires', 'Requisite', 'BindsTo', 'PartOf']) expect(list(key), key).not.toContain('docker.service');
    expect(list('After')).toContain('network-online.target');
    expect(readFileSync('deploy/README.md', 'utf8')).toMatch(/Before=docker\.service/);
  });

  it('lets arping open its packet socket (AF_PACKET), which the IPAM plugin\'s ARP probes need, also under nsenter', () => {
    const families = values(unitText(UNITS[0]), 'RestrictAddressFamilies').join(' ').split(/\s+/);
    expect(families).toEqual(expect.arrayContaining(['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_PACKET']));
    expect(readFileSync('deploy/README.md', 'utf8')).toMatch(/iputils-arping/);
  });
});

// %H is the full host name: h1.example.com, or one with capitals, fails xnet-agent's --node
// check (a DNS-1123 label) and the agent never starts. The unit's node name is XNET_NODE: the
// short host name (%l) unless /etc/default/xnet sets it; its certificate files do not depend on it.
describe('the agent unit\'s node name', () => {
  const text = unitText(UNITS[0]);
  it('is XNET_NODE, defaulting to the short host name, which /etc/default/xnet overrides', () => {
    expect(text).not.toMatch(/%H/);
    expect(values(text, 'ExecStart')[0]).toMatch(/ xnet-agent --node \$\{XNET_NODE\} /);
    expect(values(text, 'Environment')).toContain('XNET_NODE=%l');
    // systemd: variables from EnvironmentFile= override Environment=
    expect(values(text, 'EnvironmentFile')).toEqual(['/etc/default/xnet']);
    expect(readFileSync('deploy/xnet.default', 'utf8')).toMatch(/^#\s*XNET_NODE=/m);
    expect(readFileSync('deploy/README.md', 'utf8')).toMatch(/XNET_NODE/);
  });

  it('loads the node\'s certificate and key from names that do not depend on it', () => {
    expect(values(text, 'LoadCredential')).toEqual(['etcd-ca:/etc/xnet/ca.pem', 'etcd-cert:/etc/xnet/node.pem', 'etcd-key:/etc/xnet/node-key.pem']);
  });
});
