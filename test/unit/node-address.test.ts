// Which address the controller routes a Node's subnets to (pkg/controller/node-address.ts): an
// admin's spec.address, else the reported one once checked, else the last one accepted, unless
// another Node has that one now (an admin's pin, or the same address accepted in a race).
import { describe, expect, it } from 'vitest';
import type { Ctx } from '../../pkg/controller/context.js';
import { judgeNodeAddress } from '../../pkg/controller/node-address.js';

interface World { specs?: Record<string, string>; accepted?: Record<string, string>; clusterNetworks?: Record<string, string> }

/** The model's answers for a few Nodes: their spec.address and the address accepted for each. */
function ctxOf(w: World): Ctx {
  const specs = w.specs ?? {};
  const accepted = w.accepted ?? {};
  const names = [...new Set([...Object.keys(specs), ...Object.keys(accepted)])];
  const entry = (name: string) => ({ obj: { kind: 'Node', metadata: { name }, spec: specs[name] ? { address: specs[name] } : {} } });
  const model = {
    node: (name: string) => (names.includes(name) ? entry(name) : undefined),
    objects: (kind: string) => (kind === 'Node' ? names.map(entry)
      : kind === 'ClusterNetwork' ? Object.entries(w.clusterNetworks ?? {}).map(([name, cidr]) => ({ obj: { kind, metadata: { name }, spec: { cidr } } })) : []),
    controllerStatus: (_kind: string, name: string) => (accepted[name] ? { status: { address: accepted[name] } } : undefined),
    pinnedBy: (address: string, self: string) => names.find((n) => n !== self && specs[n] === address),
    nodesAccepting: (address: string) => names.filter((n) => accepted[n] === address),
  };
  return { model } as unknown as Ctx;
}

describe('judgeNodeAddress', () => {
  it('keeps the accepted address while the report repeats it and no other Node has it', () => {
    expect(judgeNodeAddress(ctxOf({ accepted: { b: '198.18.0.12' } }), 'b', '198.18.0.12', '198.18.0.12')).toEqual({ address: '198.18.0.12' });
  });

  it('gives up an accepted address an admin pinned on another Node, even with the report unchanged or gone', () => {
    const ctx = ctxOf({ specs: { pinned: '198.18.0.12' }, accepted: { b: '198.18.0.12', pinned: '198.18.0.12' } });
    for (const reported of ['198.18.0.12', undefined]) {
      expect(judgeNodeAddress(ctx, 'b', reported, '198.18.0.12')).toEqual({ refused: '198.18.0.12 is already the address of Node "pinned"' });
    }
    // the pinned Node itself is routed via its spec
    expect(judgeNodeAddress(ctx, 'pinned', undefined, '198.18.0.12')).toEqual({ address: '198.18.0.12' });
  });

  it('of two Nodes that had one address accepted in the same round, the first by name keeps it', () => {
    const ctx = ctxOf({ accepted: { a: '198.18.0.40', b: '198.18.0.40' } });
    expect(judgeNodeAddress(ctx, 'a', '198.18.0.40', '198.18.0.40')).toEqual({ address: '198.18.0.40' });
    expect(judgeNodeAddress(ctx, 'b', '198.18.0.40', '198.18.0.40')).toEqual({ refused: '198.18.0.40 is already the address of Node "a"' });
  });

  it('a refused new report keeps the last accepted address, unless another Node pinned it', () => {
    expect(judgeNodeAddress(ctxOf({ accepted: { b: '198.18.0.12' } }), 'b', '127.0.0.1', '198.18.0.12'))
      .toEqual({ address: '198.18.0.12', refused: '127.0.0.1 is a loopback address' });
    expect(judgeNodeAddress(ctxOf({ specs: { pinned: '198.18.0.12' }, accepted: { b: '198.18.0.12' } }), 'b', '127.0.0.1', '198.18.0.12'))
      .toEqual({ refused: '127.0.0.1 is a loopback address' });
  });

  it('names a ClusterNetwork made since over an accepted address, and keeps routing via it, with the report unchanged or gone', () => {
    // a pool applied around xctl's check (which refuses it), or stored before that check existed
    const ctx = ctxOf({ accepted: { b: '10.20.0.5' }, clusterNetworks: { wide: '10.0.0.0/8' } });
    for (const reported of ['10.20.0.5', undefined]) {
      const v = judgeNodeAddress(ctx, 'b', reported, '10.20.0.5');
      expect(v.address).toBe('10.20.0.5');
      expect(v.refused).toMatch(/^10\.20\.0\.5 is inside ClusterNetwork "wide" \(10\.0\.0\.0\/8\), whose addresses xnet hands out; accepted before that pool held it/);
    }
    // a new report inside the pool is refused as any, and the accepted one kept
    expect(judgeNodeAddress(ctx, 'b', '10.20.0.6', '10.20.0.5')).toEqual({ address: '10.20.0.5', refused: '10.20.0.6 is inside ClusterNetwork "wide" (10.0.0.0/8), whose addresses xnet hands out' });
    // outside every pool nothing is said
    expect(judgeNodeAddress(ctxOf({ accepted: { b: '198.18.0.12' }, clusterNetworks: { wide: '10.0.0.0/8' } }), 'b', '198.18.0.12', '198.18.0.12')).toEqual({ address: '198.18.0.12' });
  });
});
