// Whether the address kept for a container that came back on another one can still be its
// home (pkg/agent/reconcilers/kept-home.ts). Found in review of 4c671bc: the agent gave such a
// home up whenever it was missing from the node's pool, also while the pool only briefly lacked
// it (the node's Node deleted and made again, an agent restarted before the controller's round).
import { describe, expect, it } from 'vitest';
import { homeNeverBackWhy } from '../../pkg/agent/reconcilers/kept-home.js';

const m = (extra: Record<string, unknown> = {}) => ({ name: 'm', spec: { subnet: '10.9.0.0/24', gateway: '10.9.0.1', ipRange: '10.9.0.128/25', ...extra } as never });

describe('a kept home the controller will never give back', () => {
  it('is not one merely missing from the node\'s pool inside the range: the controller claims it back', () => {
    expect(homeNeverBackWhy(m(), '10.9.0.130', false)).toBeUndefined();
    expect(homeNeverBackWhy(m(), '10.9.0.130', true)).toBeUndefined();
  });

  it('is one an edit left outside the range: ipRange shrunk, exclude grown', () => {
    expect(homeNeverBackWhy(m(), '10.9.0.20', false)).toContain('10.9.0.20 is outside MacvlanNet "m"\'s ipRange 10.9.0.128/25');
    expect(homeNeverBackWhy(m({ exclude: ['10.9.0.128/28'] }), '10.9.0.130', false)).toContain('exclude range 10.9.0.128/28');
  });

  it('is one another node, a shim or a host outside xnet holds', () => {
    expect(homeNeverBackWhy(m(), '10.9.0.140', false, 'node h2 (pre-claimed for its containers, in use or at hand)')).toBe('held by node h2 (pre-claimed for its containers, in use or at hand)');
  });

  it('is not one back in the node\'s pool (the range grew back)', () => {
    expect(homeNeverBackWhy(m(), '10.9.0.20', true)).toBeUndefined();
  });
});
