import { describe, it, expect } from 'vitest';
import { auditIpam, formatAudit } from '../../pkg/ipam/check.js';

const P = '/xnet';
const KINDS: Record<string, string> = { clusternetworks: 'ClusterNetwork', hostsubnets: 'HostSubnet', containernics: 'ContainerNic' };
/** an object as stored (it must decode: the audit reads objects through their schemas); a NIC gets a container and ifName */
const o = (plural: string, name: string, uid: string, spec: Record<string, unknown>) => ({
  key: `${P}/registry/objects/${plural}/${name}`,
  value: JSON.stringify({
    apiVersion: 'xnet.io/v1alpha1', kind: KINDS[plural], metadata: { name, uid },
    spec: plural === 'containernics' ? { container: `c-${name}`, ifName: 'eth1', ...spec } : spec,
  }),
});
const st = (plural: string, name: string, status: unknown) => ({ key: `${P}/registry/status/controller/${plural}/${name}`, value: JSON.stringify(status) });
/** a NIC's controller status, kept in the index of the node it is bound to */
const nicSt = (node: string, name: string, status: unknown) => ({ key: `${P}/registry/bynode/${node}/status/controller/containernics/${name}`, value: JSON.stringify(status) });
const claim = (path: string, value: unknown) => ({ key: `${P}/ipam/${path}`, value: JSON.stringify(value) });
/** MacvlanNet mv (192.168.60.0/24) with `spec` added, and the owner of its claims. */
const owner = { kind: 'MacvlanNet', name: 'mv', uid: 'mv1' };
const mvObject = (spec: Record<string, string>) => ({ key: `${P}/registry/objects/macvlannets/mv`, value: JSON.stringify({ apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'mv', uid: 'mv1' }, spec: { subnet: '192.168.60.0/24', ...spec } }) });

const base = [
  o('clusternetworks', 'default', 'cn1', { cidr: '10.76.0.0/16', hostPrefix: 24 }),
  o('hostsubnets', 'default-n1', 'hs1', { node: 'n1', clusterNetwork: 'default' }),
  st('hostsubnets', 'default-n1', { subnet: '10.76.1.0/24', gateway: '10.76.1.1', dockerRange: '10.76.1.128/25' }),
  claim('clusternetworks/default/blocks/010.076.001.000', { owner: { kind: 'HostSubnet', name: 'default-n1', uid: 'hs1' }, role: 'hostsubnet', cidr: '10.76.1.0/24' }),
  o('containernics', 'a', 'nic-a', { node: 'n1', network: { clusterNetwork: 'default' } }),
  nicSt('n1', 'a', { ip: '10.76.1.2' }),
  claim('clusternetworks/default/addresses/010.076.001.002', { owner: { kind: 'ContainerNic', name: 'a', uid: 'nic-a' }, role: 'nic', ip: '10.76.1.2' }),
];

