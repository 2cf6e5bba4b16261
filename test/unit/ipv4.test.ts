import { describe, expect, it } from 'vitest';
import {
  blockCount, blockIndex, cidrCovers, cidrsOverlap, formatCidr, formatIPv4, hostRange, nthBlock, parseCidr, parseIPv4,
} from '../../pkg/ip/ipv4.js';

describe('IPv4 math', () => {
  it('parses and formats dotted quads, refusing odd spellings', () => {
    expect(formatIPv4(parseIPv4('10.76.1.84'))).toBe('10.76.1.84');
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['10.76.1', '10.76.1.256', '010.1.1.1', '1.2.3.4 ', 'a.b.c.d', '']) {
      expect(() => parseIPv4(bad), bad).toThrow(/IPv4/);
    }
  });

  it('refuses CIDRs with host bits and says which network was meant', () => {
    expect(formatCidr(parseCidr('10.76.0.0/16'))).toBe('10.76.0.0/16');
    expect(() => parseCidr('10.76.1.5/16')).toThrow(/host bits.*10\.76\.0\.0\/16/);
    expect(() => parseCidr('10.76.0.0/33')).toThrow(/prefix/);
    expect(formatCidr(parseCidr('10.76.1.5/16', false))).toBe('10.76.0.0/16');
  });

  it('carves blocks the way seed 000 numbers its bridges', () => {
    const pool = parseCidr('10.76.0.0/16');
    expect(blockCount(pool, 24)).toBe(256);
    expect(formatCidr(nthBlock(pool, 24, 2))).toBe('10.76.2.0/24');
    expect(blockIndex(pool, parseCidr('10.76.1.0/24'))).toBe(1);
  });

  it('tells containment and overlap apart', () => {
    const a = parseCidr('10.76.0.0/16'), b = parseCidr('10.76.4.0/22'), c = parseCidr('10.77.0.0/16');
    expect(cidrCovers(a, b)).toBe(true);
    expect(cidrCovers(b, a)).toBe(false);
    expect(cidrsOverlap(b, a)).toBe(true);
    expect(cidrsOverlap(a, c)).toBe(false);
  });

  it('excludes network and broadcast from usable hosts except on /31 and /32', () => {
    const r = hostRange(parseCidr('10.76.1.0/24'));
    expect([formatIPv4(r.first), formatIPv4(r.last)]).toEqual(['10.76.1.1', '10.76.1.254']);
    const p2p = hostRange(parseCidr('10.0.0.0/31'));
    expect(p2p.last - p2p.first).toBe(1);
  });
});
