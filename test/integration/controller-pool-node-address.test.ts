// A pool made over addresses Nodes are routed by (written around xctl, which refuses it, or
// stored before xctl checked) hands none of them out: not as a NIC's address, a shim, a node's
// pre-claimed Docker addresses, inside a node's Docker block or a new HostSubnet. Found in the closing note's
// list: the allocator handed the lowest free addresses out, a host's own LAN address among them.
// Real etcd, in-process controller; the agents are their status keys, written by the test.
import { describe, expect, it } from 'vitest';
import { IpamKeys, type Claim } from '../../pkg/ipam/keys.js';
import { cidrInterval, contains } from '../../pkg/ipam/ranges.js';
import { parseCidr, parseIPv4 } from '../../pkg/ip/ipv4.js';
import { obj, useControllerFixture, eventually, uniquePrefix, statusOf, nodeHeartbeat, statusWaiter } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);

const heartbeat = nodeHeartbeat;
const waitFor = statusWaiter(fx);
const claims = async (mvn: string, space: 'addresses' | 'blocks') =>
  Object.values(await fx.etcd.client().getAll().prefix(new IpamKeys(prefix).space('macvlannets', mvn, space)).strings()).map((v) => JSON.parse(v) as Claim);

// host-1 is routed by the address its agent reported (accepted before any pool held it),
// host-2, host-3 and host-4 by an admin's spec.address
const NODE_ADDRESSES = ['192.168.210.2', '192.168.210.3', '192.168.211.230', '192.168.216.5'];

describe('pools made over addresses Nodes are routed by', () => {
  it('hand out none of those addresses, and a NIC asking for one is told whose it is', async () => {
    await fx.store.applyAll([
      obj('Node', 'host-1', {}), obj('Node', 'host-2', { address: NODE_ADDRESSES[1] }),
      obj('Node', 'host-3', { address: NODE_ADDRESSES[2] }), obj('Node', 'host-4', { address: NODE_ADDRESSES[3] }),
    ]);
    await fx.store.writeStatus('Node', 'host-1', { node: 'host-1' }, heartbeat(NODE_ADDRESSES[0]));
    const accepted = async () => JSON.parse((await fx.etcd.client().get(`${prefix}/registry/status/controller/nodes/host-1`).string()) ?? '{}').address;
    await eventually(async () => (await accepted()) === NODE_ADDRESSES[0] || undefined, 'host-1 routed via its reported address');
    await fx.store.applyAll([
      // dockerIPAM xnet with shims: each node's shim and pre-claimed addresses come lowest first
      obj('MacvlanNet', 'lan', { subnet: '192.168.210.0/24', gateway: '192.168.210.1' }),
      // blocks: the highest /28 lying wholly in the range (.224/28) holds host-3's address
      obj('MacvlanNet', 'lan-blocks', { subnet: '192.168.211.0/24', gateway: '192.168.211.1', dockerIPAM: 'blocks', blockPrefix: 28, hostShim: false }),
      // its first /24 (the first a HostSubnet gets) holds host-4's address
      obj('ClusterNetwork', 'over-lan', { cidr: '192.168.216.0/21', hostPrefix: 24 }),
      obj('ContainerNic', 'web', { node: 'host-1', container: 'web', ifName: 'mv0', network: { macvlanNet: 'lan' } }),
      obj('ContainerNic', 'pinned', { node: 'host-1', container: 'db', ifName: 'mv0', network: { macvlanNet: 'lan' }, ip: NODE_ADDRESSES[1] }),
    ]);
    const web = await waitFor('ContainerNic', 'web', (s) => typeof s.ip === 'string', 'web has an address');
    expect(NODE_ADDRESSES).not.toContain(statusOf(web).ip);
    const pinned = await waitFor('ContainerNic', 'pinned', (s) => s.conditions?.some((x) => x.type === 'Allocated' && x.status === 'False') ?? false, 'pinned refused');
    const refused = statusOf(pinned).conditions!.find((x) => x.type === 'Allocated')!;
    expect(refused.reason).toBe('IPConflict');
    expect(refused.message).toContain(`ip ${NODE_ADDRESSES[1]} is the address Node "host-2" is routed by`);

    // every node's shim and pre-claimed addresses are there: none is a Node's address
    const lan = await eventually(async () => { const c = await claims('lan', 'addresses'); return c.filter((x) => x.role === 'shim').length === 4 ? c : undefined; }, "lan's four shims");
    expect(lan.filter((x) => x.role === 'node-pool').length).toBeGreaterThan(0);
    expect(lan.map((x) => x.ip).filter((ip) => NODE_ADDRESSES.includes(ip!))).toEqual([]);
    const blocks = await eventually(async () => { const c = await claims('lan-blocks', 'blocks'); return c.length === 4 ? c : undefined; }, "lan-blocks' four Docker blocks");
    const over = blocks.filter((b) => NODE_ADDRESSES.some((a) => contains([cidrInterval(parseCidr(b.cidr!))], parseIPv4(a))));
    expect(over).toEqual([]);
    const subnets = await eventually(async () => {
      const all = await Promise.all(['host-1', 'host-2', 'host-3', 'host-4'].map(async (n) => statusOf(await fx.store.get('HostSubnet', `over-lan-${n}`)).subnet));
      return all.every((x) => typeof x === 'string') ? all : undefined;
    }, "over-lan's four HostSubnets");
    expect(subnets).not.toContain('192.168.216.0/24');
    expect(subnets.every((x) => /^192\.168\.21[7-9]\.0\/24$|^192\.168\.22[0-3]\.0\/24$/.test(x as string))).toBe(true);
  });
});
