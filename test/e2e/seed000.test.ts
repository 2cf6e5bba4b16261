// Seed 000 end to end: direct routing between Docker hosts and extra NICs in running
// containers, done by xnet from declared objects alone. Hosts, Docker, etcd, controllers and
// agents are all real (test/harness/lab.ts).
//
// Seed 002 end to end, first, on the same lab: one macvlan segment over several Docker hosts with ONE address space,
// containers started with plain `docker run --net` (no --ip), and the host shim the seed lacked.
//
// One lab for both seeds (each lab costs etcd with TLS and auth, a dockerd per host, two
// controllers and the agents): seed 002's macvlan segment (198.19.200.0/24, containers m*, v1)
// and seed 000's cluster network (10.76.0.0/16, containers test, rx) share no address, name or
// Docker network; seed 000's third host joins last and gets the MacvlanNet too, and its closing
// `xctl lab verify` checks both on all three hosts.
import { describe, expect, test } from 'vitest';
import { useTestLab } from '../harness/lab.js';
import { apply, containerIfAddrs, expectLabVerifyClean, containerIp, getObject, runContainer, unreachableFrom, waitReady } from './helpers.js';

// both seeds' tests: two hosts, two controllers (seed 000 adds host-3 in its last steps)
const lab = useTestLab({ hosts: 2, agents: true, controllers: 2 });

const MACVLAN = (name: string, extra = '') => `
apiVersion: xnet.io/v1alpha1
kind: MacvlanNet
metadata: {name: ${name}}
spec:
  subnet: 198.19.200.0/24
  gateway: 198.19.200.1
  ipRange: 198.19.200.128/25
  exclude: [198.19.200.250/31]
  parent: eth0
  mode: bridge
  promiscuous: true
  hostShim: true
  blockPrefix: 28
  dockerIPAM: blocks
${extra}`;

const HOSTS = ['host-1', 'host-2'];
const PER_HOST = 6;

