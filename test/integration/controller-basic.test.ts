import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import type { Controller } from '../../pkg/controller/controller.js';
import type { EtcdStore } from '../../pkg/store/index.js';
import { getCondition, type AnyObject } from '../../pkg/api/index.js';
import type { Condition } from '../../pkg/api/fields.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { listEvents } from '../../pkg/events/read.js';
import { obj, startController, eventually, storeFor, uniquePrefix } from './controller-helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });

type Status = Record<string, unknown> & { conditions?: Condition[] };
const statusOf = (o: AnyObject | undefined) => o?.status as Status | undefined;

describe('a HostSubnet on a ClusterNetwork that does not exist', () => {
  // a controller of its own: its event recorder's burst is not spent by the suite above (a
  // dropped event is never recorded again for a HostSubnet that is not reconciled again)
  it('says InvalidSpec in its conditions and in its Warning event alike', async () => {
    const prefix = uniquePrefix();
    const store = storeFor(etcd.client(), prefix);
    const c = await startController(etcd.client(), prefix);
    try {
      await store.applyAll([obj('Node', 'host-1', {}), obj('HostSubnet', 'nowhere-host-1', { node: 'host-1', clusterNetwork: 'nowhere' })]);
      const hs = await eventually(async () => {
        const o = await store.get('HostSubnet', 'nowhere-host-1');
        return getCondition(statusOf(o)?.conditions as never, 'Ready')?.status === 'False' ? o : undefined;
      }, 'HostSubnet nowhere-host-1 refused');
      expect(getCondition(statusOf(hs)!.conditions as never, 'Ready')).toMatchObject({ reason: 'InvalidSpec', message: 'ClusterNetwork "nowhere" does not exist' });
      const ev = await eventually(async () => (await listEvents(etcd.client(), prefix, { kind: 'HostSubnet', name: 'nowhere-host-1' })).items.find((e) => e.type === 'Warning'), 'its Warning event');
      expect(ev).toMatchObject({ reason: 'InvalidSpec', message: 'ClusterNetwork "nowhere" does not exist' });
    } finally {
      await c.stop();
    }
  });
});

