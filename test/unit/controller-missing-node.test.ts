// The hint for a spec.node no Node has ("did you mean ...?") is worked out once per name and
// kept until a Node comes or goes (Model.closestNode): every pass of every object naming that
// node asks for it, and at 1,000 Nodes each answer is 1,000 edit distances. Kept too long, it
// would name a Node that is gone, or miss the one that just came.
import { describe, expect, it } from 'vitest';
import { missingNodeNote } from '../../pkg/controller/node-missing.js';
import { P, meta, modelFixture } from './model-fixture.js';

const node = (name: string) => ({ apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: meta(name), spec: { address: '198.18.0.11' } });

describe('the hint for a missing node', () => {
  it('follows the Nodes as they come and go', () => {
    const { model, seed, drop } = modelFixture();
    const key = (n: string) => `${P}/registry/objects/nodes/${n}`;
    expect(missingNodeNote(model, 'host1')).toBe('; no Node "host1" exists (no agent has joined under that name): check spec.node');
    seed(key('host-1'), node('host-1'));
    expect(missingNodeNote(model, 'host1')).toBe('; no Node "host1" exists (did you mean "host-1"?): check spec.node');
    // a closer one comes: named instead
    seed(key('host1x'), node('host1x'));
    seed(key('hostA'), node('hostA'));
    drop(key('host-1'));
    expect(missingNodeNote(model, 'host1')).toBe('; no Node "host1" exists (did you mean "host1x"?): check spec.node');
    drop(key('host1x'));
    drop(key('hostA'));
    expect(missingNodeNote(model, 'host1')).toBe('; no Node "host1" exists (no agent has joined under that name): check spec.node');
    // equally close Nodes are all named: picking one would point to the wrong one as often
    seed(key('host-1'), node('host-1'));
    seed(key('host-2'), node('host-2'));
    expect(missingNodeNote(model, 'host3')).toBe('; no Node "host3" exists (did you mean "host-1" or "host-2"?): check spec.node');
    drop(key('host-1'));
    drop(key('host-2'));
    // the node itself joins: nothing to say
    seed(key('host1'), node('host1'));
    expect(missingNodeNote(model, 'host1')).toBe('');
  });
});
