// Why the controller does not grant a node's `docker run --ip` (dockerIPAM xnet): the reason the
// agent's plugin refuses the container with at once, instead of after its 20 s wait.
import { describe, expect, it } from 'vitest';
import { MAX_REFUSED, refusedRequests, requestRefusal, type AddressLookup } from '../../pkg/controller/macvlan-requests.js';
import type { Claim } from '../../pkg/ipam/keys.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';

const ip = parseIPv4;
const owner = (kind: Claim['owner']['kind'], name: string) => ({ kind, name, uid: `u-${name}` });
const claims = new Map<number, Claim>([
  [ip('10.9.0.130'), { owner: owner('ContainerNic', 'db-eth1'), role: 'nic', ip: '10.9.0.130' }],
  [ip('10.9.0.131'), { owner: owner('MacvlanNet', 'mv'), role: 'shim', ip: '10.9.0.131', node: 'host-2' }],
  [ip('10.9.0.132'), { owner: owner('MacvlanNet', 'mv'), role: 'node-pool', ip: '10.9.0.132', node: 'host-2' }],
  [ip('10.9.0.133'), { owner: owner('MacvlanNet', 'mv'), role: 'external', ip: '10.9.0.133', node: 'host-3' }],
  [ip('10.9.0.134'), { owner: owner('MacvlanNet', 'mv'), role: 'shim', ip: '10.9.0.134', node: 'host-1' }],
  [ip('10.9.0.135'), { owner: owner('MacvlanNet', 'mv'), role: 'node-pool', ip: '10.9.0.135', node: 'host-1' }],
]);
const lookup: AddressLookup = {
  range: [{ first: ip('10.9.0.128'), last: ip('10.9.0.254') }],
  claim: (a) => claims.get(a),
  pinnedBy: (a) => (a === ip('10.9.0.140') ? 'web-eth1' : undefined),
  nodeOf: (a) => (a === ip('10.9.0.141') ? 'host-4' : undefined),
  nicNode: (name) => ({ 'db-eth1': 'host-2', 'web-eth1': 'host-3', 'own-eth1': 'host-1' } as Record<string, string>)[name],
  // as when the holder is not asked for it back (../../pkg/controller/macvlan-give-back.ts)
  otherPreClaim: (_a, holder) => `pre-claimed for the containers of node "${holder}"`,
};
const why = (a: string) => requestRefusal(ip(a), 'host-1', lookup);

describe('requestRefusal: why an address asked for by name is not granted to host-1', () => {
  it('names the holder the agent cannot see: a NIC, another node\'s shim or pool, an external mark, a pin, a Node', () => {
    expect(why('10.9.0.10')).toMatch(/^outside the MacvlanNet's range/);
    expect(why('10.9.0.130')).toBe('held by a ContainerNic on node "host-2"');
    expect(why('10.9.0.131')).toBe('the host shim address of node "host-2"');
    expect(why('10.9.0.132')).toBe('pre-claimed for the containers of node "host-2"');
    expect(why('10.9.0.133')).toBe('in use outside xnet (it answered an ARP probe of node "host-3")');
    expect(why('10.9.0.134')).toBe('this node\'s own host shim address');
    expect(why('10.9.0.140')).toBe('pinned by a ContainerNic on node "host-3" (spec.ip)');
    expect(why('10.9.0.141')).toBe('the address of Node "host-4"');
  });

  it('names a ContainerNic only to the node it is bound to (every node reads the MacvlanNet status)', () => {
    const asked = (a: string, nic: string, node: string) => requestRefusal(ip(a), node, { ...lookup, claim: () => ({ owner: owner('ContainerNic', nic), role: 'nic', ip: a }) });
    expect(asked('10.9.0.150', 'own-eth1', 'host-1')).toBe('held by ContainerNic "own-eth1"');
    expect(asked('10.9.0.150', 'own-eth1', 'host-2')).toBe('held by a ContainerNic on node "host-1"');
    expect(asked('10.9.0.150', 'gone-eth1', 'host-2')).toBe('held by a ContainerNic');
    expect(requestRefusal(ip('10.9.0.140'), 'host-3', lookup)).toBe('pinned by ContainerNic "web-eth1" (spec.ip)');
  });

  it('says nothing of an address that may yet be granted: free, or already host-1\'s own', () => {
    expect(why('10.9.0.200')).toBeUndefined();
    expect(why('10.9.0.135')).toBeUndefined();
  });

  it('lists at most MAX_REFUSED, skipping those that may be granted', () => {
    const asked = ['10.9.0.200', ...Array.from({ length: 20 }, (_, i) => `10.9.0.${i + 1}`)].map(ip);
    const out = refusedRequests(asked, 'host-1', lookup, formatIPv4);
    expect(out).toHaveLength(MAX_REFUSED);
    expect(out[0]).toEqual({ ip: '10.9.0.1', reason: expect.stringMatching(/^outside/) });
  });
});