describe('ipam audit', () => {
  it('names a claim over an address a Node is routed by: its spec.address, else the address the controller accepted', () => {
    const node = (name: string, spec: Record<string, unknown>) => ({ key: `${P}/registry/objects/nodes/${name}`, value: JSON.stringify({ apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name, uid: `u-${name}` }, spec }) });
    const pinned = [...base, node('n2', { address: '10.76.1.2' })];
    const a = auditIpam(pinned, P);
    expect(a.nodeAddresses).toEqual([
      'clusternetwork/default 10.76.1.0/24 (HostSubnet "default-n1") holds the address Node "n2" is routed by',
      'clusternetwork/default 10.76.1.2 (ContainerNic "a") holds the address Node "n2" is routed by',
    ]);
    expect(formatAudit(a)).toMatchObject({ problems: 2, text: expect.stringContaining('node addresses: 2\n') });
    // accepted by the controller (its status), not a pin
    const accepted = [...base, node('n3', {}), st('nodes', 'n3', { address: '10.76.1.2' })];
    expect(auditIpam(accepted, P).nodeAddresses).toHaveLength(2);
    // elsewhere: nothing to name
    expect(auditIpam([...base, node('n4', { address: '192.168.1.4' })], P).nodeAddresses).toEqual([]);
  });

  it('reports use per pool and no problem for a consistent state', () => {
    const a = auditIpam(base, P);
    expect(a.leaks).toEqual([]);
    expect(a.duplicates).toEqual([]);
    expect(a.unclaimed).toEqual([]);
    expect(a.pools).toContainEqual({ pool: 'clusternetwork/default', what: '/24 host blocks', used: 1, free: 255 });
    expect(a.pools).toContainEqual({ pool: 'clusternetwork/default', what: 'ContainerNic addresses', used: 1, free: 125 });
    const r = formatAudit(a);
    expect(r.problems).toBe(0);
    expect(r.text).toContain('no leaks, no duplicates');
    // named kind/name, as every other output of xctl names it (its claims' etcd keys keep the plural)
    expect(r.text.split('\n').slice(0, 3)).toEqual([
      'POOL                        USED      FREE  WHAT',
      'clusternetwork/default         1       255  /24 host blocks',
      'clusternetwork/default         1       125  ContainerNic addresses',
    ]);
  });

  it('reports a claim that cannot be read as a leak instead of skipping it', () => {
    const a = auditIpam([...base, { key: `${P}/ipam/clusternetworks/default/addresses/010.076.001.009`, value: '{not json' }], P);
    expect(a.leaks).toEqual([expect.stringContaining('010.076.001.009: the claim is not readable JSON')]);
    expect(formatAudit(a).problems).toBe(1);
  });

  it('counts a claim of the wrong shape (JSON, but no owner) as a problem, and the audit still runs', () => {
    const bad = [
      { key: `${P}/ipam/clusternetworks/default/addresses/010.076.001.010`, value: '[]' },
      { key: `${P}/ipam/clusternetworks/default/addresses/010.076.001.011`, value: '{"owner":{"kind":"ContainerNic"},"role":"nic"}' },
    ];
    const a = auditIpam([...base, ...bad], P);
    expect(a.leaks).toEqual([
      expect.stringMatching(/010\.076\.001\.010: the claim does not decode/),
      expect.stringMatching(/010\.076\.001\.011: the claim does not decode: owner\.name/),
    ]);
    expect(formatAudit(a).problems).toBe(2);
  });

  it('finds a claim whose owner is gone or was re-created as a leak', () => {
    const gone = [...base, claim('clusternetworks/default/addresses/010.076.001.003', { owner: { kind: 'ContainerNic', name: 'b', uid: 'nic-b' }, role: 'nic', ip: '10.76.1.3' })];
    expect(auditIpam(gone, P).leaks).toEqual([expect.stringContaining('owner does not exist')]);
    const recreated = base.map((kv) => kv.key === `${P}/registry/objects/containernics/a` ? o('containernics', 'a', 'nic-a2', { node: 'n1', network: { clusterNetwork: 'default' } }) : kv);
    const a = auditIpam(recreated, P);
    expect(a.leaks).toEqual([expect.stringContaining('re-created')]);
    expect(a.unclaimed).toEqual([expect.stringContaining('announces 10.76.1.2')]);
    expect(formatAudit(a).problems).toBe(2);
  });

  it('counts a gone HostSubnet\'s block as held while its node reports on it (its network is still on the host), and as a leak once that node is deleted', () => {
    const report = (value: string) => ({ key: `${P}/registry/status/nodes/n2/hostsubnets/default-n2`, value });
    const node = { key: `${P}/registry/objects/nodes/n2`, value: JSON.stringify({ apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'n2', uid: 'node2' }, spec: {} }) };
    const left = [...base, claim('clusternetworks/default/blocks/010.076.002.000', { owner: { kind: 'HostSubnet', name: 'default-n2', uid: 'hs2' }, role: 'hostsubnet', cidr: '10.76.2.0/24', node: 'n2' })];
    const marked = (r: object) => JSON.stringify({ keptUntilNetworkGone: true, ...r });
    for (const r of [marked({ objectUid: 'hs2' }), marked({}), 'not json']) expect(formatAudit(auditIpam([...left, node, report(r)], P)).problems, r).toBe(0);
    // a JSON object that does not decode as a HostSubnet status is unreadable to the controller
    // too (controller/admit.ts refuses it), which keeps the block whatever it says: so does the audit
    for (const r of [JSON.stringify({ observedGeneration: 'x' }), marked({ objectUid: 'hs3', conditions: 'x' })]) {
      expect(formatAudit(auditIpam([...left, node, report(r)], P)).problems, r).toBe(0);
    }
    // a report without the mark (an agent that never removes it: before the mark) keeps nothing
    for (const r of [JSON.stringify({ objectUid: 'hs2' }), '{}', marked({ objectUid: 'hs2', keptUntilNetworkGone: 'yes' })]) {
      expect(auditIpam([...left, node, report(r)], P).leaks, r).toEqual([expect.stringContaining('owner does not exist')]);
    }
    // a report about another incarnation of that name, or on a node that is gone, keeps nothing
    expect(auditIpam([...left, node, report(marked({ objectUid: 'hs3' }))], P).leaks).toEqual([expect.stringContaining('owner does not exist')]);
    expect(auditIpam([...left, report(marked({ objectUid: 'hs2' }))], P).leaks).toEqual([expect.stringContaining('owner does not exist')]);
    // only the node the claim names keeps it: another node's report on that name keeps nothing
    const n1Report = { key: `${P}/registry/status/nodes/n1/hostsubnets/default-n2`, value: marked({ objectUid: 'hs2' }) };
    const n1 = { key: `${P}/registry/objects/nodes/n1`, value: JSON.stringify({ apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'n1', uid: 'node1' }, spec: {} }) };
    expect(auditIpam([...left, n1, n1Report], P).leaks).toEqual([expect.stringContaining('owner does not exist')]);
    // still a holder of its block: a HostSubnet announcing the same block is a duplicate
    const twice = [...left, node, report(marked({})), o('hostsubnets', 'default-n3', 'hs3', { node: 'n3', clusterNetwork: 'default' }), st('hostsubnets', 'default-n3', { subnet: '10.76.2.0/24' })];
    expect(auditIpam(twice, P).duplicates).toEqual([expect.stringContaining('kept while its network is on node n2')]);
  });

  it('reads a NIC\'s status only from the index of the node it is bound to', () => {
    // the NIC moved to n2: what is left in n1's index announces nothing
    const moved = base.map((kv) => kv.key === `${P}/registry/objects/containernics/a` ? o('containernics', 'a', 'nic-a', { node: 'n2', network: { clusterNetwork: 'default' } }) : kv);
    expect(auditIpam(moved, P).leaks).toEqual([expect.stringContaining('the owner\'s status does not announce it')]);
    expect(auditIpam([...moved, nicSt('n2', 'a', { ip: '10.76.1.2' })], P).leaks).toEqual([]);
  });

  it('finds two owners announcing the same address as a duplicate', () => {
    const dup = [...base, o('containernics', 'b', 'nic-b', { node: 'n1', network: { clusterNetwork: 'default' } }), nicSt('n1', 'b', { ip: '10.76.1.2' })];
    const a = auditIpam(dup, P);
    expect(a.duplicates).toEqual([expect.stringMatching(/ContainerNic "(a|b)" 10.76.1.2 overlaps ContainerNic "(a|b)"/)]);
    expect(formatAudit(a).problems).toBeGreaterThan(0);
  });

  it('names an object that does not decode; it owns nothing, so its claim is a leak', () => {
    const broken = base.map((kv) => kv.key === `${P}/registry/objects/containernics/a` ? { key: kv.key, value: '{}' } : kv);
    const a = auditIpam(broken, P);
    expect(a.leaks).toEqual([
      expect.stringMatching(/objects\/containernics\/a: the object does not decode/),
      expect.stringMatching(/ContainerNic "a".*owner does not exist/),
    ]);
  });

  it('counts a block claim without a readable cidr, or an address claim without an ip, as a problem', () => {
    const a = auditIpam([...base,
      claim('macvlannets/mv/blocks/192.168.060.016', { owner, role: 'docker-block', node: 'n1' }),
      claim('macvlannets/mv/blocks/192.168.060.032', { owner, role: 'docker-block', cidr: '192.168.60.32/99', node: 'n1' }),
      claim('macvlannets/mv/addresses/192.168.060.002', { owner, role: 'shim', ip: 'not-an-ip', node: 'n1' }),
    ], P);
    expect(a.leaks).toEqual([
      expect.stringMatching(/060\.016: the claim does not decode: cidr a docker-block claim needs cidr/),
      expect.stringMatching(/060\.032: the claim does not decode: cidr /),
      expect.stringMatching(/060\.002: the claim does not decode: ip /),
    ]);
  });
  it('counts a moved Docker block its node\'s Docker still has (previousDockerRange) as announced, and one no status names as a leak', () => {
    const mvn = mvObject({ dockerIPAM: 'blocks' });
    const blocks = [
      claim('macvlannets/mv/blocks/192.168.060.016', { owner, role: 'docker-block', cidr: '192.168.60.16/28', node: 'n1' }),
      claim('macvlannets/mv/blocks/192.168.060.032', { owner, role: 'docker-block', cidr: '192.168.60.32/28', node: 'n1' }),
    ];
    const moving = auditIpam([...base, mvn, ...blocks, st('macvlannets', 'mv', { nodes: [{ name: 'n1', dockerRange: '192.168.60.16/28', previousDockerRange: '192.168.60.32/28' }] })], P);
    expect([...moving.leaks, ...moving.unclaimed, ...moving.duplicates]).toEqual([]);
    const settled = auditIpam([...base, mvn, ...blocks, st('macvlannets', 'mv', { nodes: [{ name: 'n1', dockerRange: '192.168.60.16/28' }] })], P);
    expect(settled.leaks).toEqual([expect.stringMatching(/192\.168\.60\.32\/28 .*does not announce it/)]);
  });
  it('counts as pre-claimed addresses in containers only those a node-pool claim backs (an out-of-range one a container keeps is not one)', () => {
    // ipRange shrunk under a running container: it keeps 192.168.60.200, which no claim backs any more
    const mvn = mvObject({ ipRange: '192.168.60.128/28' });
    const a = auditIpam([...base, mvn,
      claim('macvlannets/mv/addresses/192.168.060.130', { owner, role: 'node-pool', ip: '192.168.60.130', node: 'n1' }),
      claim('macvlannets/mv/addresses/192.168.060.131', { owner, role: 'node-pool', ip: '192.168.60.131', node: 'n1' }),
      st('macvlannets', 'mv', { nodes: [{ name: 'n1', addresses: ['192.168.60.130', '192.168.60.131'] }] }),
      { key: `${P}/registry/status/nodes/n1/macvlannets/mv`, value: JSON.stringify({ ipam: { assigned: [{ ip: '192.168.60.130', name: 'c1' }, { ip: '192.168.60.200', name: 'c2' }] } }) },
    ], P);
    const pool = a.pools.find((p) => p.pool === 'macvlannet/mv');
    expect(pool?.what).toContain('2 pre-claimed for nodes of which 1 in containers');
    expect(a.unclaimed).toEqual([expect.stringContaining('192.168.60.200 is used by container c2 on node n1 but no claim of that node backs it')]);
  });
  it('counts in the breakdown what USED counts, the range, and names apart a claim kept outside it', () => {
    // ipRange shrunk to a /28 while a container on n2 used .200: its claim stays (outsideRange)
    const mvn = mvObject({ ipRange: '192.168.60.128/28' });
    const a = auditIpam([...base, mvn,
      claim('macvlannets/mv/addresses/192.168.060.128', { owner, role: 'shim', ip: '192.168.60.128', node: 'n1' }),
      claim('macvlannets/mv/addresses/192.168.060.130', { owner, role: 'node-pool', ip: '192.168.60.130', node: 'n1' }),
      claim('macvlannets/mv/addresses/192.168.060.200', { owner, role: 'node-pool', ip: '192.168.60.200', node: 'n2' }),
      st('macvlannets', 'mv', { nodes: [{ name: 'n1', shimAddress: '192.168.60.128', addresses: ['192.168.60.130'] }, { name: 'n2', outsideRange: ['192.168.60.200'] }] }),
      { key: `${P}/registry/status/nodes/n2/macvlannets/mv`, value: JSON.stringify({ ipam: { assigned: [{ ip: '192.168.60.200', name: 'c2' }] } }) },
    ], P);
    const pool = a.pools.find((p) => p.pool === 'macvlannet/mv');
    expect(pool).toMatchObject({ used: 2, free: 14 });
    expect(pool?.what).toBe('addresses (0 Docker blocks, 1 pre-claimed for nodes of which 0 in containers, 0 external, 1 other single; not in USED: 1 outside the range, 192.168.60.200 pre-claimed for n2)');
  });
});

