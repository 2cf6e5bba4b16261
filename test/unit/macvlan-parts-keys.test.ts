// A MacvlanNet's controller status in three kinds of keys (store/macvlan-parts.ts): the shared
// key every agent watches, each node's part in its own index, the pool counts no agent watches.
// Where each is, and how a reader joins them back into one status.nodes[].
import { describe, expect, it } from 'vitest';
import { Keys } from '../../pkg/store/keys.js';
import { joinMacvlanStatus, splitMacvlanStatus } from '../../pkg/store/macvlan-parts.js';
import type { MacvlanNetStatus, Status } from '../../pkg/api/index.js';

/** A key's value as a reader that does not know its revision holds it (it counts). */
const at = (value: Status | undefined) => value && { value };

describe('the keys of a MacvlanNet status', () => {
  const keys = new Keys('/x');
  it('keeps a node part in that node index, apart from ContainerNic statuses and the registry copies', () => {
    const k = keys.macvlanPart('host-1', 'lan');
    expect(k).toBe('/x/registry/bynode/host-1/status/controller/macvlannets/lan');
    expect(keys.parseMacvlanPart(k)).toEqual({ node: 'host-1', name: 'lan' });
    expect(keys.parseIndexedStatus(k)).toBeUndefined();
    expect(keys.parseMacvlanPart(keys.controllerStatus('ContainerNic', 'lan', 'host-1')!)).toBeUndefined();
    expect(keys.parseMacvlanPart(`${k}/x`)).toBeUndefined();
    expect(keys.parseMacvlanPart('/x/registry/bynode/host-1/status/controller/macvlannets/')).toBeUndefined();
  });
  it('keeps the pool counts outside every prefix an agent watches', () => {
    const k = keys.macvlanPool('lan');
    expect(keys.parseMacvlanPool(k)).toBe('lan');
    expect(keys.parseStatusKey(k)).toBeUndefined();
    expect(k.startsWith(keys.controllerStatuses('MacvlanNet'))).toBe(false);
  });
});

describe('split and join', () => {
  const whole: MacvlanNetStatus = {
    observedGeneration: 2, allocated: 10, free: 200, used: 3, external: ['10.0.0.9'],
    nodes: [
      { name: 'a', parent: 'eth0', shimAddress: '10.0.0.2', addresses: ['10.0.0.5', '10.0.0.6'], giveBack: ['10.0.0.6'], ready: true, message: 'ready' },
      { name: 'b', parent: 'eth1', shimAddress: '10.0.0.3', addresses: ['10.0.0.7'], outsideRange: ['10.1.0.1'], maxFree: 1, ready: false, message: 'x' },
    ],
    conditions: [{ type: 'Ready', status: 'True', reason: 'AllNodesReady', message: 'ready on 2 node(s)', lastTransitionTime: 't' }],
  };
  it('keeps in the shared key only what other nodes act on, and joins back to the same status', () => {
    const { shared, pool, parts } = splitMacvlanStatus(whole);
    expect(shared.nodes).toEqual([{ name: 'a', shimAddress: '10.0.0.2', giveBack: ['10.0.0.6'] }, { name: 'b', shimAddress: '10.0.0.3', outsideRange: ['10.1.0.1'] }]);
    expect(shared).not.toHaveProperty('used');
    expect(pool).toEqual({ allocated: 10, free: 200, used: 3 });
    const byNode = new Map(parts.map((p) => [p.name, p]));
    const joined = joinMacvlanStatus(undefined, at(shared), at(pool), (n) => at(byNode.get(n)))!;
    expect(joined).toEqual(whole);
    // in the order `xctl get -o yaml` showed it as one key
    expect(Object.keys(joined)).toEqual(Object.keys(whole));
  });
  it('reads a status key from before the split as it is, and leaves out a part of a node it does not list', () => {
    expect(joinMacvlanStatus(undefined, at(whole), undefined, () => undefined)).toEqual(whole);
    const { shared, parts } = splitMacvlanStatus(whole);
    const stale = { name: 'c', addresses: ['10.0.0.8'] };
    const joined = joinMacvlanStatus(undefined, at({ ...shared, nodes: shared.nodes!.slice(0, 1) }), undefined, (n) => at(n === 'c' ? stale : parts.find((p) => p.name === n)));
    expect((joined!.nodes as Array<{ name: string }>).map((n) => n.name)).toEqual(['a']);
  });
});

describe('a node entry in the status key', () => {
  const part = { name: 'a', shimAddress: '10.0.0.2', addresses: ['10.0.0.5'], ready: true };
  it('written whole (by a controller from before the split) is read as it is; one with a field this version does not know is still joined', () => {
    const whole = { name: 'a', shimAddress: '10.0.0.2', addresses: ['10.0.0.9'], ready: true };
    expect(joinMacvlanStatus(undefined, at({ nodes: [whole] }), undefined, () => at(part))!.nodes).toEqual([whole]);
    const later = { name: 'a', shimAddress: '10.0.0.2', someLaterField: 1 };
    expect(joinMacvlanStatus(undefined, at({ nodes: [later] }), undefined, () => at(part))!.nodes).toEqual([{ ...later, ...part }]);
  });
});

describe('keys an earlier MacvlanNet of the name left (deleted without its finalizer)', () => {
  // the MacvlanNet's key was created at revision 100; its status key was written at 105
  const shared = { value: { observedGeneration: 1, nodes: [{ name: 'a' }] }, modRevision: 105 };
  const part = { name: 'a', shimAddress: '10.0.0.2', addresses: ['10.0.0.5'], ready: true };
  it("are not joined: a node's part and the pool counts written before the MacvlanNet was created", () => {
    const joined = joinMacvlanStatus(100, shared, { value: { allocated: 9, free: 1 }, modRevision: 99 }, () => ({ value: part, modRevision: 99 }));
    expect(joined).toEqual({ observedGeneration: 1, nodes: [{ name: 'a' }] });
  });
  it('leave no status at all when the status key is one of them', () => {
    expect(joinMacvlanStatus(100, { ...shared, modRevision: 90 }, undefined, () => ({ value: part, modRevision: 91 }))).toBeUndefined();
  });
  it("are this one's when written after it was created", () => {
    const joined = joinMacvlanStatus(100, shared, { value: { allocated: 9, free: 1 }, modRevision: 101 }, () => ({ value: part, modRevision: 105 }));
    expect(joined).toEqual({ observedGeneration: 1, allocated: 9, free: 1, nodes: [part] });
  });
});
