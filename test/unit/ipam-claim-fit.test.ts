// decodeClaim with its key's place: which block claims xnet's writers make fit their key, and
// which readers would misread (pkg/ipam/keys.ts).
import { describe, expect, it } from 'vitest';
import { decodeClaim, judgedByHostPrefix, pinnedBlockMisfit } from '../../pkg/ipam/keys.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';

const owner = { kind: 'HostSubnet', name: 'h', uid: 'u' };
const at = (ip: string) => ({ space: 'blocks' as const, ip: parseIPv4(ip) });
const decodes = (claim: object, key: string) => 'claim' in decodeClaim(JSON.stringify(claim), at(key));

describe('a block claim and its key', () => {
  it('a HostSubnet pinning part of a hostPrefix block, kept at the block\'s base, fits', () => {
    expect(decodes({ owner, role: 'hostsubnet', cidr: '10.76.1.128/25' }, '10.76.1.0')).toBe(true);
    expect(decodes({ owner, role: 'hostsubnet', cidr: '10.76.1.192/26' }, '10.76.0.0')).toBe(true);
  });

  it('a HostSubnet of several blocks fits each block\'s key', () => {
    expect(decodes({ owner, role: 'hostsubnet', cidr: '10.76.0.0/23' }, '10.76.1.0')).toBe(true);
  });

  it('a cidr in no block starting at the key does not fit', () => {
    expect(decodes({ owner, role: 'hostsubnet', cidr: '10.77.1.128/25' }, '10.76.1.0')).toBe(false);
    expect(decodes({ owner, role: 'hostsubnet', cidr: '10.76.1.128/25' }, '10.76.1.64')).toBe(false);
  });

  it('a Docker block is kept at its own base only: a cidr inside a larger block at the key does not fit', () => {
    expect(decodes({ owner: { ...owner, kind: 'MacvlanNet' }, role: 'docker-block', cidr: '192.168.1.128/28' }, '192.168.1.128')).toBe(true);
    expect(decodes({ owner: { ...owner, kind: 'MacvlanNet' }, role: 'docker-block', cidr: '192.168.1.128/28' }, '192.168.1.0')).toBe(false);
  });
});

describe('a HostSubnet block claim and its ClusterNetwork\'s hostPrefix (pinnedBlockMisfit)', () => {
  const misfit = (cidr: string, key: string, hostPrefix: number) => pinnedBlockMisfit('hostsubnet', cidr, parseIPv4(key), hostPrefix);

  it('what the controller writes fits: a pinned subnet smaller than hostPrefix at its own block\'s base, blocks at their own', () => {
    expect(misfit('10.76.1.128/25', '10.76.1.0', 24)).toBeUndefined();
    expect(misfit('10.76.1.192/26', '10.76.0.0', 23)).toBeUndefined();
    expect(misfit('10.76.1.0/24', '10.76.1.0', 24)).toBeUndefined();
    expect(misfit('10.76.0.0/23', '10.76.1.0', 24)).toBeUndefined();
  });

  it('a pinned subnet kept at another enclosing block\'s base does not fit, naming its own block', () => {
    expect(misfit('10.76.1.128/25', '10.76.0.0', 24)).toBe('cidr 10.76.1.128/25 is not kept at the base of its own /24 block (10.76.1.0), the ClusterNetwork\'s hostPrefix, but at 10.76.0.0');
    expect(misfit('10.76.1.128/25', '10.0.0.0', 24)).toMatch(/not kept at the base of its own \/24 block/);
    // smaller than the claim's own cidr, the hostPrefix leaves no block for it to be pinned in
    expect(misfit('10.76.1.128/25', '10.76.1.0', 26)).toMatch(/own \/26 block \(10.76.1.128\)/);
  });

  it('other roles are judged by decodeClaim alone', () => {
    expect(pinnedBlockMisfit('docker-block', '192.168.1.128/28', parseIPv4('192.168.1.0'), 24)).toBeUndefined();
  });
});

describe('which block claims the hostPrefix judges (judgedByHostPrefix)', () => {
  it('a claim made since its ClusterNetwork was created is judged; one made before, under the network before, is not', () => {
    expect(judgedByHostPrefix('120', '100')).toBe(true);
    expect(judgedByHostPrefix('100', '100')).toBe(true);
    expect(judgedByHostPrefix('90', '100')).toBe(false);
  });

  it('revisions not known: judged', () => {
    expect(judgedByHostPrefix(undefined, '100')).toBe(true);
    expect(judgedByHostPrefix('90', undefined)).toBe(true);
  });
});
