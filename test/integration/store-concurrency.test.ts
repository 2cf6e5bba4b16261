// What a user's `apply` promises when someone else writes at the same moment, and what moves
// `generation` (docs/choices.md). The concurrent write lands for real in etcd, between the
// store's read and its commit: the store's client holds its transaction until the other
// writer's put is committed.
import { describe, expect, it } from 'vitest';
import { beforeEachTxn, twoWriters } from '../harness/two-writers.js';
import { Keys } from '../../pkg/store/keys.js';
import { ConflictError } from '../../pkg/store/types.js';
import type { AnyObject } from '../../pkg/api/index.js';
import { obj } from './helpers.js';

const PREFIX = '/cc';
const w = twoWriters(PREFIX);

/** Runs `write` (another writer, on its own client) just before the store's next transaction. */
function beforeNextCommit(write: () => Promise<unknown>): { fired: () => number } {
  let fired = 0;
  const undo = beforeEachTxn(w.client, async () => {
    undo();
    fired++;
    await write();
  });
  return { fired: () => fired };
}

// mtu is the spec field these tests change (hostPrefix is set once: pkg/api/set-once.ts)
const cn = (name: string, mtu: number, labels?: Record<string, string>) => obj('ClusterNetwork', name, { cidr: '10.50.0.0/16', hostPrefix: 24, mtu }, labels);
const stored = async (name: string) => JSON.parse((await w.client.get(new Keys(PREFIX).object('ClusterNetwork', name)).string())!);

describe('generation', () => {
  it('does not move when only labels (or annotations) change, and moves by one on a spec change', async () => {
    await w.store.applyAll([cn('gen', 1400)]);
    expect((await w.store.get('ClusterNetwork', 'gen'))!.metadata.generation).toBe(1);
    const [labelled] = await w.store.applyAll([cn('gen', 1400, { team: 'net' })]);
    expect(labelled.action).toBe('configured');
    const afterLabel = (await w.store.get('ClusterNetwork', 'gen'))!;
    expect(afterLabel.metadata.labels).toEqual({ team: 'net' });
    expect(afterLabel.metadata.generation).toBe(1);
    await w.store.applyAll([{ ...cn('gen', 1400, { team: 'net' }), metadata: { name: 'gen', labels: { team: 'net' }, annotations: { note: 'x' } } } as AnyObject]);
    expect((await w.store.get('ClusterNetwork', 'gen'))!.metadata.generation).toBe(1);
    await w.store.applyAll([cn('gen', 1450, { team: 'net' })]);
    expect((await w.store.get('ClusterNetwork', 'gen'))!.metadata.generation).toBe(2);
  });
});

describe('a concurrent modification between read and commit', () => {
  it('makes an update fail with a conflict, leaving the other writer\'s change in place', async () => {
    const o = await w.store.create(cn('upd', 1400));
    const hook = beforeNextCommit(() => w.other.applyAll([cn('upd', 1500)]));
    await expect(w.store.update({ ...o, spec: { ...o.spec, mtu: 1450 } } as AnyObject)).rejects.toBeInstanceOf(ConflictError);
    expect(hook.fired()).toBe(1);
    const now = await stored('upd');
    expect(now.spec.mtu).toBe(1500);
    expect(now.metadata.generation).toBe(2);
  });

  it('makes an apply carrying the resourceVersion it read refused as a conflict, writing nothing of its batch', async () => {
    const o = (await w.store.applyAll([cn('rv', 1400)]))[0].object;
    const hook = beforeNextCommit(() => w.other.applyAll([cn('rv', 1500)]));
    // as `xctl get -o yaml | edit | xctl apply -f -` sends it, with a second object in the batch
    const edited = { ...o, spec: { ...o.spec, mtu: 1450 } } as AnyObject;
    await expect(w.store.applyAll([edited, cn('rv-companion', 1400)])).rejects.toBeInstanceOf(ConflictError);
    expect(hook.fired()).toBe(1);
    expect((await stored('rv')).spec.mtu).toBe(1500);
    expect(await w.store.get('ClusterNetwork', 'rv-companion')).toBeUndefined();
  });

  it('makes a plain apply plan again against the new state: nothing half-written, generation counted once per change', async () => {
    await w.store.applyAll([cn('re', 1400)]);
    const hook = beforeNextCommit(() => w.other.applyAll([cn('re', 1500)]));
    const [change] = await w.store.applyAll([cn('re', 1450)]);
    expect(hook.fired()).toBe(1);
    expect(change.action).toBe('configured');
    const now = await stored('re');
    expect(now.spec.mtu).toBe(1450);
    // 1400 -> 1500 (the other writer) -> 1450 (our apply, planned again on top of it)
    expect(now.metadata.generation).toBe(3);
  });
});
