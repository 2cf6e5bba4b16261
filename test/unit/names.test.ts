// The naming rules (pkg/api/names.ts) as the validator and the agent apply them.
import { describe, expect, it } from 'vitest';
import { bridgePrefixRank, defaultBridgeName, hostLinkBridgeWhy, nameLosers } from '../../pkg/api/names.js';
import { crossObjectIssues } from '../../pkg/api/validate-cross.js';
import { localNameProblems } from '../../pkg/agent/names.js';

const meta = (name: string, t: string) => ({ name, creationTimestamp: t });
const cn = (name: string, t: string, spec: Record<string, unknown> = {}) =>
  ({ apiVersion: 'xnet.io/v1alpha1', kind: 'ClusterNetwork', metadata: meta(name, t), spec: { cidr: '10.76.0.0/16', hostPrefix: 24, bridgePrefix: 'br', ...spec } }) as never;
const hs = (name: string, t: string, spec: Record<string, unknown>, status?: Record<string, unknown>) =>
  ({ apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet', metadata: meta(name, t), spec: { icc: true, ...spec }, ...(status ? { status } : {}) }) as never;

describe('bridge names', () => {
  it('the oldest ClusterNetwork of a prefix gets br01, the next br01-1; too long becomes a hash', () => {
    const a = cn('a', '2026-01-01T00:00:00Z');
    const b = cn('b', '2026-01-02T00:00:00Z');
    expect(bridgePrefixRank(a, [b, a])).toBe(0);
    expect(bridgePrefixRank(b, [b, a])).toBe(1);
    expect(defaultBridgeName('br', 1, 0)).toBe('br01');
    expect(defaultBridgeName('br', 1, 1)).toBe('br01-1');
    expect(defaultBridgeName('abcdefghijk', 1234, 1)).toMatch(/^xb[0-9a-f]{10}$/);
  });

  it('host links and xnet link names are refused as bridges', () => {
    for (const n of ['eth0', 'docker0', 'lo', 'xv0123abcd', 'veth12']) expect(hostLinkBridgeWhy(n), n).toBeDefined();
    expect(hostLinkBridgeWhy('br01')).toBeUndefined();
  });

  it('explicit beats derived, then older beats younger', () => {
    const o = (n: string, t: string) => ({ metadata: meta(n, t) });
    const old = { name: 'br01', owner: o('old', '1'), label: 'old' };
    const young = { name: 'br01', owner: o('young', '2'), label: 'young' };
    const pinned = { name: 'br01', owner: o('pinned', '3'), label: 'pinned', explicit: true };
    const l = nameLosers([young, old, pinned]);
    expect(l.get(old)).toBe(pinned);
    expect(l.get(young)).toBe(pinned);
    expect(l.has(pinned)).toBe(false);
  });
});

describe('xctl apply refuses clashing names', () => {
  it('a Docker network name another ClusterNetwork or MacvlanNet has', () => {
    const mvn = { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'm' }, spec: { subnet: '192.168.9.0/24', dockerNetwork: 'a' } } as never;
    const issues = crossObjectIssues([mvn], [cn('a', '1')]);
    expect(issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['spec.dockerNetwork: Docker network "a" is already the network of ClusterNetwork "a"; set spec.dockerNetwork to another name']);
  });

  it('a bridge another HostSubnet of the node holds (a host link is the object\'s own problem: validation.test.ts)', () => {
    const stored = hs('x-n1', '1', { node: 'n1', clusterNetwork: 'x' }, { bridge: 'br05' });
    // on another ClusterNetwork: a second one of x on n1 is refused anyway (one per node and ClusterNetwork)
    const same = hs('y', '2', { node: 'n1', clusterNetwork: 'y', bridge: 'br05' });
    const other = hs('z', '2', { node: 'n2', clusterNetwork: 'x', bridge: 'br05' });
    const issues = crossObjectIssues([same, other], [stored]);
    expect(issues.map((i) => i.index).sort()).toEqual([0]);
  });
});

describe('the agent re-checks names on its node', () => {
  it('the younger of two HostSubnets with one bridge and of two networks with one Docker name is refused', () => {
    const a = cn('a', '1');
    const b = cn('b', '2', { dockerNetwork: 'a' });
    const h1 = hs('a-n', '1', { node: 'n', clusterNetwork: 'a' }, { bridge: 'br01' });
    const h2 = hs('b-n', '2', { node: 'n', clusterNetwork: 'b' }, { bridge: 'br01' });
    const p = localNameProblems([h1, h2], new Map([['a', a], ['b', b]]), []);
    expect(p.get('HostSubnet/b-n')?.reason).toBeDefined();
    expect(p.has('HostSubnet/a-n')).toBe(false);
    const mvn = { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: meta('a', '3'), spec: { subnet: '192.168.9.0/24' } } as never;
    expect(localNameProblems([h1], new Map([['a', a]]), [mvn]).get('MacvlanNet/a')?.reason).toBe('DockerNetworkConflict');
  });

  it('the younger of two HostSubnets of the node on one ClusterNetwork (written around xctl) is refused: one Docker network each', () => {
    const a = cn('a', '1');
    const older = hs('a-n', '1', { node: 'n', clusterNetwork: 'a' }, { bridge: 'br01', subnet: '10.76.1.0/24' });
    const younger = hs('a-n-2', '2', { node: 'n', clusterNetwork: 'a' }, { bridge: 'br09', subnet: '10.76.9.0/24' });
    const p = localNameProblems([younger, older], new Map([['a', a]]), []);
    expect(p.get('HostSubnet/a-n-2')).toEqual({ reason: 'DockerNetworkConflict', message: 'Docker network a of ClusterNetwork "a" is already HostSubnet "a-n"\'s on this node (one HostSubnet per node and ClusterNetwork)' });
    expect(p.has('HostSubnet/a-n')).toBe(false);
  });
});
