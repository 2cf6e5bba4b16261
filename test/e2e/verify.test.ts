// xctl lab verify on a real lab: a converged cluster verifies clean (exit 0); a peer route
// deleted by hand while the host's agent is stopped is reported as exactly that difference
// (exit 1); once the agent is back and has healed it, verify is clean again. Plain `xctl
// verify` reads what each agent reports of its own host (no lab access needed): a NIC its
// agent cannot attach shows up there, and so does a host whose agent stopped reporting (its last
// report, until it runs out, saying how old it is).
import { describe, expect, test } from 'vitest';
import { useTestLab } from '../harness/lab.js';
import { apply, getObject, hostRoutes, inContainerNetns, labXctl, waitFor, waitReady } from './helpers.js';

const CLUSTER = `
apiVersion: xnet.io/v1alpha1
kind: ClusterNetwork
metadata: {name: vnet}
spec: {cidr: 10.78.0.0/16, hostPrefix: 24}
---
# dockerIPAM xnet (the default): verify must know each host's IPAM plugin, as the agent does
apiVersion: xnet.io/v1alpha1
kind: MacvlanNet
metadata: {name: vmac}
spec: {subnet: 198.19.210.0/24, ipRange: 198.19.210.128/25, parent: eth0, hostShim: true}
`;

