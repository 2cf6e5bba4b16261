// dockerIPAM blocks: an address Docker gave twice on a MacvlanNet's segment (`docker run --ip`
// outside the node's own block, which Docker checks only against its own node's containers).
// The pure comparison the controller and `xctl ipam check` share (pkg/ipam/address-conflicts.ts),
// the rule of what a node's report may say (pkg/api/outside-block.ts), and the audit's reading
// of stored keys (pkg/ipam/check.ts).
import { describe, expect, it } from 'vitest';
import { outsideBlockFields, outsideOwnBlocks, readOutsideBlock } from '../../pkg/api/outside-block.js';
import { addressConflicts, conflictText, type SegmentHolder } from '../../pkg/ipam/address-conflicts.js';
import { auditIpam, formatAudit } from '../../pkg/ipam/check.js';
import { cidrInterval } from '../../pkg/ipam/ranges.js';
import { formatIPv4, parseCidr, parseIPv4 } from '../../pkg/ip/ipv4.js';

const block = (node: string, cidr: string): SegmentHolder => ({ role: 'docker-block', node, cidr, range: cidrInterval(parseCidr(cidr)) });
const holders: SegmentHolder[] = [
  block('host-a', '10.90.0.16/28'), block('host-b', '10.90.0.32/28'),
  { role: 'shim', node: 'host-a', ip: parseIPv4('10.90.0.2') },
  { role: 'nic', node: 'host-a', nic: 'nf-1', ip: parseIPv4('10.90.0.5') },
  { role: 'node-address', node: 'host-b', ip: parseIPv4('10.90.0.250') },
];

describe('addresses held twice on a blocks segment', () => {
  it('names a container in another node\'s block, a shim\'s, a NIC\'s, a Node\'s, and two nodes\' containers', () => {
    const found = addressConflicts([
      { node: 'host-b', ip: '10.90.0.20', name: 'web' },
      { node: 'host-b', ip: '10.90.0.2', name: 'shimmy' },
      { node: 'host-b', ip: '10.90.0.5' },
      { node: 'host-a', ip: '10.90.0.250', name: 'lan' },
      { node: 'host-a', ip: '10.90.0.100', name: 'one' },
      { node: 'host-b', ip: '10.90.0.100', name: 'two' },
      // held by nothing else: no duplicate (yet)
      { node: 'host-a', ip: '10.90.0.101', name: 'alone' },
    ], holders);
    expect(found.map((c) => conflictText(c))).toEqual([
      '10.90.0.2 is held twice: container shimmy on node host-b and node host-a\'s host shim',
      '10.90.0.5 is held twice: container (unnamed) on node host-b and ContainerNic nf-1 on node host-a',
      '10.90.0.20 is held twice: container web on node host-b and node host-a\'s Docker block 10.90.0.16/28 (its Docker hands it out)',
      '10.90.0.100 is held twice: container one on node host-a and container two on node host-b',
      '10.90.0.250 is held twice: container lan on node host-a and Node host-b\'s own address',
    ]);
    expect(found[2].holders).toEqual([{ node: 'host-b', role: 'container', what: 'a container on node host-b', name: 'web' }, { node: 'host-a', role: 'docker-block', what: expect.stringContaining('Docker block') }]);
    // what every node reads names no container and no ContainerNic
    expect(conflictText(found[1], false)).toBe('10.90.0.5 is held twice: a container on node host-b and a ContainerNic on node host-a');
  });

  it('finds none when every container holds an address of no one else', () => {
    expect(addressConflicts([{ node: 'host-b', ip: '10.90.0.101', name: 'x' }], holders)).toEqual([]);
    expect(addressConflicts([], holders)).toEqual([]);
  });

  it('looks at each block and each reported entry a bounded number of times, however many nodes report', () => {
    // a thousand nodes, each with its /28 block, each reporting the same 64 addresses and 64 of
    // its neighbour's block: the comparison must grow with the input, not with input x blocks
    const reads = { range: 0, node: 0 };
    const counted = <T extends object>(o: T, field: 'range' | 'node'): T => new Proxy(o, { get: (t, k) => { if (k === field) reads[field]++; return Reflect.get(t, k); } });
    const nodes = Array.from({ length: 1000 }, (_, i) => `n${i}`);
    const blockOf = (i: number) => `10.${64 + (i >> 12)}.${(i >> 4) & 255}.${(i & 15) << 4}/28`;
    const blocks = nodes.map((n, i) => counted(block(n, blockOf(i)), 'range'));
    const reported = nodes.flatMap((node, i) => [
      ...Array.from({ length: 64 }, (_, j) => counted({ node, ip: `10.63.0.${j}` }, 'node')),
      ...Array.from({ length: 64 }, (_, j) => counted({ node, ip: formatIPv4(parseIPv4(blockOf((i + 1) % 1000).split('/')[0]) + (j % 16)) }, 'node')),
    ]);
    const found = addressConflicts(reported, blocks);
    // the 64 shared addresses (1000 holders each) and every neighbour's 16 addresses
    expect(found).toHaveLength(64 + 1000 * 16);
    expect(found[0].holders).toHaveLength(1000);
    expect(reads.range).toBeLessThanOrEqual(8 * blocks.length + 4 * found.length);
    expect(reads.node).toBeLessThanOrEqual(4 * reported.length);
  });

  it('takes of a node\'s report only addresses of the subnet outside its own blocks, and names one that does not decode', () => {
    const ranges = outsideOwnBlocks('10.90.0.0/24', ['10.90.0.32/28'], '10.90.0.1')!;
    // another node's word about host-b's own block, the gateway, the broadcast, outside the subnet: dropped
    const r = readOutsideBlock({ outsideBlock: [{ ip: '10.90.0.33' }, { ip: '10.90.0.1' }, { ip: '10.90.0.255' }, { ip: '10.91.0.7' }, { ip: '10.90.0.20', name: 'web' }] }, ranges);
    expect(r).toEqual({ held: [{ ip: '10.90.0.20', name: 'web' }], count: 1 });
    expect(readOutsideBlock({ outsideBlock: [{ ip: 'nope' }] }, ranges)).toEqual({ unreadable: expect.stringContaining('outsideBlock.0.ip') });
    expect(readOutsideBlock('garbled', ranges)).toHaveProperty('unreadable');
    expect(readOutsideBlock({ outsideBlock: Array.from({ length: 257 }, (_, i) => ({ ip: `10.90.1.${i % 250}` })) }, ranges)).toHaveProperty('unreadable');
  });

  it('bounds what a node reports, and counts the rest', () => {
    const ranges = outsideOwnBlocks('10.90.0.0/16', ['10.90.0.32/28'])!;
    const many = Array.from({ length: 300 }, (_, i) => ({ ip: `10.90.2.${i % 250}`, name: `c${i}` })).concat({ ip: '10.90.3.1', name: 'x' });
    const f = outsideBlockFields(ranges, many);
    // each address once (its first holder): 251 addresses, all listed
    expect(f.outsideBlock).toHaveLength(251);
    expect(f.outsideBlock![0]).toEqual({ ip: '10.90.2.0', name: 'c0' });
    expect(f).not.toHaveProperty('outsideBlockCount');
    const bounded = outsideBlockFields(ranges, Array.from({ length: 300 }, (_, i) => ({ ip: `10.90.${4 + Math.floor(i / 200)}.${i % 200}` })));
    expect(bounded.outsideBlock).toHaveLength(256);
    expect(bounded.outsideBlockCount).toBe(300);
    expect(outsideBlockFields(ranges, [{ ip: '10.90.0.40' }])).toEqual({});
  });
});

