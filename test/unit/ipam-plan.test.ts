import { describe, it, expect } from 'vitest';
import type { MacvlanNet } from '../../pkg/api/index.js';
import {
  nextFreeSlots, slotsOf, slotCidr, slotCount, slotHandedOut, bridgeName, hostSubnetLayout, hostSubnetXnetRange,
  macvlanRange, nextFreeMacvlanBlocks, macvlanAddressRange, macvlanBlockFits, blockOfAddress, AllocationError,
} from '../../pkg/ipam/plan.js';
import { subtract, intersect, firstFree, size, normalize, contains } from '../../pkg/ipam/ranges.js';
import { padIp, unpadIp, IpamKeys } from '../../pkg/ipam/keys.js';
import { formatCidr, parseIPv4, formatIPv4, parseCidr } from '../../pkg/ip/ipv4.js';

const cn = (extra: Record<string, unknown> = {}) => ({ cidr: '10.76.0.0/16', hostPrefix: 24, bridgePrefix: 'br', masquerade: true, ...extra });
const ip = parseIPv4;
const ivs = (list: Array<{ first: number; last: number }>) => list.map((i) => `${formatIPv4(i.first)}-${formatIPv4(i.last)}`);

describe('ranges', () => {
  it('subtracts, intersects and merges intervals', () => {
    const a = [{ first: 0, last: 99 }];
    expect(subtract(a, [{ first: 10, last: 19 }, { first: 50, last: 200 }])).toEqual([{ first: 0, last: 9 }, { first: 20, last: 49 }]);
    expect(intersect(a, [{ first: 90, last: 120 }])).toEqual([{ first: 90, last: 99 }]);
    expect(normalize([{ first: 5, last: 9 }, { first: 0, last: 4 }, { first: 20, last: 21 }])).toEqual([{ first: 0, last: 9 }, { first: 20, last: 21 }]);
    expect(size([{ first: 0, last: 9 }, { first: 20, last: 21 }])).toBe(12);
    expect(firstFree([{ first: 0, last: 9 }], new Set([0, 1, 3]), 3)).toEqual([2, 4, 5]);
  });
});

describe('ClusterNetwork blocks', () => {
  it('hands out the next free block, skipping reserved and claimed ones', () => {
    const spec = cn({ reserved: ['10.76.0.0/24', '10.76.2.0/23'] });
    expect(nextFreeSlots(spec, new Set(), 3)).toEqual([1, 4, 5]);
    expect(nextFreeSlots(spec, new Set([1, 4]), 2)).toEqual([5, 6]);
    expect(formatCidr(slotCidr(spec, 1))).toBe('10.76.1.0/24');
    expect(slotCount(spec)).toBe(256 - 3);
  });

  it('hands out a slot only inside the cidr and outside reserved (a claim elsewhere is not kept)', () => {
    const spec = cn({ reserved: ['10.76.2.0/23'] });
    expect([0, 1, 255].map((i) => slotHandedOut(spec, i))).toEqual([true, true, true]);
    // reserved, then outside the cidr on either side (an edited cidr leaves old claims there)
    expect([2, 3, -256, 256, 0.5].map((i) => slotHandedOut(spec, i))).toEqual([false, false, false, false, false]);
  });

  it('maps a given subnet to every slot it touches, and refuses one outside the cidr', () => {
    expect(slotsOf(cn(), parseCidr('10.76.4.0/23'))).toEqual([4, 5]);
    expect(slotsOf(cn(), parseCidr('10.76.7.128/25'))).toEqual([7]);
    expect(() => slotsOf(cn(), parseCidr('10.77.0.0/24'))).toThrow(AllocationError);
    try { slotsOf(cn(), parseCidr('10.77.0.0/24')); } catch (e) { expect((e as AllocationError).reason).toBe('OutOfRange'); }
  });

  it('derives bridge, gateway and dockerRange like seed 000 (10.76.1.0/24 -> br01, Docker gets the upper half)', () => {
    const l = hostSubnetLayout(cn(), { node: 'n', clusterNetwork: 'c', icc: true }, '10.76.1.0/24');
    expect(l).toEqual({ subnet: '10.76.1.0/24', gateway: '10.76.1.1', bridge: 'br01', dockerRange: '10.76.1.128/25' });
    expect(bridgeName('br', 12)).toBe('br12');
    const given = hostSubnetLayout(cn(), { node: 'n', clusterNetwork: 'c', icc: true, bridge: 'docker1', gateway: '10.76.3.254', dockerRange: '10.76.3.0/26' }, '10.76.3.0/24');
    expect(given).toEqual({ subnet: '10.76.3.0/24', gateway: '10.76.3.254', bridge: 'docker1', dockerRange: '10.76.3.0/26' });
    expect(() => hostSubnetLayout(cn(), { node: 'n', clusterNetwork: 'c', icc: true, gateway: '10.76.9.1' }, '10.76.3.0/24')).toThrow(/outside subnet/);
  });

  it("leaves xnet the lower half minus network and gateway", () => {
    const l = hostSubnetLayout(cn(), { node: 'n', clusterNetwork: 'c', icc: true }, '10.76.1.0/24');
    expect(ivs(hostSubnetXnetRange(l))).toEqual(['10.76.1.2-10.76.1.127']);
    const g = hostSubnetLayout(cn(), { node: 'n', clusterNetwork: 'c', icc: true, gateway: '10.76.1.254' }, '10.76.1.0/24');
    expect(ivs(hostSubnetXnetRange(g))).toEqual(['10.76.1.1-10.76.1.127']);
  });
});

