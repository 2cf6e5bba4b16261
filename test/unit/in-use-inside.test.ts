// A MacvlanNet edit (dockerIPAM: xnet) that makes an address a container uses inside the range
// (its node's IPAM report, `ipam.assigned`, of the addresses the controller's status lists as
// that node's) the gateway or the subnet's network or broadcast address: refused at apply
// (validate-in-use-inside.ts). The reports are untrusted: what does not decode, or is not the
// reporting node's own address, is not counted.
import { describe, expect, it } from 'vitest';
import { formatPath, validateObject } from '../../pkg/api/validate.js';
import { crossObjectIssues } from '../../pkg/api/validate-cross.js';
import { inUseReportsToRead, type NodeReports } from '../../pkg/api/validate-in-use-inside.js';
import type { AnyObject } from '../../pkg/api/types.js';

type Raw = Record<string, any>;
const mvn = (spec: Raw = {}, name = 'macvlan200'): AnyObject =>
  validateObject({ apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name }, spec: { subnet: '198.19.200.0/24', ...spec } }).object! as AnyObject;
const stored = (spec: Raw, nodes: Raw[] = [{ name: 'host-1', addresses: ['198.19.200.130', '198.19.200.131'] }]) =>
  ({ ...mvn(spec), metadata: { name: 'macvlan200', uid: 'u-1' }, status: { nodes } }) as AnyObject;
/** what the nodes' agents wrote under their own status keys, as the store decodes them */
const reports = (byNode: Record<string, unknown>): NodeReports => new Map([['macvlan200', new Map(Object.entries(byNode).map(([n, ipam]) => [n, { ipam }]))]]);
const inUse = (...ips: string[]) => ({ assigned: ips.map((ip) => ({ ip, name: 'web' })) });

describe('a MacvlanNet edit onto an address a container uses inside the range', () => {
  it('refuses the gateway moved onto it, naming the node, the address and what to do', () => {
    const issues = crossObjectIssues([mvn({ gateway: '198.19.200.130' })], [stored({})], reports({ 'host-1': inUse('198.19.200.130') }));
    expect(issues).toHaveLength(1);
    expect(formatPath(issues[0].path)).toBe('spec.gateway');
    expect(issues[0].message).toBe('the new gateway 198.19.200.130 is the address a container on node host-1 uses inside the range of MacvlanNet "macvlan200" (the node\'s IPAM report); remove that container first, or choose another gateway');
  });

  it('refuses a subnet edit that makes it the broadcast address, or (no gateway set) the default gateway', () => {
    const edge = crossObjectIssues([mvn({ subnet: '198.19.200.128/30', gateway: '198.19.200.129' })], [stored({ gateway: '198.19.200.129' }, [{ name: 'host-1', addresses: ['198.19.200.131'] }])], reports({ 'host-1': inUse('198.19.200.131') }));
    expect(edge.map((i) => [formatPath(i.path), i.message])).toEqual([['spec.subnet', expect.stringMatching(/^198\.19\.200\.131 would be the broadcast address of 198\.19\.200\.128\/30, and a container on node host-1 uses it inside the range/)]]);
    const gw = crossObjectIssues([mvn({ subnet: '198.19.200.128/25' })], [stored({}, [{ name: 'host-1', addresses: ['198.19.200.129'] }])], reports({ 'host-1': inUse('198.19.200.129') }));
    expect(gw.map((i) => [formatPath(i.path), i.message])).toEqual([['spec.subnet', expect.stringMatching(/^the new gateway 198\.19\.200\.129 is the address a container on node host-1 uses/)]]);
  });

  it('accepts an address the node holds at hand, one the stored spec already had so, and what the report has but the node does not hold', () => {
    expect(crossObjectIssues([mvn({ gateway: '198.19.200.131' })], [stored({})], reports({ 'host-1': inUse('198.19.200.130') }))).toEqual([]);
    expect(crossObjectIssues([mvn({ gateway: '198.19.200.130' })], [stored({ gateway: '198.19.200.130' })], reports({ 'host-1': inUse('198.19.200.130') }))).toEqual([]);
    // host-2 reports host-1's address, and one no status lists: not its own, it blocks nothing
    expect(crossObjectIssues([mvn({ gateway: '198.19.200.130' })], [stored({})], reports({ 'host-2': inUse('198.19.200.130') }))).toEqual([]);
    expect(crossObjectIssues([mvn({ gateway: '198.19.200.9' })], [stored({})], reports({ 'host-1': inUse('198.19.200.9') }))).toEqual([]);
  });

  it('ignores a report that does not decode, or is about an earlier object of the name', () => {
    expect(crossObjectIssues([mvn({ gateway: '198.19.200.130' })], [stored({})], reports({ 'host-1': { assigned: [{ ip: '198.19.200.130', extra: 1 }] } }))).toEqual([]);
    expect(crossObjectIssues([mvn({ gateway: '198.19.200.130' })], [stored({})], reports({ 'host-1': 'junk' }))).toEqual([]);
    const earlier: NodeReports = new Map([['macvlan200', new Map([['host-1', { objectUid: 'u-0', ipam: inUse('198.19.200.130') }]])]]);
    expect(crossObjectIssues([mvn({ gateway: '198.19.200.130' })], [stored({})], earlier)).toEqual([]);
  });

  it('reads only the reports of nodes the controller lists as holding an address the edit lands on', () => {
    const nodes = [{ name: 'host-1', addresses: ['198.19.200.130'] }, { name: 'host-2', addresses: ['198.19.200.140'] }, { name: 'host-3', addresses: ['198.19.200.255'] }];
    expect(inUseReportsToRead([mvn({ gateway: '198.19.200.130' })], [stored({}, nodes)])).toEqual([{ name: 'macvlan200', nodes: ['host-1'] }]);
    expect(inUseReportsToRead([mvn({ gateway: '198.19.200.1' })], [stored({}, nodes)])).toEqual([]);
    expect(inUseReportsToRead([mvn({ gateway: '198.19.200.130' }, 'new')], [stored({}, nodes)])).toEqual([]);
    expect(inUseReportsToRead([mvn({ gateway: '198.19.200.130', dockerIPAM: 'blocks' })], [stored({ dockerIPAM: 'blocks' }, nodes)])).toEqual([]);
  });
});
