// Two hosts with real dockerd and etcd: each agent makes its bridge network, routes the
// peer's subnet via the peer's underlay address, and keeps container source addresses
// across hosts (no NAT inside the cluster) while traffic leaving the cluster is masqueraded.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostExec } from '../../pkg/lab/index.js';
import { Keys } from '../../pkg/store/keys.js';
import { breakAndCheck, breakVerified } from '../harness/heal.js';
import { agentLab, allocateNic, createDefaultNetwork, docker, eventually, inContainer, obj, readyCondition, routes, runContainer, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;

beforeAll(async () => {
  lab = await agentLab(2);
  await createDefaultNetwork(lab.store);
  await Promise.all(lab.hosts.map((h) => lab.startAgent(h)));
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: host subnets, routes, NAT', () => {
  it('makes the Docker bridge network with the subnet, gateway, bridge, ip-range and ICC', async () => {
    const [h1] = lab.hosts;
    const net = JSON.parse(await docker(h1, ['network', 'inspect', 'net1']))[0];
    expect(net.IPAM.Config[0]).toMatchObject({ Subnet: '10.76.1.0/24', Gateway: '10.76.1.1', IPRange: '10.76.1.128/25' });
    expect(net.Options).toMatchObject({ 'com.docker.network.bridge.name': 'br01', 'com.docker.network.bridge.enable_icc': 'true' });
    expect(await sh(h1, ['sysctl', '-n', 'net.ipv4.ip_forward'])).toContain('1');
    const hs = await eventually(async () => {
      const o = await lab.store.get('HostSubnet', 'default-host-1');
      return o?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True') ? o : undefined;
    }, 'HostSubnet Ready');
    expect(hs.status?.conditions?.[0].reason).toBe('Converged');
  });

  it('routes each peer subnet via the peer address, marked with xnet\'s protocol', async () => {
    const [h1, h2] = lab.hosts;
    expect((await routes(h1)).find((r) => r.dst === '10.76.2.0/24')).toMatchObject({ gateway: '198.18.0.12', protocol: '76' });
    expect((await routes(h2)).find((r) => r.dst === '10.76.1.0/24')).toMatchObject({ gateway: '198.18.0.11', protocol: '76' });
  });

  it('containers on two hosts reach each other with their own source addresses', async () => {
    const [h1, h2] = lab.hosts;
    await runContainer(h1, 'ca', ['--net', 'net1', '--ip', '10.76.1.83']);
    await runContainer(h2, 'cb', ['--net', 'net1', '--ip', '10.76.2.83']);
    const ping = await inContainer(h1, 'ca', ['ping', '-c', '2', '-W', '2', '10.76.2.83']);
    expect(ping.stdout).toContain('2 packets received');
    // b sees a's own address, not host-1's underlay address: no NAT inside the cluster.
    // b's listener answers with its own view of the connection (netstat), so a learns which
    // source address b saw.
    await docker(h2, ['exec', '-d', 'cb', 'nc', '-l', '-p', '7000', '-e', 'netstat', '-tn']);
    await eventually(async () => (await inContainer(h2, 'cb', ['netstat', '-ltn'])).stdout.includes(':7000'), 'listener');
    const seen = (await inContainer(h1, 'ca', ['nc', '-w', '3', '10.76.2.83', '7000'])).stdout;
    expect(seen).toMatch(/10\.76\.2\.83:7000\s+(::ffff:)?10\.76\.1\.83:\d+/);
    expect(seen).not.toContain('198.18.0.11');
  });

  it('still masquerades traffic that leaves the cluster', async () => {
    const [h1] = lab.hosts;
    // The underlay gateway has no route to 10.76.0.0/16: it can only answer a masqueraded ping.
    const ping = await inContainer(h1, 'ca', ['ping', '-c', '1', '-W', '2', '198.18.0.1']);
    expect(ping.stdout).toContain('1 packets received');
  });

  it('puts back its NAT exemption when someone deletes it, at once (not at the resync)', async () => {
    const [h1] = lab.hosts;
    const jumpOnTop = async () => (await sh(h1, ['iptables', '-t', 'nat', '-S', 'POSTROUTING'])).split('\n')[1]?.includes('-j XNET-POSTROUTING') ?? false;
    await breakAndCheck('NAT exemption deleted', {
      whole: jumpOnTop,
      breakIt: () => breakVerified((argv) => hostExec(h1, argv), ['iptables', '-t', 'nat', '-D', 'POSTROUTING', '-j', 'XNET-POSTROUTING'], {
        argv: ['iptables', '-t', 'nat', '-S', 'POSTROUTING'], gone: '-j XNET-POSTROUTING',
      }),
    });
  });

  it('removes the route when the peer\'s HostSubnet goes, and puts it back when it returns', async () => {
    const [h1] = lab.hosts;
    const hs = await lab.store.get('HostSubnet', 'default-host-2');
    await lab.store.delete('HostSubnet', 'default-host-2');
    await eventually(async () => !(await routes(h1)).some((r) => r.dst === '10.76.2.0/24'), 'route removed');
    await lab.store.create({ ...hs!, metadata: { name: 'default-host-2' }, status: undefined } as never);
    // as the controller would: the checked node address peers route via
    await lab.store.writeStatus('HostSubnet', 'default-host-2', { controller: true }, { nodeAddress: '198.18.0.12' });
    await eventually(async () => (await routes(h1)).some((r) => r.dst === '10.76.2.0/24' && r.gateway === '198.18.0.12'), 'route back');
    // The object made again is a new object: host-2's agent reports on it again.
    await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', 'default-host-2'))?.status === 'True', 'Ready again');
  });

  it('routes 150 more peers added at once, tells about an unreachable one, and drops them when they go', async () => {
    const [h1] = lab.hosts;
    const objs = Array.from({ length: 150 }, (_, i) => [
      obj('Node', `peer-${i}`, { address: `198.18.0.${100 + i}` }),
      obj('HostSubnet', `default-peer-${i}`, { node: `peer-${i}`, clusterNetwork: 'default', subnet: `10.76.${100 + i}.0/24`, bridge: 'brx' }),
    ]).flat();
    // One peer whose address is off the underlay: the kernel refuses that next hop.
    objs.push(obj('Node', 'far', { address: '203.0.113.9' }), obj('HostSubnet', 'default-far', { node: 'far', clusterNetwork: 'default', subnet: '10.76.99.0/24', bridge: 'brx' }));
    // in transactions a stock etcd takes (128 ops each), as `xctl apply` sends a big manifest
    for (let i = 0; i < objs.length; i += 60) await lab.store.applyAll(objs.slice(i, i + 60));
    await eventually(async () => (await routes(h1)).filter((r) => r.protocol === '76').length === 151, '151 xnet routes');
    const cond = await eventually(async () => {
      const n = await lab.store.get('Node', 'host-1');
      return n?.status?.conditions?.find((c) => c.type === 'RoutesReady' && c.status === 'False');
    }, 'RoutesReady=False', 15_000);
    expect(cond.message).toContain('10.76.99.0/24 via 203.0.113.9');
    // all at once, as `xctl delete -f` would: one by one took minutes on a loaded machine. That
    // marks them (their finalizer); the controller, which does not run here, then deletes them:
    // the finalizer taken off, they go
    const names = objs.filter((x) => x.kind === 'HostSubnet').map((o) => o.metadata.name);
    await Promise.all(names.map((n) => lab.store.delete('HostSubnet', n)));
    await Promise.all(names.map(async (n) => {
      const marked = (await lab.store.get('HostSubnet', n))!;
      await lab.store.update({ ...marked, metadata: { ...marked.metadata, finalizers: [] } });
    }));
    await eventually(async () => (await routes(h1)).filter((r) => r.protocol === '76').length === 1, 'back to one xnet route');
  }, 120_000);

  it('puts back a route deleted by hand, and leaves routes it did not make alone', async () => {
    const [h1] = lab.hosts;
    await sh(h1, ['ip', 'route', 'add', '10.99.0.0/24', 'via', '198.18.0.1']);
    expect((await routes(h1)).some((r) => r.dst === '10.99.0.0/24')).toBe(true);
    await breakAndCheck('route deleted', {
      whole: async () => (await routes(h1)).some((r) => r.dst === '10.76.2.0/24' && r.gateway === '198.18.0.12' && r.protocol === '76'),
      breakIt: () => breakVerified((argv) => hostExec(h1, argv), ['ip', 'route', 'del', '10.76.2.0/24'], { argv: ['ip', 'route', 'show'], gone: '10.76.2.0/24' }),
    });
    expect((await routes(h1)).some((r) => r.dst === '10.99.0.0/24')).toBe(true);
  });

  it('reports itself again when someone deletes its Node, and peers keep their route meanwhile', async () => {
    const [h1] = lab.hosts;
    const reportKey = new Keys('/xnet').status('Node', 'host-2', { node: 'host-2' });
    const report = async () => (await lab.client.get(reportKey).exec()).kvs[0];
    const before = await report();
    expect(before?.lease, 'host-2\'s report is bound to its lease').toMatch(/^[1-9]\d*$/);
    const t0 = Date.now();
    // the Node's deletion deletes the agent's report in the same transaction
    expect(await lab.store.delete('Node', 'host-2')).toBe(true);
    const routeMeanwhile: string[] = [];
    const checkRoute = async () => {
      const r = (await routes(h1)).find((x) => x.dst === '10.76.2.0/24');
      if (!r || r.gateway !== '198.18.0.12') routeMeanwhile.push(`${Date.now() - t0} ms: ${JSON.stringify(r)}`);
    };
    const again = await eventually(async () => {
      await checkRoute();
      const r = await report();
      return r && Number(r.create_revision) > Number(before!.create_revision) ? r : undefined;
    }, 'host-2\'s report written again', 15_000);
    expect(again.lease).toBe(before!.lease);
    // standing in for the controller, which makes the Node of a node that reported itself
    // (node-join.test.ts runs the real one); the agent's own credentials cannot
    await lab.store.create(obj('Node', 'host-2', {}));
    await eventually(async () => { await checkRoute(); return (await readyCondition(lab.store, 'Node', 'host-2'))?.status === 'True'; }, 'Node host-2 Ready', 20_000);
    expect(routeMeanwhile, 'host-1\'s route to host-2 while host-2\'s Node was gone').toEqual([]);
    expect((await routes(h1)).find((r) => r.dst === '10.76.2.0/24')).toMatchObject({ gateway: '198.18.0.12', protocol: '76' });
  });

  it('puts back a deleted route and NAT jump while Docker hangs: routes and NAT have a worker of their own', async () => {
    const [h1] = lab.hosts;
    const dockerd = Number(readFileSync(join(h1.dir, 'dockerd.pid'), 'utf8'));
    const nics = ['hang-1', 'hang-2'];
    // Stopped, dockerd's socket still accepts and nothing answers: a dockerd that is starting
    // (chaos fault 6 saw 28 s). Each NIC's reconcile asks it for its container and waits (30 s).
    process.kill(dockerd, 'SIGSTOP');
    try {
      for (const n of nics) {
        await lab.store.create(obj('ContainerNic', n, { node: 'host-1', container: n, ifName: 'eth1', network: { clusterNetwork: 'default' } }));
        await allocateNic(lab.store, n, `10.76.1.${nics.indexOf(n) + 120}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
      await breakAndCheck('route deleted while Docker hangs', {
        whole: async () => (await routes(h1)).some((r) => r.dst === '10.76.2.0/24' && r.protocol === '76'),
        breakIt: () => breakVerified((argv) => hostExec(h1, argv), ['ip', 'route', 'del', '10.76.2.0/24'], { argv: ['ip', 'route', 'show'], gone: '10.76.2.0/24' }),
        timeoutMs: 10_000,
      });
      // and NAT, whose pass asks Docker for its networks (2 s, then the ones last read)
      const jumpOnTop = async () => (await sh(h1, ['iptables', '-t', 'nat', '-S', 'POSTROUTING'])).split('\n')[1]?.includes('-j XNET-POSTROUTING') ?? false;
      await breakAndCheck('NAT exemption deleted while Docker hangs', {
        whole: jumpOnTop,
        breakIt: () => breakVerified((argv) => hostExec(h1, argv), ['iptables', '-t', 'nat', '-D', 'POSTROUTING', '-j', 'XNET-POSTROUTING'], {
          argv: ['iptables', '-t', 'nat', '-S', 'POSTROUTING'], gone: '-j XNET-POSTROUTING',
        }),
        timeoutMs: 10_000,
      });
    } finally {
      process.kill(dockerd, 'SIGCONT');
      for (const n of nics) await lab.store.delete('ContainerNic', n).catch(() => undefined);
    }
  }, 60_000);
});