// Pools that overlap can be stored around xctl (two applies at once, a raw etcd write), and
// claims of different pools have different keys, so etcd lets both through (check-overlaps.ts).
const key = (ip: string) => ip.split('.').map((x) => x.padStart(3, '0')).join('.');

/** HostSubnet `name` of `cn` on `node` with `subnet` (a /24), claimed. */
const hs = (name: string, uid: string, cn: string, node: string, subnet: string) => {
  const net = subnet.split('/')[0].split('.').slice(0, 3).join('.');
  return [
    o('hostsubnets', name, uid, { node, clusterNetwork: cn }),
    st('hostsubnets', name, { subnet, gateway: `${net}.1`, dockerRange: `${net}.128/25` }),
    claim(`clusternetworks/${cn}/blocks/${key(subnet.split('/')[0])}`, { owner: { kind: 'HostSubnet', name, uid }, role: 'hostsubnet', cidr: subnet }),
  ];
};
/** ClusterNetwork NIC `name` on `node` holding `ip`, claimed; `status` added to its status. */
const nic = (name: string, uid: string, node: string, cn: string, ip: string, status: Record<string, unknown> = {}) => [
  o('containernics', name, uid, { node, network: { clusterNetwork: cn } }),
  nicSt(node, name, { ip, ...status }),
  claim(`clusternetworks/${cn}/addresses/${key(ip)}`, { owner: { kind: 'ContainerNic', name, uid }, role: 'nic', ip, node }),
];

