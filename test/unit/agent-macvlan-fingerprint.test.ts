// Issue 10: an agent's work must not grow with what other hosts do. A MacvlanNet's controller
// status is one key holding every node's part and the pool's counts: a container started on
// host-2 rewrites it (status.used, host-2's pre-claims refilled). Found in a bug hunt: host-1's
// agent took each such rewrite for a change of the MacvlanNet and ran its macvlan pass (and
// its NICs' on that MacvlanNet), with their `ip` and Docker reads, once per container started
// on any other host. Its passes act on the node's own part and, of the others, only on what
// holds an address for good (other-nodes.ts): the fingerprint keeps that and no more.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type MacvlanNet } from '../../pkg/api/index.js';
import { fingerprint } from '../../pkg/agent/events.js';

type Part = { name: string } & Record<string, unknown>;
const mv = (nodes: Part[], extra: Record<string, unknown> = {}): MacvlanNet => ({
  apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: { name: 'lan', generation: 1 },
  spec: { subnet: '192.168.210.0/24', gateway: '192.168.210.1', mode: 'bridge', promiscuous: true, hostShim: true, blockPrefix: 28, dockerIPAM: 'xnet' },
  status: { used: 3, nodes, ...extra },
});
const h1 = { name: 'host-1', parent: 'eth0', shimAddress: '192.168.210.128', addresses: ['192.168.210.129', '192.168.210.130'] };
const h2 = { name: 'host-2', parent: 'eth0', shimAddress: '192.168.210.131', addresses: ['192.168.210.132', '192.168.210.133'] };

describe('what of a MacvlanNet update wakes this node\'s agent', () => {
  const before = fingerprint(mv([h1, h2]), 'host-1');

  it('not another node\'s containers: its pre-claims refilled, its limit and asks, the pool\'s use counted', () => {
    const after = mv([h1, { ...h2, addresses: ['192.168.210.134', '192.168.210.135'], maxFree: 1, giveBack: ['192.168.210.134'], refusedRequests: [{ ip: '192.168.210.9', reason: 'x' }] }], { used: 9 });
    expect(fingerprint(after, 'host-1')).toBe(before);
  });

  it('its own part, another node\'s shim or addresses kept outside the range, the pool\'s external marks, the spec', () => {
    expect(fingerprint(mv([{ ...h1, addresses: ['192.168.210.129'] }, h2]), 'host-1')).not.toBe(before);
    expect(fingerprint(mv([{ ...h1, maxFree: 1 }, h2]), 'host-1')).not.toBe(before);
    expect(fingerprint(mv([h1, { ...h2, shimAddress: '192.168.210.140' }]), 'host-1')).not.toBe(before);
    expect(fingerprint(mv([h1, { ...h2, outsideRange: ['192.168.210.5'] }]), 'host-1')).not.toBe(before);
    expect(fingerprint(mv([h1]), 'host-1')).not.toBe(before);
    expect(fingerprint(mv([h1, h2], { external: ['192.168.210.7'] }), 'host-1')).not.toBe(before);
    const edited = mv([h1, h2]);
    edited.spec = { ...edited.spec, gateway: '192.168.210.254' };
    expect(fingerprint(edited, 'host-1')).not.toBe(before);
  });

  it('for host-2\'s agent, host-2\'s refill is its own part', () => {
    const after = mv([h1, { ...h2, addresses: ['192.168.210.134'] }], { used: 9 });
    expect(fingerprint(after, 'host-2')).not.toBe(fingerprint(mv([h1, h2]), 'host-2'));
  });
});
