// A MacvlanNet that is not Ready says why, node by node, grouped by reason: describe shows the
// cause, not only where (it used to say only "not ready on: host-1, host-2").
import { describe, expect, it } from 'vitest';
import { notReadyMessage } from '../../pkg/controller/macvlan-status.js';

describe('notReadyMessage', () => {
  it('groups the nodes that give the same reason', () => {
    const deleting = 'the MacvlanNet is being deleted: kept until its agent has taken the network off the host (containers there still use it)';
    expect(notReadyMessage([{ name: 'host-1', message: deleting }, { name: 'host-2', message: deleting }]))
      .toBe(`not ready on host-1, host-2: ${deleting}`);
  });

  it('keeps each reason apart, names a node without one, and stops after three reasons', () => {
    expect(notReadyMessage([{ name: 'a', message: 'ParentMissing' }, { name: 'b' }, { name: 'c', message: 'ParentMissing' }]))
      .toBe('not ready on a, c: ParentMissing; b');
    const many = ['w', 'x', 'y', 'z'].map((r, i) => ({ name: `n${i}`, message: r }));
    expect(notReadyMessage(many)).toBe('not ready on n0: w; n1: x; n2: y; and 1 more reason(s) in status.nodes');
  });
});