describe('seed 002: macvlan across hosts', () => {
  const byHost: Record<string, string[]> = {};

  test('a MacvlanNet over two hosts becomes Ready', async () => {
    for (const h of HOSTS) await waitReady(lab(), 'node', h);
    await apply(lab(), MACVLAN('macvlan200'));
    await waitReady(lab(), 'macvlannet', 'macvlan200');
    for (const h of HOSTS) {
      const nets = await lab().docker(h, ['network', 'ls', '--filter', 'name=macvlan200', '--format', '{{.Driver}}'], { check: true });
      expect(nets.stdout.trim()).toBe('macvlan');
    }
  }, 180_000); // three Ready waits of up to 60 s each, as seed000's join step: two lab files run at once

  test(`${PER_HOST} containers per host with plain docker run --net and no --ip: all addresses distinct`, async () => {
    for (const h of HOSTS) {
      byHost[h] = [];
      for (let i = 1; i <= PER_HOST; i++) {
        await runContainer(lab(), h, `m${i}`, 'macvlan200');
        byHost[h].push(await containerIp(lab(), h, `m${i}`, 'macvlan200'));
      }
    }
    const all = HOSTS.flatMap((h) => byHost[h]);
    expect(all.every((a) => /^198\.19\.200\.\d+$/.test(a))).toBe(true);
    expect(new Set(all).size).toBe(HOSTS.length * PER_HOST);
  }, 360_000); // twelve docker runs, one after another: ~20 s each on a loaded 2-core machine (seed000)

  test('containers reach the other host\'s containers', async () => {
    expect(await unreachableFrom(lab(), 'host-1', 'm1', byHost['host-2'])).toEqual([]);
    expect(await unreachableFrom(lab(), 'host-2', 'm1', byHost['host-1'])).toEqual([]);
  });

  test('each host reaches its own macvlan containers (through the host shim)', async () => {
    for (const h of HOSTS) {
      const failed: string[] = [];
      for (const a of byHost[h]) {
        let p = await lab().ping(h, a);
        if (!p.ok) p = await lab().ping(h, a, { count: 2 });
        if (!p.ok) failed.push(a);
      }
      expect(failed, `${h} cannot reach its own containers`).toEqual([]);
    }
  });

  test('a ContainerNic on the MacvlanNet gets a unique address and is reachable', async () => {
    await apply(lab(), `
apiVersion: xnet.io/v1alpha1
kind: ContainerNic
metadata: {name: host-1-m1-eth1}
spec:
  node: host-1
  container: m1
  ifName: eth1
  network: {macvlanNet: macvlan200}
`);
    await waitReady(lab(), 'containernic', 'host-1-m1-eth1');
    const nic = await getObject(lab(), 'containernic', 'host-1-m1-eth1');
    const ip: string = nic.status.ip;
    expect(ip).toMatch(/^198\.19\.200\.\d+$/);
    expect(HOSTS.flatMap((h) => byHost[h])).not.toContain(ip);
    expect(await containerIfAddrs(lab(), 'host-1', 'm1', 'eth1')).toContain(ip);
    expect(await unreachableFrom(lab(), 'host-2', 'm2', [ip])).toEqual([]);
  }, 120_000); // a Ready wait of up to 60 s and five xctl and docker processes

  test('VLAN sub-interface <parent>.<vlan>', async (ctx) => {
    const probe = await lab().exec('host-1', ['ip', 'link', 'add', 'link', 'eth0', 'name', 'eth0.4000', 'type', 'vlan', 'id', '4000']);
    if (probe.exitCode !== 0) {
      ctx.skip(`this kernel lacks 802.1Q VLAN support (ip link add ... type vlan: ${probe.stderr.trim()}); the agent's VLAN plan is covered by its unit tests`);
      return;
    }
    await lab().exec('host-1', ['ip', 'link', 'del', 'eth0.4000']);
    await apply(lab(), MACVLAN('macvlan300', '  vlan: 300\n').replace(/198\.19\.200\./g, '198.19.201.'));
    await waitReady(lab(), 'macvlannet', 'macvlan300');
    for (const h of HOSTS) await runContainer(lab(), h, 'v1', 'macvlan300');
    const ip2 = await containerIp(lab(), 'host-2', 'v1', 'macvlan300');
    expect(await unreachableFrom(lab(), 'host-1', 'v1', [ip2])).toEqual([]);
  }, 180_000); // a Ready wait of up to 60 s and two docker runs

  test('ends with xctl lab verify clean: every host holds what etcd declares', async () => {
    await expectLabVerifyClean(lab());
  }, 150_000);
});

const CLUSTER = `
apiVersion: xnet.io/v1alpha1
kind: ClusterNetwork
metadata: {name: default}
spec:
  cidr: 10.76.0.0/16
  hostPrefix: 24
  reserved: [10.76.0.0/24]
  dockerNetwork: net1
  bridgePrefix: br
`;

const nics = (host: string) => ['eth1', 'eth2'].map((ifName) => `
apiVersion: xnet.io/v1alpha1
kind: ContainerNic
metadata: {name: ${host}-test-${ifName}}
spec:
  node: ${host}
  container: test
  ifName: ${ifName}
  network: {clusterNetwork: default}
`).join('---');

