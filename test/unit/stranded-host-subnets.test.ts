// A ClusterNetwork edit must not strand the HostSubnets it already has (validate-stranded.ts),
// and a pinned HostSubnet must not sit on a reserved range (hostSubnetReservedWhy): what
// `xctl apply` refuses, on which field, naming what.
import { describe, expect, it } from 'vitest';
import { formatPath, validateObject } from '../../pkg/api/validate.js';
import { crossObjectIssues } from '../../pkg/api/validate-cross.js';
import { hostSubnetReservedWhy } from '../../pkg/api/rules.js';
import type { AnyObject } from '../../pkg/api/types.js';

const V = 'xnet.io/v1alpha1';
type Raw = Record<string, unknown>;
const ok = (raw: Raw) => validateObject(raw).object! as AnyObject;
const cn = (spec: Raw = {}): AnyObject => ok({ apiVersion: V, kind: 'ClusterNetwork', metadata: { name: 'default' }, spec: { cidr: '10.76.0.0/16', hostPrefix: 24, dockerNetwork: 'net1', ...spec } });
const hs = (name: string, spec: Raw = {}, status?: Raw): AnyObject => {
  const o = ok({ apiVersion: V, kind: 'HostSubnet', metadata: { name }, spec: { node: name, clusterNetwork: 'default', ...spec } });
  return (status ? { ...o, status } : o) as AnyObject;
};
const issuesOf = (batch: AnyObject[], stored: AnyObject[]) => crossObjectIssues(batch, stored).map((i) => `${i.index} ${formatPath(i.path)}: ${i.message}`);

describe('a ClusterNetwork cidr edit', () => {
  const stored = [cn(), hs('a', {}, { subnet: '10.76.2.0/24' }), hs('b', { subnet: '10.76.9.0/24' })];

  it('that leaves HostSubnets outside is refused at spec.cidr, naming each and the field it holds its subnet in', () => {
    expect(issuesOf([cn({ cidr: '10.76.0.0/23' })], stored)).toEqual([
      '0 spec.cidr: 10.76.0.0/23 leaves HostSubnets "a" (status.subnet 10.76.2.0/24), "b" (spec.subnet 10.76.9.0/24) outside ClusterNetwork "default"; every agent refuses a HostSubnet outside its ClusterNetwork (no bridge, no peer routes), so the cidr must keep every HostSubnet inside',
    ]);
    // moved elsewhere: the same
    expect(issuesOf([cn({ cidr: '10.77.0.0/16' })], stored)).toHaveLength(1);
  });

  it('that keeps every HostSubnet inside is allowed: grown, or shrunk around them', () => {
    expect(issuesOf([cn({ cidr: '10.76.0.0/15' })], stored)).toEqual([]);
    expect(issuesOf([cn({ cidr: '10.76.0.0/20' })], stored)).toEqual([]);
  });

  it('names a few HostSubnets and counts the rest', () => {
    const many = Array.from({ length: 8 }, (_, i) => hs(`h${i}`, {}, { subnet: `10.76.${10 + i}.0/24` }));
    const [issue] = issuesOf([cn({ cidr: '10.76.0.0/21' })], [cn(), ...many]);
    expect(issue).toMatch(/HostSubnets "h0" .*"h4" \(status\.subnet 10\.76\.14\.0\/24\) and 3 more outside/);
  });

  it('does not blame the edit for a HostSubnet the stored spec already leaves outside, nor for a status that does not parse', () => {
    const around = [cn(), hs('old', {}, { subnet: '10.99.0.0/24' }), hs('junk', {}, { subnet: 'not a cidr' })];
    expect(issuesOf([cn({ masquerade: false })], around)).toEqual([]);
    expect(issuesOf([cn({ cidr: '10.76.0.0/17' })], around)).toEqual([]);
  });

  it('is not blamed for a changed hostPrefix: only that field is refused, once', () => {
    // the same cidr, hostPrefix 24 -> 25: the /24 HostSubnets are still inside 10.76.0.0/16
    expect(issuesOf([cn({ hostPrefix: 25 })], stored)).toEqual([
      '0 spec.hostPrefix: is set once, when the ClusterNetwork is created (stored: 24); to change it, create a new ClusterNetwork (or delete this one and create it again)',
    ]);
    // a cidr that does leave one outside is still refused along with it
    expect(issuesOf([cn({ cidr: '10.76.0.0/23', hostPrefix: 25 })], stored).map((i) => i.split(':')[0])).toEqual(['0 spec.hostPrefix', '0 spec.cidr']);
  });

  it('leaves a pinned HostSubnet of the same batch to its own check, on its spec.subnet', () => {
    expect(issuesOf([cn({ cidr: '10.76.0.0/23' }), hs('b', { subnet: '10.76.9.0/24' })], [cn(), hs('b', { subnet: '10.76.9.0/24' })])).toEqual([
      '1 spec.subnet: 10.76.9.0/24 is not inside ClusterNetwork "default" (10.76.0.0/23)',
    ]);
  });
});

describe('a ClusterNetwork reserved range', () => {
  it('added over a block a HostSubnet holds is refused at that entry, naming the range and the HostSubnet', () => {
    const stored = [cn(), hs('a', {}, { subnet: '10.76.2.0/24' })];
    expect(issuesOf([cn({ reserved: ['10.76.0.0/24', '10.76.2.128/25'] })], stored)).toEqual([
      '0 spec.reserved[1]: reserved range 10.76.2.128/25 holds HostSubnet "a" (status.subnet 10.76.2.0/24); a reserved range is never handed out, so it must not cover a block a HostSubnet already holds',
    ]);
    expect(issuesOf([cn({ reserved: ['10.76.0.0/24'] })], stored)).toEqual([]);
  });

  it('is no place for a pinned HostSubnet, in part or whole', () => {
    const stored = [cn({ reserved: ['10.76.0.0/24', '10.76.8.0/22'] })];
    expect(issuesOf([hs('p', { subnet: '10.76.10.0/24' })], stored)).toEqual([
      '0 spec.subnet: 10.76.10.0/24 overlaps ClusterNetwork "default"\'s reserved range 10.76.8.0/22, which is never handed out',
    ]);
    expect(issuesOf([hs('p', { subnet: '10.76.0.0/23' })], stored)).toHaveLength(1);
    expect(issuesOf([hs('p', { subnet: '10.76.1.0/24' })], stored)).toEqual([]);
  });

  it('is found by hostSubnetReservedWhy with its index', () => {
    expect(hostSubnetReservedWhy('10.76.5.0/24', { name: 'n', reserved: ['10.76.0.0/24', '10.76.4.0/23'] })).toMatchObject({ index: 1, range: '10.76.4.0/23' });
    expect(hostSubnetReservedWhy('10.76.5.0/24', { name: 'n' })).toBeUndefined();
  });
});