describe('MacvlanNet', () => {
  // a spec as written (no dockerIPAM: its default applies)
  const mv = { subnet: '192.168.200.0/24', gateway: '192.168.200.1', ipRange: '192.168.200.128/25', exclude: ['192.168.200.130/31'], blockPrefix: 28, mode: 'bridge' as const, promiscuous: true, hostShim: true } as MacvlanNet['spec'];

  it('pool = ipRange minus exclude, gateway, network and broadcast', () => {
    expect(ivs(macvlanRange(mv))).toEqual(['192.168.200.128-192.168.200.129', '192.168.200.132-192.168.200.254']);
    expect(ivs(macvlanRange({ ...mv, ipRange: undefined, exclude: undefined }))).toEqual(['192.168.200.2-192.168.200.254']);
  });

  it('gives Docker blocks from the top, wholly inside the pool and clear of used addresses', () => {
    const blocks = nextFreeMacvlanBlocks(mv, [], new Set(), 3).map(formatCidr);
    expect(blocks).toEqual(['192.168.200.224/28', '192.168.200.208/28', '192.168.200.192/28']);
    const used = new Set([ip('192.168.200.230')]);
    expect(nextFreeMacvlanBlocks(mv, [], used, 1).map(formatCidr)).toEqual(['192.168.200.208/28']);
    const taken = [{ first: ip('192.168.200.208'), last: ip('192.168.200.239') }];
    expect(nextFreeMacvlanBlocks(mv, taken, new Set(), 1).map(formatCidr)).toEqual(['192.168.200.192/28']);
  });

  it('lets a Docker block stay only as nextFreeMacvlanBlocks would choose it (after an edit of the range)', () => {
    const fits = (spec: typeof mv, c: string) => macvlanBlockFits(spec, parseCidr(c));
    expect(fits(mv, '192.168.200.224/28')).toBe(true);
    // an exclude over it, outside ipRange, the old subnet, another size, not aligned
    expect(fits({ ...mv, exclude: ['192.168.200.230/32'] }, '192.168.200.224/28')).toBe(false);
    expect(fits(mv, '192.168.200.64/28')).toBe(false);
    expect(fits({ ...mv, subnet: '192.168.201.0/24', gateway: '192.168.201.1', ipRange: undefined, exclude: undefined }, '192.168.200.224/28')).toBe(false);
    expect(fits({ ...mv, blockPrefix: 27 }, '192.168.200.224/28')).toBe(false);
    expect(macvlanBlockFits(mv, { base: ip('192.168.200.232'), prefix: 28 })).toBe(false);
    // one holding the broadcast address never fits
    expect(fits(mv, '192.168.200.240/28')).toBe(false);
  });

  it('keeps NIC addresses out of every Docker block', () => {
    const blocks = [{ first: ip('192.168.200.224'), last: ip('192.168.200.239') }];
    const r = macvlanAddressRange(mv, blocks);
    expect(contains(r, ip('192.168.200.225'))).toBe(false);
    expect(contains(r, ip('192.168.200.240'))).toBe(true);
    expect(formatCidr(blockOfAddress(mv, ip('192.168.200.77')))).toBe('192.168.200.64/28');
  });
});

describe('claim keys', () => {
  it('pad addresses so keys sort in address order and parse back', () => {
    expect(padIp(ip('10.76.1.84'))).toBe('010.076.001.084');
    expect(formatIPv4(unpadIp('010.076.001.084'))).toBe('10.76.1.84');
    const k = new IpamKeys('/xnet');
    const key = k.claim('macvlannets', 'mv', 'addresses', ip('192.168.200.9'));
    expect(key).toBe('/xnet/ipam/macvlannets/mv/addresses/192.168.200.009');
    expect(k.parse(key)).toEqual({ type: 'macvlannets', pool: 'mv', space: 'addresses', ip: ip('192.168.200.9') });
    const sorted = ['10.0.0.10', '10.0.0.9', '10.0.0.100'].map((s) => padIp(ip(s))).sort();
    expect(sorted.map((s) => formatIPv4(unpadIp(s)))).toEqual(['10.0.0.9', '10.0.0.10', '10.0.0.100']);
  });

  it('pad every octet value, the lowest and highest addresses too', () => {
    expect(padIp(ip('0.0.0.0'))).toBe('000.000.000.000');
    expect(padIp(ip('255.255.255.255'))).toBe('255.255.255.255');
    for (let v = 0; v < 256; v++) {
      const text = `${v}.${255 - v}.${v % 10}.${(v * 7) % 256}`;
      const padded = padIp(ip(text));
      expect(padded).toBe(text.split('.').map((o) => o.padStart(3, '0')).join('.'));
      expect(formatIPv4(unpadIp(padded))).toBe(text);
    }
  });
});