describe('xctl lab verify', () => {
  const lab = useTestLab({ hosts: 2, agents: true, controllers: 1 });
  // in the test's process: exit code, stdout and stderr as the program gives them (labXctl)
  const verify = (args: string[] = []) => labXctl(lab(), ['verify', ...args]);

  test('a converged cluster verifies clean', async () => {
    await apply(lab(), CLUSTER);
    for (const h of ['host-1', 'host-2']) await waitReady(lab(), 'hostsubnet', `vnet-${h}`);
    await waitReady(lab(), 'macvlannet', 'vmac');
    // Ready is written when the host converged; verify reads the hosts themselves
    const r = await waitFor('verify clean', async () => {
      const v = await verify();
      return v.exitCode === 0 ? v : undefined;
    }, 120_000, 1000).catch(async (e) => { const v = await verify(); throw new Error(`${(e as Error).message}\n${v.stdout}${v.stderr}`); });
    expect(r.value.stdout).toMatch(/^no differences: host-1, host-2 hold what etcd declares$/m);
  }, 200_000);

  test('a route deleted while the agent is stopped is exactly one difference, exit 1', async () => {
    const peer = (await getObject(lab(), 'hostsubnet', 'vnet-host-2')).status.subnet as string;
    await lab().stopAgent('host-1');
    await lab().exec('host-1', ['ip', 'route', 'del', peer], { check: true });
    expect((await hostRoutes(lab(), 'host-1')).some((r) => r.dst === peer)).toBe(false);
    const v = await verify();
    expect(v.exitCode, v.stderr).toBe(1);
    const lines = v.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^HOST\s+WHAT\s+EXPECTED\s+FOUND$/);
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toMatch(new RegExp(`^host-1\\s+route\\s+${peer.replace(/\./g, '\\.')} via 198\\.18\\.0\\.12 proto 76\\s+missing or different$`));
    expect(v.stderr).toContain('1 difference(s)');
    // --node narrows to one host: host-2 is clean
    expect((await verify(['--node', 'host-2'])).exitCode).toBe(0);
  }, 200_000);

  test('the restarted agent heals it and verify is clean again', async () => {
    await lab().startAgent('host-1');
    await waitFor('verify clean again', async () => ((await verify()).exitCode === 0 ? true : undefined), 60_000, 1000);
  }, 200_000);

  const reported = () => lab().xctl(['verify'], { timeoutMs: 60_000 });
  const GHOST = `
apiVersion: xnet.io/v1alpha1
kind: ContainerNic
metadata: {name: ghost-eth1}
spec: {node: host-2, container: ghost, ifName: eth1, network: {clusterNetwork: vnet}}
`;

  test('xctl verify from the agents\' reports: clean, then the NIC host-2 cannot attach, exit 1', async () => {
    // clean and fresh: right after the previous test restarted host-1's agent, the report its
    // stopped agent wrote says no differences too, but "(report 7 s old)", until the new agent's
    // first check (within 5 s of quiet: pkg/verify/self-check.ts) writes its own
    const fresh = /^no differences: host-1, host-2 report they hold what etcd declares$/m;
    const clean = await waitFor('reports clean', async () => { const v = await reported(); return v.exitCode === 0 && fresh.test(v.stdout) ? v : undefined; }, 30_000, 1000)
      .catch(async (e) => { const v = await reported(); throw new Error(`${(e as Error).message}\n${v.stdout}${v.stderr}`); });
    expect(clean.value.stdout).toMatch(fresh);
    await apply(lab(), GHOST);
    const v = (await waitFor('host-2 reports the ghost NIC', async () => { const r = await reported(); return r.exitCode === 1 ? r : undefined; }, 30_000, 1000)).value;
    const lines = v.stdout.trim().split('\n').slice(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^host-2\s+containernic\/ghost-eth1\s+Ready\s+\S+/);
    await lab().xctl(['delete', 'nic', 'ghost-eth1']);
    await waitFor('reports clean again', async () => ((await reported()).exitCode === 0 ? true : undefined), 30_000, 1000);
  }, 120_000);

  test('an agent that stops reporting is a difference; back, it reports again', async () => {
    await lab().stopAgent('host-1');
    // until its report's lease runs out, its last report (no differences) says how old it is
    const old = (await waitFor('host-1 report stale', async () => { const r = await reported(); return /\(report \d+ s old\)/.test(r.stdout) ? r : undefined; }, 20_000, 500)).value;
    expect(old.exitCode).toBe(0);
    expect(old.stdout).toMatch(/^no differences: host-1 \(report \d+ s old\), host-2 report they hold what etcd declares$/m);
    expect(old.stderr).toMatch(/^warning: the report of host-1 is \d+ s old: its agent has not renewed it since/m);
    const v = (await waitFor('host-1 report expired', async () => { const r = await reported(); return r.exitCode === 1 ? r : undefined; }, 40_000, 1000)).value;
    expect(v.stdout).toMatch(/^host-1\s+agent report\s+a report of its observed state\s+none: its agent is not running/m);
    expect(v.stdout).not.toMatch(/^host-2/m);
    await lab().startAgent('host-1');
    await waitFor('host-1 reports again', async () => ((await reported()).exitCode === 0 ? true : undefined), 40_000, 1000);
  }, 120_000);

  // `lab verify` printed `link set xt82211e12 netns /proc/7013/fd/22`: its own process's fd
  test('a NIC deleted inside its container while the agent is stopped is named by the container, never by a /proc fd path', async () => {
    await lab().docker('host-1', ['run', '-d', '--name', 'vweb', 'xnet/busybox:latest', 'sleep', '1d'], { check: true });
    await apply(lab(), `
apiVersion: xnet.io/v1alpha1
kind: ContainerNic
metadata: {name: vweb-eth1}
spec: {node: host-1, container: vweb, ifName: eth1, network: {clusterNetwork: vnet}}
`);
    await waitReady(lab(), 'containernic', 'vweb-eth1');
    await lab().stopAgent('host-1');
    await inContainerNetns(lab(), 'host-1', 'vweb', ['ip', 'link', 'del', 'eth1']);
    const v = await verify(['--node', 'host-1']);
    expect(v.exitCode, v.stderr).toBe(1);
    expect(v.stdout).not.toContain('/proc/');
    expect(v.stdout).toMatch(/^host-1\s+link\s+\S+ in the namespace of container vweb\s+missing$/m);
    expect(v.stdout).toMatch(/^host-1\s+address \(container vweb\)\s+10\.78\.\d+\.\d+\/24 on eth1\s+missing$/m);
    await lab().startAgent('host-1');
    await waitFor('verify clean again', async () => ((await verify()).exitCode === 0 ? true : undefined), 60_000, 1000);
    await lab().xctl(['delete', 'nic', 'vweb-eth1']);
    await lab().docker('host-1', ['rm', '-f', 'vweb'], { check: true });
  }, 200_000);

  // each host's 17 ops (VLAN link, shim, address, routes, Docker network) were listed, and no reason
  test('a VLAN MacvlanNet on a kernel without 802.1Q is one line per host, with its reason', async (ctx) => {
    const caps = (await waitFor('capabilities reported', async () => (await getObject(lab(), 'node', 'host-1'))?.status?.capabilities, 30_000, 500)).value;
    if (caps.vlan !== false) {
      ctx.skip('this kernel has 802.1Q: the VLAN MacvlanNet is made, nothing to report');
      return;
    }
    await apply(lab(), `
apiVersion: xnet.io/v1alpha1
kind: MacvlanNet
metadata: {name: vvlan}
spec: {subnet: 198.19.211.0/24, ipRange: 198.19.211.128/25, parent: eth0, vlan: 300, hostShim: true}
`);
    const v = (await waitFor('both hosts refuse it', async () => {
      const r = await verify();
      return (r.stdout.match(/VlanUnsupported/g) ?? []).length === 2 ? r : undefined;
    }, 60_000, 1000)).value;
    expect(v.exitCode).toBe(1);
    expect(v.stdout.trim().split('\n').slice(1)).toEqual(['host-1', 'host-2'].map((h) =>
      expect.stringMatching(new RegExp(`^${h}\\s+macvlannet/vvlan\\s+Ready\\s+VlanUnsupported: VLAN 300 needs interface eth0\\.300, but this node's kernel has no 802\\.1Q support$`))));
    await lab().xctl(['delete', 'macvlannet', 'vvlan']);
  }, 120_000);
});