describe('controller against a real etcd', () => {
  let c: Controller;
  let store: EtcdStore;
  /** the node that holds 10.76.1.0/24 */
  let node = '';
  const prefix = uniquePrefix();
  const get = async (kind: string, name: string) => store.get(kind as never, name);
  const waitFor = (kind: string, name: string, pred: (s: Status) => boolean, what: string) =>
    eventually(async () => { const o = await get(kind, name); const s = statusOf(o); return s && pred(s) ? o : undefined; }, what);
  const ready = (s: Status) => s.conditions?.find((x) => x.type === 'Ready');

  beforeAll(async () => {
    store = storeFor(etcd.client(), prefix);
    // Reuse right after a release is what this suite checks; the cooldown has its own test (trust-addresses).
    c = await startController(etcd.client(), prefix, { addressCooldownMs: 0 });
  });
  afterAll(async () => { await c?.stop(); });

  it('gives each node a /24 with bridge, gateway and dockerRange like seed 000, and NICs addresses from the xnet half', async () => {
    await store.applyAll([
      obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24, reserved: ['10.76.0.0/24'] }),
      obj('Node', 'host-1', { address: '198.18.0.11' }),
      obj('Node', 'host-2', { address: '198.18.0.12' }),
    ]);
    const hs1 = await waitFor('HostSubnet', 'default-host-1', (s) => !!s.subnet, 'HostSubnet default-host-1');
    const hs2 = await waitFor('HostSubnet', 'default-host-2', (s) => !!s.subnet, 'HostSubnet default-host-2');
    expect([statusOf(hs1)!.subnet, statusOf(hs2)!.subnet].sort()).toEqual(['10.76.1.0/24', '10.76.2.0/24']);
    const one = statusOf(hs1)!.subnet === '10.76.1.0/24' ? hs1! : hs2!;
    expect(statusOf(one)).toMatchObject({ subnet: '10.76.1.0/24', gateway: '10.76.1.1', bridge: 'br01', dockerRange: '10.76.1.128/25' });
    expect(statusOf(hs1)).toMatchObject({ nodeAddress: '198.18.0.11' });
    node = (one.spec as { node: string }).node;

    await store.applyAll([
      obj('ContainerNic', 'a-eth1', { node, container: 'a', ifName: 'eth1', network: { clusterNetwork: 'default' } }),
      obj('ContainerNic', 'b-eth1', { node, container: 'b', ifName: 'eth1', network: { clusterNetwork: 'default' }, ip: '10.76.1.84' }),
    ]);
    const a = await waitFor('ContainerNic', 'a-eth1', (s) => !!s.ip, 'NIC a');
    const b = await waitFor('ContainerNic', 'b-eth1', (s) => !!s.ip, 'NIC b');
    expect(statusOf(a)).toMatchObject({ ip: '10.76.1.2', prefixLength: 24, gateway: '10.76.1.1' });
    expect(statusOf(b)).toMatchObject({ ip: '10.76.1.84', prefixLength: 24 });
    // the node's agent sees its NICs with their addresses in its own index (issue 10 part 3)
    const view = store.nodeView(node);
    let seen: string[];
    try {
      await view.start();
      seen = (await view.list('ContainerNic')).items.map((n) => `${n.metadata.name} ${statusOf(n)?.ip}`).sort();
    } finally {
      // closed also when its start or list fails: its watches end before the file's next test
      await view.close();
    }
    expect(seen).toEqual(['a-eth1 10.76.1.2', 'b-eth1 10.76.1.84']);
    const report = await ipamCheck(etcd.client(), prefix);
    expect(report.problems, report.text).toBe(0);
    expect(report.text).toMatch(/^clusternetwork\/default\s+2\s+/m);
  });

  it('refuses a taken static address with IPConflict and an outside one with OutOfRange', async () => {
    await store.applyAll([
      obj('ContainerNic', 'c-eth1', { node, container: 'c', ifName: 'eth1', network: { clusterNetwork: 'default' }, ip: '10.76.1.84' }),
      obj('ContainerNic', 'd-eth1', { node, container: 'd', ifName: 'eth1', network: { clusterNetwork: 'default' }, ip: '10.76.1.200' }),
    ]);
    const conflict = await waitFor('ContainerNic', 'c-eth1', (s) => ready(s)?.reason === 'IPConflict', 'IPConflict on c-eth1');
    expect(ready(statusOf(conflict)!)?.message).toContain('b-eth1');
    expect(statusOf(conflict)!.ip).toBeUndefined();
    const out = await waitFor('ContainerNic', 'd-eth1', (s) => ready(s)?.reason === 'OutOfRange', 'OutOfRange on d-eth1');
    expect(ready(statusOf(out)!)?.message).toContain('10.76.1.128/25');
    // The holder lets go: the waiting NIC gets the address.
    await store.delete('ContainerNic', 'b-eth1');
    await waitFor('ContainerNic', 'c-eth1', (s) => s.ip === '10.76.1.84', 'c-eth1 gets 10.76.1.84 once b-eth1 is deleted');
    await store.delete('ContainerNic', 'd-eth1');
    await store.delete('ContainerNic', 'c-eth1');
  });

  it('says PoolExhausted when a node\'s xnet range is used up, and recovers when an address is released', async () => {
    await store.applyAll([
      obj('ClusterNetwork', 'tiny', { cidr: '10.99.0.0/24', hostPrefix: 28, nodeSelector: { matchLabels: { pool: 'tiny' } } }),
      obj('Node', 'host-9', {}, { pool: 'tiny' }),
    ]);
    // /28: 16 addresses; Docker gets the upper 8; network and gateway leave 6 for ContainerNics.
    await waitFor('HostSubnet', 'tiny-host-9', (s) => s.subnet === '10.99.0.0/28', 'tiny-host-9');
    const nics = Array.from({ length: 7 }, (_, i) => obj('ContainerNic', `t${i}`, { node: 'host-9', container: `t${i}`, ifName: 'eth1', network: { clusterNetwork: 'tiny' } }));
    await store.applyAll(nics);
    const all = await eventually(async () => {
      const list = await Promise.all(nics.map((n) => get('ContainerNic', n.metadata.name)));
      const ips = list.map((o) => statusOf(o)?.ip).filter(Boolean);
      const exhausted = list.filter((o) => ready(statusOf(o) ?? {})?.reason === 'PoolExhausted');
      return ips.length === 6 && exhausted.length === 1 ? { ips, exhausted } : undefined;
    }, 'six addresses and one PoolExhausted');
    expect(new Set(all.ips).size).toBe(6);
    const loser = all.exhausted[0]!.metadata.name;
    // told where users look too, as docs/api.md's events table says: a Warning on the NIC
    const warned = await eventually(async () => (await listEvents(etcd.client(), prefix, { kind: 'ContainerNic', name: loser })).items.find((e) => e.reason === 'PoolExhausted'), 'the PoolExhausted event of the NIC');
    expect(warned).toMatchObject({ type: 'Warning', source: { component: 'controller' } });
    expect(warned.message).toContain('no free address left');
    const winner = nics.map((n) => n.metadata.name).find((n) => n !== loser)!;
    const freed = statusOf(await get('ContainerNic', winner))!.ip;
    await store.delete('ContainerNic', winner);
    await waitFor('ContainerNic', loser, (s) => s.ip === freed, 'the waiting NIC gets the released address');
    const report = await ipamCheck(etcd.client(), prefix);
    expect(report.problems, report.text).toBe(0);
  });

  it('keeps a silent node\'s subnet (Ready=False NodeLost) and gives it back on rejoin', async () => {
    const agentStatus = { address: '198.18.0.21', interface: 'eth0', agentVersion: 'test', lastHeartbeatTime: new Date().toISOString(), conditions: [{ type: 'Ready', status: 'True' as const, reason: 'AgentReady' }] };
    let lease = store.nodeLease('host-r', { ttlSeconds: 2 });
    await lease.heartbeat({});
    await store.applyAll([obj('Node', 'host-r', {})]);
    await waitFor('Node', 'host-r', (s) => ready(s)?.reason === 'AgentNotStarted', 'AgentNotStarted before the first heartbeat');
    await store.writeStatus('Node', 'host-r', { node: 'host-r' }, agentStatus, { lease });
    const before = await waitFor('HostSubnet', 'default-host-r', (s) => s.nodeAddress === '198.18.0.21', 'HostSubnet with the agent-reported address');
    const subnet = statusOf(before)!.subnet;
    await lease.revoke();
    const lost = await waitFor('Node', 'host-r', (s) => ready(s)?.reason === 'NodeLost', 'NodeLost after the lease went');
    expect(statusOf(lost)).toMatchObject({ address: '198.18.0.21' });
    const kept = await get('HostSubnet', 'default-host-r');
    expect(statusOf(kept)).toMatchObject({ subnet, nodeAddress: '198.18.0.21' });
    lease = store.nodeLease('host-r', { ttlSeconds: 5 });
    await lease.heartbeat({});
    await store.writeStatus('Node', 'host-r', { node: 'host-r' }, agentStatus, { lease });
    await waitFor('Node', 'host-r', (s) => ready(s)?.status === 'True', 'Ready again on rejoin');
    expect(statusOf(await get('HostSubnet', 'default-host-r'))!.subnet).toBe(subnet);
    await lease.revoke();
  });

  it('deletes a deleted node\'s HostSubnets, frees their blocks, and reuses them for the next node', async () => {
    await store.applyAll([obj('Node', 'host-x', {}), obj('ContainerNic', 'x-eth1', { node: 'host-x', container: 'x', ifName: 'eth1', network: { clusterNetwork: 'default' } })]);
    const hs = await waitFor('HostSubnet', 'default-host-x', (s) => !!s.subnet, 'default-host-x');
    const subnet = statusOf(hs)!.subnet;
    const x = await waitFor('ContainerNic', 'x-eth1', (s) => !!s.ip, 'NIC x-eth1');
    const claimed = async () => Object.values(await etcd.client().getAll().prefix(`${prefix}/ipam/clusternetworks/default/addresses/`).strings()).filter((v) => v.includes('"x-eth1"')).length;
    expect(await claimed()).toBe(1);
    await store.delete('Node', 'host-x');
    await eventually(async () => !(await get('HostSubnet', 'default-host-x')), 'default-host-x deleted');
    // its slot goes to the next node: the NIC's address in it goes too, at once (not at a
    // failover), and the NIC waits for a HostSubnet of its node
    const waiting = await waitFor('ContainerNic', 'x-eth1', (s) => !s.ip, 'x-eth1 without its address');
    expect(statusOf(x)!.ip).toMatch(/^10\.76\./);
    expect(getCondition(statusOf(waiting)!.conditions, 'Allocated')).toMatchObject({ status: 'False', reason: 'WaitingForHostSubnet' });
    expect(await claimed()).toBe(0);
    await store.delete('ContainerNic', 'x-eth1');
    await store.applyAll([obj('Node', 'host-y', {})]);
    const y = await waitFor('HostSubnet', 'default-host-y', (s) => !!s.subnet, 'default-host-y');
    expect(statusOf(y)!.subnet).toBe(subnet);
    const report = await ipamCheck(etcd.client(), prefix);
    expect(report.problems, report.text).toBe(0);
  });

  it('honours hand-written HostSubnets: their block is skipped, a given subnet and bridge are kept', async () => {
    await store.applyAll([
      obj('ClusterNetwork', 'hand', { cidr: '10.50.0.0/16', hostPrefix: 24, bridgePrefix: 'hb', nodeSelector: { matchLabels: { pool: 'hand' } } }),
      obj('HostSubnet', 'manual-1', { node: 'host-m1', clusterNetwork: 'hand', subnet: '10.50.0.0/24', bridge: 'mybr' }),
      obj('Node', 'host-m1', {}, { pool: 'hand' }),
      obj('Node', 'host-m2', {}, { pool: 'hand' }),
    ]);
    const m1 = await waitFor('HostSubnet', 'manual-1', (s) => !!s.subnet, 'manual-1 allocated');
    expect(statusOf(m1)).toMatchObject({ subnet: '10.50.0.0/24', bridge: 'mybr', gateway: '10.50.0.1' });
    const m2 = await waitFor('HostSubnet', 'hand-host-m2', (s) => !!s.subnet, 'hand-host-m2');
    expect(statusOf(m2)).toMatchObject({ subnet: '10.50.1.0/24', bridge: 'hb01' });
    expect(await get('HostSubnet', 'hand-host-m1')).toBeUndefined();
    await store.applyAll([obj('HostSubnet', 'manual-2', { node: 'host-m2', clusterNetwork: 'hand', subnet: '10.50.1.0/25' })]);
    await waitFor('HostSubnet', 'manual-2', (s) => ready(s)?.reason === 'SubnetConflict', 'SubnetConflict for an overlapping hand-written subnet');
  });

  it('gives every MacvlanNet node a Docker block and a shim address apart from NIC addresses, and aggregates readiness', async () => {
    await store.applyAll([
      obj('MacvlanNet', 'macvlan200', { subnet: '192.168.200.0/24', gateway: '192.168.200.1', ipRange: '192.168.200.128/25', exclude: ['192.168.200.130/31'], blockPrefix: 28, dockerIPAM: 'blocks', nodeSelector: { matchLabels: { mv: 'yes' } } }),
      obj('Node', 'mv-1', { interface: 'eth0' }, { mv: 'yes' }),
      obj('Node', 'mv-2', { interface: 'eth1' }, { mv: 'yes' }),
      obj('ContainerNic', 'mv-nic', { node: 'mv-1', container: 'x', ifName: 'eth1', network: { macvlanNet: 'macvlan200' } }),
    ]);
    const m = await waitFor('MacvlanNet', 'macvlan200', (s) => (s.nodes as unknown[] | undefined)?.length === 2 && (s.nodes as Array<{ dockerRange?: string }>).every((n) => n.dockerRange), 'both nodes have blocks');
    const nodes = statusOf(m)!.nodes as Array<{ name: string; dockerRange: string; shimAddress: string; parent: string; ready: boolean }>;
    // Blocks come from the top of ipRange; .240/28 holds the broadcast address, so it is skipped.
    expect(nodes.map((n) => n.dockerRange).sort()).toEqual(['192.168.200.208/28', '192.168.200.224/28']);
    expect(nodes.find((n) => n.name === 'mv-2')!.parent).toBe('eth1');
    const nic = await waitFor('ContainerNic', 'mv-nic', (s) => !!s.ip, 'mv-nic address');
    const used = [statusOf(nic)!.ip, ...nodes.map((n) => n.shimAddress)];
    expect(new Set(used).size).toBe(3);
    expect([...used].sort()).toEqual(['192.168.200.128', '192.168.200.129', '192.168.200.132']);
    expect(ready(statusOf(m)!)?.status).toBe('False');
    await store.applyAll([obj('ContainerNic', 'mv-static', { node: 'mv-2', container: 'y', ifName: 'eth1', network: { macvlanNet: 'macvlan200' }, ip: '192.168.200.225' })]);
    const inBlock = await waitFor('ContainerNic', 'mv-static', (s) => ready(s)?.reason === 'IPConflict', 'IPConflict for an address in a Docker block');
    expect(ready(statusOf(inBlock)!)?.message).toContain('192.168.200.224/28');
    await store.delete('ContainerNic', 'mv-static');
    // each agent's report about itself (heartbeat.ts), then its report on the MacvlanNet
    for (const n of ['mv-1', 'mv-2']) await store.writeStatus('Node', n, { node: n }, { lastHeartbeatTime: new Date().toISOString() });
    for (const n of ['mv-1', 'mv-2']) await store.writeStatus('MacvlanNet', 'macvlan200', { node: n }, { name: n, ready: true, message: 'ok' });
    await waitFor('MacvlanNet', 'macvlan200', (s) => ready(s)?.status === 'True', 'Ready when every node reports ready');
    const report = await ipamCheck(etcd.client(), prefix);
    expect(report.problems, report.text).toBe(0);
  });

  it('plans a MacvlanNet written straight into etcd without its defaulted fields with their defaults (a /28 block, a shim)', async () => {
    const raw = {
      apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet',
      metadata: { name: 'mvraw', uid: 'mvraw-uid', generation: 1, creationTimestamp: new Date().toISOString() },
      spec: { subnet: '192.168.220.0/24', dockerIPAM: 'blocks', nodeSelector: { matchLabels: { raw: 'yes' } } },
    };
    await store.applyAll([obj('Node', 'raw-1', { interface: 'eth0' }, { raw: 'yes' })]);
    await etcd.client().put(`${prefix}/registry/objects/macvlannets/mvraw`).value(JSON.stringify(raw));
    const m = await waitFor('MacvlanNet', 'mvraw', (s) => ((s.nodes as Array<{ dockerRange?: string; shimAddress?: string }> | undefined) ?? []).some((n) => n.dockerRange && n.shimAddress), 'raw-1 has a block and a shim');
    const n = (statusOf(m)!.nodes as Array<{ name: string; dockerRange: string; shimAddress: string }>)[0];
    expect(n.name).toBe('raw-1');
    expect(n.dockerRange).toMatch(/^192\.168\.220\.\d+\/28$/);
    expect(n.shimAddress).toMatch(/^192\.168\.220\./);
  });

  it("one node's oversized MacvlanNet report (a 1.4 MB message, a bogus parent) is not copied into the status every node reads", async () => {
    await store.applyAll([
      obj('MacvlanNet', 'mvbig', { subnet: '192.168.210.0/24', blockPrefix: 28, dockerIPAM: 'blocks', nodeSelector: { matchLabels: { big: 'yes' } } }),
      obj('Node', 'big-1', { interface: 'eth0' }, { big: 'yes' }),
    ]);
    const blocks = (s: Status) => (s.nodes as Array<{ name: string; dockerRange?: string; message?: string; parent?: string }> | undefined) ?? [];
    await waitFor('MacvlanNet', 'mvbig', (s) => blocks(s).some((n) => n.name === 'big-1' && n.dockerRange), 'big-1 has a block');
    const huge = 'x'.repeat(1_400_000);
    // a live agent (its report about itself): its report on the MacvlanNet is copied, clipped
    await store.writeStatus('Node', 'big-1', { node: 'big-1' }, { lastHeartbeatTime: new Date().toISOString() });
    await store.writeStatus('MacvlanNet', 'mvbig', { node: 'big-1' }, { name: 'big-1', parent: 'p'.repeat(5000), ready: false, message: huge });
    expect((await etcd.client().get(`${prefix}/registry/status/nodes/big-1/macvlannets/mvbig`).string())?.length).toBeGreaterThan(1_400_000);
    // a node joining now still gets its block, and the status every node reads stays small
    await store.applyAll([obj('Node', 'big-2', { interface: 'eth0' }, { big: 'yes' })]);
    const m = await waitFor('MacvlanNet', 'mvbig', (s) => blocks(s).some((n) => n.name === 'big-2' && n.dockerRange) && blocks(s).some((n) => n.name === 'big-1' && n.message?.startsWith('xxx')), 'big-2 has a block');
    const big1 = blocks(statusOf(m)!).find((n) => n.name === 'big-1')!;
    expect(big1.message!.length).toBeLessThanOrEqual(160);
    expect(big1.parent).toBe('eth0');
    expect(JSON.stringify(statusOf(m)).length).toBeLessThan(4096);
  });

  it("one node's oversized report about itself (a 1.5 MB interface name) is not copied into its Node's status nor taken as a parent", async () => {
    await store.applyAll([
      obj('MacvlanNet', 'mvself', { subnet: '192.168.211.0/24', blockPrefix: 28, dockerIPAM: 'blocks', nodeSelector: { matchLabels: { self: 'yes' } } }),
      obj('Node', 'self-1', {}, { self: 'yes' }),
    ]);
    // the most etcd takes in one request, under the node's own key for its report about itself
    await store.writeStatus('Node', 'self-1', { node: 'self-1' }, { interface: 'e'.repeat(1_560_000), agentVersion: 'v'.repeat(5000), lastHeartbeatTime: 'not a time' });
    expect((await etcd.client().get(`${prefix}/registry/status/nodes/self-1/nodes/self-1`).string())?.length).toBeGreaterThan(1_560_000);
    await store.applyAll([obj('Node', 'self-2', { interface: 'eth0' }, { self: 'yes' })]);
    const parts = (s: Status) => (s.nodes as Array<{ name: string; dockerRange?: string; parent?: string }> | undefined) ?? [];
    const m = await waitFor('MacvlanNet', 'mvself', (s) => ['self-1', 'self-2'].every((n) => parts(s).some((p) => p.name === n && p.dockerRange)), 'both nodes have blocks');
    expect(parts(statusOf(m)!).find((p) => p.name === 'self-1')?.parent).toBeUndefined();
    expect(parts(statusOf(m)!).find((p) => p.name === 'self-2')?.parent).toBe('eth0');
    // the controller's own status of the Node (what the merged view falls back on) stays small
    const own = await eventually(async () => (await etcd.client().get(`${prefix}/registry/status/controller/nodes/self-1`).string()) ?? undefined, "self-1's controller status");
    expect(own.length).toBeLessThan(4096);
    expect(JSON.parse(own)).not.toHaveProperty('agentVersion');
    expect(JSON.parse(own)).not.toHaveProperty('interface');
    expect(JSON.parse(own)).not.toHaveProperty('lastHeartbeatTime');
  });

  it('names HostSubnets <cn>-<node>, with a hash when that name is taken by another pair', async () => {
    await store.applyAll([
      obj('ClusterNetwork', 'a-b', { cidr: '10.201.0.0/16', hostPrefix: 24, nodeSelector: { matchLabels: { clash: 'yes' } } }),
      obj('ClusterNetwork', 'a', { cidr: '10.202.0.0/16', hostPrefix: 24, nodeSelector: { matchLabels: { clash: 'yes' } } }),
      obj('Node', 'c', {}, { clash: 'yes' }),
      obj('Node', 'b-c', {}, { clash: 'yes' }),
    ]);
    const pairs = await eventually(async () => {
      const list = (await store.list('HostSubnet')).items.filter((h) => ['a', 'a-b'].includes((h.spec as { clusterNetwork: string }).clusterNetwork));
      return list.length === 4 && list.every((h) => statusOf(h)?.subnet) ? list : undefined;
    }, 'four HostSubnets for two nodes x two ClusterNetworks');
    const names = pairs.map((h) => h.metadata.name);
    expect(new Set(names).size).toBe(4);
    expect(names).toContain('a-b-c');
    expect(names.filter((n) => /^a-b-c-[0-9a-f]{8}$/.test(n))).toHaveLength(1);
  });

  it('moves NIC addresses along when a hand-written HostSubnet is moved', async () => {
    await store.applyAll([obj('ContainerNic', 'm-eth1', { node: 'host-m1', container: 'm', ifName: 'eth1', network: { clusterNetwork: 'hand' } })]);
    await waitFor('ContainerNic', 'm-eth1', (s) => s.ip === '10.50.0.2', 'm-eth1 in 10.50.0.0/24');
    await store.applyAll([obj('HostSubnet', 'manual-1', { node: 'host-m1', clusterNetwork: 'hand', subnet: '10.50.7.0/24', bridge: 'mybr' })]);
    await waitFor('HostSubnet', 'manual-1', (s) => s.subnet === '10.50.7.0/24', 'manual-1 moved');
    await waitFor('ContainerNic', 'm-eth1', (s) => s.ip === '10.50.7.2', 'm-eth1 follows to 10.50.7.0/24');
  });

  it('frees, when a controller starts again, what owners deleted while none ran held', async () => {
    await c.stop();
    // The NICs carry the controller's keep-until-gone finalizer: a delete only marks them. An
    // admin who removes the finalizer by hand (as with kubectl) makes them go at once.
    for (const n of ['a-eth1', 'm-eth1']) {
      await store.delete('ContainerNic', n);
      const marked = await store.get('ContainerNic', n);
      expect(marked?.metadata.finalizers).toEqual(['xnet.io/address-in-use']);
      await store.update({ ...marked!, metadata: { ...marked!.metadata, finalizers: [] } });
      expect(await store.get('ContainerNic', n)).toBeUndefined();
    }
    const before = await ipamCheck(etcd.client(), prefix);
    expect(before.problems).toBe(2);
    expect(before.text).toContain('owner does not exist');
    c = await startController(etcd.client(), prefix);
    const after = await eventually(async () => { const r = await ipamCheck(etcd.client(), prefix); return r.problems === 0 ? r : undefined; }, 'leaked claims freed by the new leader');
    expect(after.text).toContain('leaks: 0');
  });
});