describe('xctl ipam check of a blocks MacvlanNet', () => {
  const P = '/xnet';
  const owner = { kind: 'MacvlanNet', name: 'lan', uid: 'u1' };
  const kvs = (reportB: unknown) => [
    { key: `${P}/registry/objects/macvlannets/lan`, value: JSON.stringify({ apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'lan', uid: 'u1' }, spec: { subnet: '10.90.0.0/24', parent: 'eth0', dockerIPAM: 'blocks' } }) },
    { key: `${P}/registry/status/controller/macvlannets/lan`, value: JSON.stringify({ nodes: [{ name: 'host-a', dockerRange: '10.90.0.16/28' }, { name: 'host-b', dockerRange: '10.90.0.32/28' }] }) },
    { key: `${P}/ipam/macvlannets/lan/blocks/010.090.000.016`, value: JSON.stringify({ owner, role: 'docker-block', cidr: '10.90.0.16/28', node: 'host-a' }) },
    { key: `${P}/ipam/macvlannets/lan/blocks/010.090.000.032`, value: JSON.stringify({ owner, role: 'docker-block', cidr: '10.90.0.32/28', node: 'host-b' }) },
    { key: `${P}/registry/status/nodes/host-b/macvlannets/lan`, value: typeof reportB === 'string' ? reportB : JSON.stringify(reportB) },
  ];

  it('names a container on one node holding an address of another node\'s block as a duplicate', () => {
    const a = auditIpam(kvs({ name: 'host-b', ready: true, outsideBlock: [{ ip: '10.90.0.20', name: 'web' }] }), P);
    expect([...a.leaks, ...a.unclaimed]).toEqual([]);
    expect(a.duplicates).toEqual(['macvlannet/lan 10.90.0.20 is held twice: container web on node host-b and node host-a\'s Docker block 10.90.0.16/28 (its Docker hands it out) (docker run --ip outside its node\'s Docker block)']);
  });

  it('prints a container name a node reports as escapes, not as a terminal\'s controls', () => {
    // a node's report is its own word: a name that moves the cursor home and says all is well
    const text = formatAudit(auditIpam(kvs({ name: 'host-b', ready: true, outsideBlock: [{ ip: '10.90.0.20', name: 'web\u001b[2K\rok: 4 claims, no leaks, no duplicates\n' }] }), P)).text;
    expect(text).toContain('container web\\u001b[2K\\rok: 4 claims, no leaks, no duplicates\\n on node host-b and node host-a\'s Docker block');
    expect(text).not.toMatch(/[\u001b\r]/);
    expect(text.split('\n').filter((l) => l.startsWith('ok:'))).toEqual([]);
  });

  it('finds nothing for a report of none, and notes a report that does not decode', () => {
    expect(auditIpam(kvs({ name: 'host-b', ready: true }), P).duplicates).toEqual([]);
    const a = auditIpam(kvs('{not json'), P);
    expect(a.duplicates).toEqual([]);
    expect(a.notes).toEqual([expect.stringContaining('the report of node host-b on the addresses its containers hold outside its Docker block does not decode')]);
  });
});