describe('ipam check: one address space across pools', () => {
  it('a NIC in its own HostSubnet is no problem (also when status.hostSubnet names it)', () => {
    expect(formatAudit(auditIpam(base, P)).problems).toBe(0);
    const named = [...base, ...nic('d', 'nic-d', 'n1', 'default', '10.76.1.3', { hostSubnet: 'default-n1' })];
    expect(formatAudit(auditIpam(named, P)).text).toMatch(/^ok: 3 claims/m);
  });

  it('names two ClusterNetworks over one cidr giving two nodes the same block and two NICs the same address', () => {
    const kvs = [...base,
      o('clusternetworks', 'other', 'cn2', { cidr: '10.76.0.0/16', hostPrefix: 24 }),
      ...hs('other-n2', 'hs2', 'other', 'n2', '10.76.1.0/24'),
      ...nic('b', 'nic-b', 'n2', 'other', '10.76.1.2'),
    ];
    const a = auditIpam(kvs, P);
    expect(a.duplicates).toEqual(expect.arrayContaining([
      'HostSubnet "other-n2" 10.76.1.0/24 overlaps HostSubnet "default-n1" 10.76.1.0/24 (clusternetwork/other and clusternetwork/default overlap)',
      'ContainerNic "b" 10.76.1.2 overlaps ContainerNic "a" 10.76.1.2 (clusternetwork/other and clusternetwork/default overlap)',
    ]));
    expect(formatAudit(a).problems).toBeGreaterThanOrEqual(2);
  });

  it('names a NIC of one node holding an address inside another node\'s HostSubnet', () => {
    const kvs = [...base,
      ...hs('default-n2', 'hs2', 'default', 'n2', '10.76.2.0/24'),
      ...nic('c', 'nic-c', 'n2', 'default', '10.76.1.200'),
    ];
    const a = auditIpam(kvs, P);
    expect(a.duplicates).toEqual(['ContainerNic "c" 10.76.1.200 overlaps HostSubnet "default-n1" 10.76.1.0/24 (a NIC of node n2 in node n1\'s HostSubnet)']);
    expect(formatAudit(a).problems).toBe(1);
  });

  it('names a ClusterNetwork NIC inside a MacvlanNet\'s Docker block', () => {
    const kvs = [...base,
      mvObject({ subnet: '10.76.1.0/24', dockerIPAM: 'blocks' }),
      st('macvlannets', 'mv', { nodes: [{ name: 'n3', dockerRange: '10.76.1.0/28' }] }),
      claim(`macvlannets/mv/blocks/${key('10.76.1.0')}`, { owner, role: 'docker-block', cidr: '10.76.1.0/28', node: 'n3' }),
    ];
    expect(auditIpam(kvs, P).duplicates).toEqual(expect.arrayContaining([
      'ContainerNic "a" 10.76.1.2 overlaps MacvlanNet "mv" Docker block of node n3 10.76.1.0/28 (clusternetwork/default and macvlannet/mv overlap)',
    ]));
  });

  it('names a NIC whose address is outside the subnet of its status.hostSubnet', () => {
    const kvs = [...base,
      ...hs('default-n2', 'hs2', 'default', 'n2', '10.76.2.0/24'),
      ...nic('e', 'nic-e', 'n2', 'default', '10.76.3.5', { hostSubnet: 'default-n2' }),
    ];
    const a = auditIpam(kvs, P);
    expect(a.misplaced).toEqual(['ContainerNic "e" 10.76.3.5 is outside the subnet 10.76.2.0/24 of its HostSubnet "default-n2" (status.hostSubnet)']);
    expect(formatAudit(a)).toMatchObject({ problems: 1, text: expect.stringContaining('misplaced: 1\n') });
  });
});
