// Docker makes one macvlan network per parent interface: a MacvlanNet that names a parent and
// one that takes each node's own interface meet on a node whose interface that is. `xctl apply`
// compares them on the known Nodes both select (validate-names.ts), with the interface from the
// Node's spec, else from the controller's status of it.
import { describe, expect, it } from 'vitest';
import { formatPath, validateObject } from '../../pkg/api/validate.js';
import { crossObjectIssues } from '../../pkg/api/validate-cross.js';
import type { AnyObject } from '../../pkg/api/types.js';

type Raw = Record<string, any>;
const V = 'xnet.io/v1alpha1';
const ok = (raw: Raw) => validateObject(raw).object! as AnyObject;
const node = (spec: Raw = {}, labels?: Record<string, string>, status?: Raw): AnyObject =>
  ({ ...ok({ apiVersion: V, kind: 'Node', metadata: { name: 'host-1', ...(labels ? { labels } : {}) }, spec }), ...(status ? { status } : {}) }) as AnyObject;
const mvn = (spec: Raw = {}, name = 'macvlan200') => ok({ apiVersion: V, kind: 'MacvlanNet', metadata: { name }, spec: { subnet: '198.19.200.0/24', ...spec } });
const said = (batch: AnyObject[], stored: AnyObject[]) => crossObjectIssues(batch, stored).map((i) => `${formatPath(i.path)}: ${i.message}`);

describe('two MacvlanNets on one node\'s interface, one naming it and one taking it by default', () => {
  it('refuses the one that takes the node\'s interface (from the controller\'s status) where a stored one names it', () => {
    const issues = said([mvn({ subnet: '198.19.201.0/24' }, 'second')], [mvn({ parent: 'eth0' }), node({}, undefined, { interface: 'eth0' })]);
    expect(issues).toEqual([expect.stringMatching(/^metadata\.name: MacvlanNet "macvlan200" already uses parent eth0 on node host-1 \(the node's interface, this one's parent there\), which both select; Docker makes one macvlan network per parent interface/)]);
  });
  it('refuses the one that names the interface (the Node\'s spec.interface) a stored one takes by default', () => {
    const issues = said([mvn({ subnet: '198.19.201.0/24', parent: 'ens3' }, 'second')], [mvn(), node({ interface: 'ens3' })]);
    expect(issues).toEqual([expect.stringMatching(/^spec\.parent: MacvlanNet "macvlan200" already uses parent ens3 on node host-1 \(the node's interface, its parent there\)/)]);
  });
  it('accepts them on a node whose interface is another, on a node one does not select, on another VLAN, or with no Node known', () => {
    expect(said([mvn({ subnet: '198.19.201.0/24' }, 'b')], [mvn({ parent: 'eth0' }), node({}, undefined, { interface: 'eth1' })])).toEqual([]);
    const r1 = mvn({ parent: 'eth0', nodeSelector: { matchLabels: { rack: 'r1' } } });
    expect(said([mvn({ subnet: '198.19.201.0/24' }, 'b')], [r1, node({}, { rack: 'r2' }, { interface: 'eth0' })])).toEqual([]);
    expect(said([mvn({ subnet: '198.19.201.0/24', vlan: 5 }, 'b')], [mvn({ parent: 'eth0' }), node({}, undefined, { interface: 'eth0' })])).toEqual([]);
    expect(said([mvn({ subnet: '198.19.201.0/24' }, 'b')], [mvn({ parent: 'eth0' })])).toEqual([]);
  });
});
