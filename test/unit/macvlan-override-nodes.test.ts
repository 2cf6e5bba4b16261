// A MacvlanNet's per-node overrides (spec.nodes[].name) that name no Node: which, and the
// message the controller's Ready and `xctl apply` give for them.
import { describe, expect, it } from 'vitest';
import { overrideNodeWarnings, unknownOverrideMessage, unknownOverrideNodes } from '../../pkg/api/macvlan-parent.js';

const nodes = ['host-1', 'host-2', 'host-3'];
const isNode = (n: string) => nodes.includes(n);

describe('unknownOverrideNodes', () => {
  it('lists the overrides naming no Node, in spec order; none without spec.nodes', () => {
    expect(unknownOverrideNodes({ nodes: [{ name: 'host2' }, { name: 'host-1' }, { name: 'hots-3' }] }, isNode)).toEqual(['host2', 'hots-3']);
    expect(unknownOverrideNodes({ nodes: [{ name: 'host-1' }] }, isNode)).toEqual([]);
    expect(unknownOverrideNodes({}, isNode)).toEqual([]);
  });
});

describe('unknownOverrideMessage', () => {
  it('names each with the closest Node, says what it means and where to look', () => {
    expect(unknownOverrideMessage(['host2'], nodes)).toBe('spec.nodes names no Node "host2" (did you mean "host-2"?): its override applies to no node until a node of that name joins; check spec.nodes[].name');
    expect(unknownOverrideMessage(['host2', 'edge'], nodes)).toBe('spec.nodes names no Node "host2" (did you mean "host-2"?), "edge": their overrides apply to no node until nodes of those names join; check spec.nodes[].name');
  });

  it('suggests the same Nodes whatever order the names come in (equally close: all of them, by name)', () => {
    // "host" is two edits from host-2 and from host-3, and the controller and xctl list Nodes in different orders
    expect(unknownOverrideMessage(['host'], ['host-3', 'host-2'])).toBe(unknownOverrideMessage(['host'], ['host-2', 'host-3']));
    expect(unknownOverrideMessage(['host'], ['host-3', 'host-2'])).toContain('(did you mean "host-2" or "host-3"?)');
  });

  it('spells out three and counts the rest; empty for none', () => {
    expect(unknownOverrideMessage(['a', 'b', 'c', 'd', 'e'], [])).toBe('spec.nodes names no Node "a", "b", "c" and 2 more: their overrides apply to no node until nodes of those names join; check spec.nodes[].name');
    expect(unknownOverrideMessage([], nodes)).toBe('');
  });
});

describe('overrideNodeWarnings (xctl apply)', () => {
  const lan = (nodes: Array<{ name: string }>) => ({ kind: 'MacvlanNet', metadata: { name: 'lan' }, spec: { subnet: '10.210.0.0/24', nodes } });
  const node = (name: string) => ({ kind: 'Node', metadata: { name }, spec: {} });

  it('one per MacvlanNet naming a Node neither stored nor in the batch', () => {
    expect(overrideNodeWarnings([lan([{ name: 'host2' }])], [{ name: 'host-2' }])).toEqual([
      'macvlannet/lan: spec.nodes names no Node "host2" (did you mean "host-2"?): its override applies to no node until a node of that name joins; check spec.nodes[].name',
    ]);
  });

  it('none for a Node stored or in the batch, nor for other kinds', () => {
    expect(overrideNodeWarnings([lan([{ name: 'host-2' }])], [{ name: 'host-2' }])).toEqual([]);
    expect(overrideNodeWarnings([lan([{ name: 'host2' }]), node('host2')], [])).toEqual([]);
    expect(overrideNodeWarnings([node('x'), lan([])], [])).toEqual([]);
  });

  it('one for overrides naming Nodes the nodeSelector does not select, by the batch\'s labels over the stored ones', () => {
    const selective = (nodes: Array<{ name: string }>) => ({ ...lan(nodes), spec: { ...lan(nodes).spec, nodeSelector: { matchLabels: { lan: 'yes' } } } });
    const stored = [{ name: 'host-1', labels: { lan: 'yes' } }, { name: 'host-3' }, { name: 'bad', unreadable: true }];
    expect(overrideNodeWarnings([selective([{ name: 'host-1' }, { name: 'host-3' }, { name: 'bad' }])], stored)).toEqual([
      'macvlannet/lan: spec.nodes names "host-3", which nodeSelector does not select: its override applies to no node until the node is labelled to match; check spec.nodes[].name and the node\'s labels',
    ]);
    // labelled in the same batch: selected
    const labelled = { kind: 'Node', metadata: { name: 'host-3', labels: { lan: 'yes' } }, spec: {} };
    expect(overrideNodeWarnings([selective([{ name: 'host-3' }]), labelled], stored)).toEqual([]);
    // no nodeSelector: every Node is selected
    expect(overrideNodeWarnings([lan([{ name: 'host-3' }])], stored)).toEqual([]);
  });
});
