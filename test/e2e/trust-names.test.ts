// Unique names per node (issue 8 part 4) on a running two-host lab: two ClusterNetworks with the
// default bridgePrefix get distinct bridges on every node and both carry traffic between hosts;
// `xctl apply` refuses a Docker network name another object has and a bridge named like a host
// link; a HostSubnet written around xctl whose bridge is a link xnet did not make is refused by
// the node's agent (BridgeNameTaken) and that link is left as it was, also by that HostSubnet's NICs;
// a user's Docker network inside a ClusterNetwork's CIDR keeps Docker's isolation.
import type { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, test } from 'vitest';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { getCondition } from '../../pkg/api/index.js';
import { useTestLab } from '../harness/lab.js';
import { apply, containerIp, expectLabVerifyClean, getObject, pingFromContainer, runContainer, unreachableFrom, waitFor, waitReady } from './helpers.js';

const TWO = `
apiVersion: xnet.io/v1alpha1
kind: ClusterNetwork
metadata: {name: alpha}
spec: {cidr: 10.81.0.0/16, hostPrefix: 24}
---
apiVersion: xnet.io/v1alpha1
kind: ClusterNetwork
metadata: {name: beta}
spec: {cidr: 10.82.0.0/16, hostPrefix: 24}
`;

describe('bridge and Docker network names are unique per node', () => {
  const lab = useTestLab({ hosts: 2, agents: true, controllers: 1 });
  let client: Etcd3 | undefined;
  afterAll(() => client?.close());

  test('two ClusterNetworks with the default bridgePrefix: distinct bridges, both pass traffic between hosts', async () => {
    await apply(lab(), TWO);
    const hosts = ['host-1', 'host-2'];
    for (const cn of ['alpha', 'beta']) for (const h of hosts) await waitReady(lab(), 'hostsubnet', `${cn}-${h}`, 90);
    for (const h of hosts) {
      const a = (await getObject(lab(), 'hostsubnet', `alpha-${h}`)).status.bridge as string;
      const b = (await getObject(lab(), 'hostsubnet', `beta-${h}`)).status.bridge as string;
      expect(a).not.toBe(b);
      const links = (await lab().exec(h, ['ip', '-o', 'link', 'show', 'type', 'bridge'], { check: true })).stdout;
      expect(links).toContain(`: ${a}:`);
      expect(links).toContain(`: ${b}:`);
    }
    for (const cn of ['alpha', 'beta']) {
      for (const [i, h] of hosts.entries()) await runContainer(lab(), h, `${cn}${i + 1}`, cn);
      const far = await containerIp(lab(), 'host-2', `${cn}2`, cn);
      expect(far.startsWith(cn === 'alpha' ? '10.81.' : '10.82.')).toBe(true);
      expect(await unreachableFrom(lab(), 'host-1', `${cn}1`, [far]), `${cn}: host-1 -> host-2`).toEqual([]);
    }
  }, 240_000);

  test('a user\'s own Docker network inside a ClusterNetwork\'s CIDR keeps Docker\'s isolation; cluster traffic still flows', async () => {
    // xnet's forward rules accepted any cluster-CIDR pair, above Docker's isolation between networks
    await lab().docker('host-1', ['network', 'create', '--subnet', '10.81.250.0/24', 'usernet'], { check: true });
    const id = (await lab().docker('host-1', ['network', 'inspect', '-f', '{{.Id}}', 'usernet'], { check: true })).stdout.trim();
    for (const c of ['u1', 'u2']) await runContainer(lab(), 'host-1', c, 'usernet');
    const u1 = await containerIp(lab(), 'host-1', 'u1', 'usernet');
    expect(u1).toMatch(/^10\.81\.250\./);
    expect(await unreachableFrom(lab(), 'host-1', 'u2', [u1]), 'u1 answers on its own network').toEqual([]);
    // the agent has seen the new network (Docker's create event) before the check below
    await waitFor('the agent\'s rules name the new bridge', async () =>
      (await lab().exec('host-1', ['iptables', '-S', 'XNET-FORWARD'], { check: true })).stdout.includes(`-o br-${id.slice(0, 12)} -j RETURN`), 30_000);
    const p = await pingFromContainer(lab(), 'host-1', 'alpha1', u1, 2);
    expect(p.ok, `alpha1 -> u1 must be dropped by Docker's isolation: ${p.output}`).toBe(false);
    const far = await containerIp(lab(), 'host-2', 'alpha2', 'alpha');
    expect(await unreachableFrom(lab(), 'host-1', 'alpha1', [far]), 'alpha1 -> alpha2').toEqual([]);
    await lab().docker('host-1', ['rm', '-f', 'u1', 'u2'], { check: true });
    await lab().docker('host-1', ['network', 'rm', 'usernet'], { check: true });
  }, 90_000);

  test('xctl apply refuses a Docker network name another object has and a bridge named like a host link', async () => {
    const mvn = 'apiVersion: xnet.io/v1alpha1\nkind: MacvlanNet\nmetadata: {name: mv}\nspec: {subnet: 192.168.90.0/24, dockerNetwork: beta}\n';
    const r1 = await lab().xctl(['apply', '-f', '-'], { input: mvn });
    expect(r1.exitCode).not.toBe(0);
    expect(r1.stderr).toMatch(/spec\.dockerNetwork.*Docker network "beta" is already the network of ClusterNetwork "beta"/s);
    const hs = 'apiVersion: xnet.io/v1alpha1\nkind: HostSubnet\nmetadata: {name: pinned}\nspec: {node: host-1, clusterNetwork: alpha, subnet: 10.81.200.0/24, bridge: docker0}\n';
    const r2 = await lab().xctl(['apply', '-f', '-'], { input: hs });
    expect(r2.exitCode).not.toBe(0);
    expect(r2.stderr).toMatch(/spec\.bridge.*docker0/s);
    expect(await getObject(lab(), 'macvlannet', 'mv')).toBeUndefined();
    expect(await getObject(lab(), 'hostsubnet', 'pinned')).toBeUndefined();
  }, 60_000);

  test('a HostSubnet written around xctl whose bridge is a link xnet did not make: BridgeNameTaken, the link untouched', async () => {
    await apply(lab(), 'apiVersion: xnet.io/v1alpha1\nkind: ClusterNetwork\nmetadata: {name: gamma}\nspec: {cidr: 10.83.0.0/16, hostPrefix: 24, nodeSelector: {matchLabels: {none: x}}}\n');
    await lab().exec('host-2', ['ip', 'link', 'add', 'userbr0', 'type', 'bridge'], { check: true });
    const before = (await lab().exec('host-2', ['ip', '-d', 'link', 'show', 'userbr0'], { check: true })).stdout;
    client = createEtcdClient({ endpoints: lab().endpoints(), cacert: lab().auth().ca, ...lab().auth().root });
    const store = createEtcdStore(client, '/xnet');
    await store.applyAll([{
      apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet', metadata: { name: 'stolen' },
      spec: { node: 'host-2', clusterNetwork: 'gamma', subnet: '10.83.201.0/24', bridge: 'userbr0', icc: true },
    } as never]);
    const { value: cond } = await waitFor('stolen Ready=False', async () => {
      const c = getCondition((await getObject(lab(), 'hostsubnet', 'stolen'))?.status?.conditions, 'Ready');
      return c?.reason === 'BridgeNameTaken' ? c : undefined;
    }, 60_000);
    expect(cond.message).toContain('userbr0');
    const docker = (await lab().docker('host-2', ['network', 'ls', '--format', '{{.Name}}'], { check: true })).stdout;
    expect(docker.split('\n')).not.toContain('gamma');
    expect((await lab().exec('host-2', ['ip', '-d', 'link', 'show', 'userbr0'], { check: true })).stdout).toBe(before);
    // A NIC on that HostSubnet (the controller gives it an address there) is not put onto the link either.
    await runContainer(lab(), 'host-2', 'g2', 'bridge');
    await store.applyAll([{
      apiVersion: 'xnet.io/v1alpha1', kind: 'ContainerNic', metadata: { name: 'g2-eth1' },
      spec: { node: 'host-2', container: 'g2', ifName: 'eth1', network: { clusterNetwork: 'gamma' } },
    } as never]);
    const { value: nicCond } = await waitFor('g2-eth1 Ready=False BridgeNotReady', async () => {
      const n = await getObject(lab(), 'containernic', 'g2-eth1');
      const c = getCondition(n?.status?.conditions, 'Ready');
      return n?.status?.ip && c?.reason === 'BridgeNotReady' ? c : undefined;
    }, 60_000);
    expect(nicCond.message).toContain('userbr0');
    expect((await lab().exec('host-2', ['ip', '-o', 'link', 'show', 'master', 'userbr0'], { check: true })).stdout).toBe('');
    expect((await lab().docker('host-2', ['exec', 'g2', 'ip', '-o', 'link', 'show'], { check: true })).stdout).not.toMatch(/ eth1@/);
    await store.close();
  }, 120_000);

  test('ends with xctl lab verify clean once the refused HostSubnet is deleted', async () => {
    const nic = await lab().xctl(['delete', 'nic', 'g2-eth1']);
    expect(nic.exitCode, nic.stderr).toBe(0);
    const del = await lab().xctl(['delete', 'hs', 'stolen']);
    expect(del.exitCode, del.stderr).toBe(0);
    await expectLabVerifyClean(lab());
  }, 150_000);
});
