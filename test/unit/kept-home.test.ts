// Whether the address kept for a container that came back on another one can still be its
// home (pkg/agent/reconcilers/kept-home.ts). Found in review of 4c671bc: the agent gave such a
// home up whenever it was missing from the node's pool, also while the pool only briefly lacked
// it (the node's Node deleted and made again, an agent restarted before the controller's round).
import { describe, expect, it } from 'vitest';
import { HOME_ASK_MS, homeNeverBackWhy, homeStep, MOVE_ATTEMPTS, movesNow } from '../../pkg/agent/reconcilers/kept-home.js';

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

// A home not in the node's pool was moved to at once: the container was taken off the network,
// the plugin asked the controller for the home, and on a refusal (another node's container
// holds it) connected it again on any address, twice over (docs/agent.md).
describe('what becomes of a container that came back on another address', () => {
  const facts = { tries: 0, inPool: false };

  it('moves home at once when the home is in the node\'s pool', () => {
    expect(homeStep({ ...facts, inPool: true })).toEqual({ step: 'move' });
  });

  it('stays where it is and asks the controller first when the home is not in the pool', () => {
    expect(homeStep(facts)).toEqual({ step: 'ask' });
    expect(homeStep({ ...facts, askedFor: HOME_ASK_MS - 1, lastWord: 'held by x' })).toEqual({ step: 'ask' });
  });

  it('moves once the controller granted the home asked for', () => {
    expect(homeStep({ ...facts, askedFor: 5_000, inPool: true })).toEqual({ step: 'move' });
  });

  it('keeps its address when the controller refuses, with the controller\'s reason', () => {
    const refused = 'in use by a container on node "h2" (running, or stopped and keeping its address)';
    expect(homeStep({ ...facts, askedFor: 3_000, refused })).toEqual({ step: 'keep', why: `not granted to this node: ${refused}` });
  });

  it('keeps its address when the controller has not granted it within the bound', () => {
    const s = homeStep({ ...facts, askedFor: HOME_ASK_MS + 1, lastWord: 'pre-claimed for the containers of node "h2"' });
    expect(s).toEqual({ step: 'keep', why: `not granted to this node within ${HOME_ASK_MS / 1000} s of asking (pre-claimed for the containers of node "h2")` });
    expect(homeStep({ ...facts, askedFor: HOME_ASK_MS + 1 })).toEqual({ step: 'keep', why: `not granted to this node within ${HOME_ASK_MS / 1000} s of asking` });
  });

  it('keeps its address, never asking, when the home is never this node\'s again, held here, or moves failed', () => {
    expect(homeStep({ ...facts, never: 'held by node h2' })).toEqual({ step: 'keep', why: 'held by node h2' });
    expect(homeStep({ ...facts, inPool: true, heldBy: 'c2' })).toEqual({ step: 'keep', why: 'held by c2' });
    expect(homeStep({ ...facts, inPool: true, tries: MOVE_ATTEMPTS })).toEqual({ step: 'keep', why: 'moves failed' });
  });
});

// Found in review of 3ed13144: a container moved to a home another container here stays on was
// refused by the plugin and connected again on any address (test/unit/docker-ipam-sync.test.ts).
describe('which moves home go now', () => {
  const mv = (c: string, home: string) => ({ e: { container: c }, home });
  const on: Record<string, string> = { x1: 'C2', x2: 'C3', x3: 'C1' };

  it('two or more that are on each other\'s homes move together', () => {
    const moves = [mv('C1', 'x1'), mv('C2', 'x2'), mv('C3', 'x3')];
    expect(movesNow(moves, (ip) => on[ip])).toEqual(moves);
  });

  it('one whose home\'s holder stays waits, and so does one waiting on it, down the chain', () => {
    // C1 stays on x3 (asking for its own home); C3 wants x3, C2 wants x2 (C3's), C4 a free one
    const moves = [mv('C2', 'x2'), mv('C3', 'x3'), mv('C4', 'x9')];
    expect(movesNow(moves, (ip) => on[ip])).toEqual([mv('C4', 'x9')]);
  });
});