describe('seed 000: direct routing and extra NICs', () => {
  const addrs: Record<string, string[]> = {};

  test('two hosts join and get distinct subnets by themselves', async () => {
    // through the built program once: what a user runs, from stdin to exit code
    const applied = await lab().xctlBinary(['apply', '-f', '-'], { input: CLUSTER });
    expect(applied.exitCode, applied.stderr).toBe(0);
    const subnets: string[] = [];
    for (const h of ['host-1', 'host-2']) {
      await waitReady(lab(), 'node', h);
      await waitReady(lab(), 'hostsubnet', `default-${h}`);
      const hs = await getObject(lab(), 'hostsubnet', `default-${h}`);
      expect(hs.status.subnet).toMatch(/^10\.76\.\d+\.0\/24$/);
      expect(hs.status.subnet).not.toBe('10.76.0.0/24');
      subnets.push(hs.status.subnet);
    }
    expect(new Set(subnets).size).toBe(2);
  }, 180_000); // four Ready waits of up to 60 s each: the whole suite runs two lab files at once

  test('a container on each host, two extra NICs pushed into each', async () => {
    for (const h of ['host-1', 'host-2']) await runContainer(lab(), h, 'test', 'net1');
    await apply(lab(), `${nics('host-1')}---${nics('host-2')}`);
    for (const h of ['host-1', 'host-2']) {
      addrs[h] = [await containerIp(lab(), h, 'test', 'net1')];
      for (const ifName of ['eth1', 'eth2']) {
        await waitReady(lab(), 'containernic', `${h}-test-${ifName}`);
        const nic = await getObject(lab(), 'containernic', `${h}-test-${ifName}`);
        expect(await containerIfAddrs(lab(), h, 'test', ifName)).toContain(nic.status.ip);
        addrs[h].push(nic.status.ip);
      }
    }
    const all = [...addrs['host-1'], ...addrs['host-2']];
    expect(new Set(all).size).toBe(6);
  }, 180_000); // two docker runs (~20 s each on a loaded 2-core machine) and four Ready waits

  test('all six addresses are reached from the other host', async () => {
    expect(await unreachableFrom(lab(), 'host-2', 'test', addrs['host-1'])).toEqual([]);
    expect(await unreachableFrom(lab(), 'host-1', 'test', addrs['host-2'])).toEqual([]);
  });

  test('the receiver sees the sending container\'s own address (no NAT inside the cluster)', async () => {
    // the receiver answers each connection with its own connection table
    await lab().docker('host-1', ['run', '-d', '--name', 'rx', '--net', 'net1', 'xnet/busybox:latest', 'nc', '-ll', '-p', '7000', '-e', 'netstat', '-tn'], { check: true });
    const rx = await containerIp(lab(), 'host-1', 'rx', 'net1');
    let seen = '';
    for (let i = 0; i < 20 && !seen.includes(addrs['host-2'][0]); i++) {
      seen = (await lab().docker('host-2', ['exec', 'test', 'nc', '-w', '2', rx, '7000'])).stdout;
    }
    expect(seen).toContain(`${addrs['host-2'][0]}:`);
    expect(seen).not.toContain('198.18.0.12:');
  });

  test('a host reaches the other host\'s containers, which see its gateway on its own HostSubnet as the source', async () => {
    const rx = await containerIp(lab(), 'host-1', 'rx', 'net1');
    const gw2 = (await getObject(lab(), 'hostsubnet', 'default-host-2')).status.gateway;
    // a TCP client run by the host itself (in its namespace), as `curl <container>` would be
    const client = `const s = require('net').connect(7000, '${rx}'); let out = ''; s.on('data', (d) => { out += d; });
      s.on('close', () => { process.stdout.write(out); }); s.on('error', (e) => { console.error(String(e)); process.exit(1); }); setTimeout(() => process.exit(2), 3000).unref();`;
    let seen = '';
    for (let i = 0; i < 10 && !seen.includes(`${gw2}:`); i++) seen = (await lab().exec('host-2', [process.execPath, '-e', client])).stdout;
    expect(seen).toContain(`${gw2}:`);
    expect(seen).not.toContain('198.18.0.12:');
    expect((await lab().ping('host-2', addrs['host-1'][1])).ok).toBe(true);
  });

  test('a third host joining later is reachable from the first two with no manual step', async () => {
    await lab().addHost(3);
    await waitReady(lab(), 'node', 'host-3');
    await waitReady(lab(), 'hostsubnet', 'default-host-3');
    await runContainer(lab(), 'host-3', 'test', 'net1');
    const ip3 = await containerIp(lab(), 'host-3', 'test', 'net1');
    const hs3 = await getObject(lab(), 'hostsubnet', 'default-host-3');
    expect([hs3.status.subnet]).not.toContain((await getObject(lab(), 'hostsubnet', 'default-host-1')).status.subnet);
    expect(await unreachableFrom(lab(), 'host-1', 'test', [ip3])).toEqual([]);
    expect(await unreachableFrom(lab(), 'host-2', 'test', [ip3])).toEqual([]);
    expect(await unreachableFrom(lab(), 'host-3', 'test', [addrs['host-1'][0], addrs['host-2'][0]])).toEqual([]);
  }, 120_000);

  test('ends with xctl lab verify clean: every host holds what etcd declares', async () => {
    await expectLabVerifyClean(lab());
  }, 150_000);
});
