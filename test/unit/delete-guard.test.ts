// The compares a delete held to a check carries (pure; a real etcd's side, and xctl's use of it,
// is test/integration/xctl-delete-in-use-race.test.ts).
import { describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { HeldGuard } from '../../pkg/store/delete-guard.js';
import { packSteps, writeSteps } from '../../pkg/store/txn-writer.js';
import { planDelete, type WriteStep } from '../../pkg/store/write-plan.js';
import { Keys } from '../../pkg/store/keys.js';
import { ETCD_DEFAULT_LIMITS } from '../../pkg/etcd/limits.js';
import { API_VERSION, type AnyObject, type Kind } from '../../pkg/api/index.js';
import type { DeleteGuard, DeleteResult } from '../../pkg/store/types.js';

const keys = new Keys('/x');
const stored = (kind: Kind, name: string, rev: number) => {
  const obj = { apiVersion: API_VERSION, kind, metadata: { name, resourceVersion: String(rev) }, spec: {} } as AnyObject;
  return { kv: { key: Buffer.from(keys.object(kind, name)), value: Buffer.from(JSON.stringify(obj)), mod_revision: String(rev), create_revision: String(rev), version: '1', lease: '0' }, obj };
};
const del = (kind: Kind, name: string, present = true) => planDelete(keys, { kind, name }, present ? stored(kind, name, 5) : undefined);
const guardOf = (recheck: () => Promise<number> = async () => 20): DeleteGuard =>
  ({ revision: 10, kinds: ['ContainerNic'], refs: [{ kind: 'ClusterNetwork', name: 'net' }, { kind: 'ClusterNetwork', name: 'absent' }], recheck });
const nicRange = (rev: number) => ({
  key: Buffer.from('/x/registry/objects/containernics/'), range_end: Buffer.from('/x/registry/objects/containernics0'), target: 'Mod', result: 'Less', mod_revision: String(rev + 1),
});

describe('HeldGuard', () => {
  it('holds the steps that write a guarded object: the kind\'s key range and the object\'s own key, not changed since the revision', () => {
    const held = new HeldGuard(keys, guardOf());
    const step = held.hold(del('ClusterNetwork', 'net'));
    expect(step.compares).toEqual([
      ...del('ClusterNetwork', 'net').compares,
      nicRange(10),
      { key: Buffer.from('/x/registry/objects/clusternetworks/net'), target: 'Mod', result: 'Less', mod_revision: '11' },
    ]);
    // another object, and a guarded one with nothing to write (not found), are not held
    expect(held.hold(del('ClusterNetwork', 'other'))).toEqual(del('ClusterNetwork', 'other'));
    expect(held.hold(del('ClusterNetwork', 'absent', false))).toEqual(del('ClusterNetwork', 'absent', false));
  });

  it('runs the check again only after a run it held failed, and holds the next plan to the check\'s new revision', async () => {
    let rechecks = 0;
    const held = new HeldGuard(keys, guardOf(async () => { rechecks++; return 20; }));
    await held.renewAfter([del('ClusterNetwork', 'other')]);
    expect(rechecks).toBe(0);
    expect(held.conflict([del('ClusterNetwork', 'other')])).toBeUndefined();
    const run = [del('ClusterNetwork', 'other'), held.hold(del('ClusterNetwork', 'net'))];
    await held.renewAfter(run);
    expect(rechecks).toBe(1);
    expect(held.hold(del('ClusterNetwork', 'net')).compares).toContainEqual(nicRange(20));
    expect(held.conflict(run)?.message).toContain('ClusterNetwork "net": it, or the ContainerNic objects its delete was checked against, kept changing');
  });

  it('a transaction sends the range compare once, however many of its steps carry it', async () => {
    const held = new HeldGuard(keys, { ...guardOf(), refs: [{ kind: 'ClusterNetwork', name: 'a' }, { kind: 'ClusterNetwork', name: 'b' }] });
    const sent: Array<{ compare: unknown[] }> = [];
    const client = { kv: { txn: async (req: { compare: unknown[] }) => { sent.push(req); return { succeeded: true, header: { revision: '11' } }; } } } as unknown as Etcd3;
    const steps: WriteStep<DeleteResult>[] = [held.hold(del('ClusterNetwork', 'a')), held.hold(del('ClusterNetwork', 'b'))];
    await writeSteps(client, steps, { limits: ETCD_DEFAULT_LIMITS, replan: async (s) => s, conflict: () => new Error('conflict') });
    expect(sent).toHaveLength(1);
    expect(sent[0].compare.filter((c) => JSON.stringify(c) === JSON.stringify(nicRange(10)))).toHaveLength(1);
    // each object's own compares: pinned as read, and not changed since the check
    expect(sent[0].compare).toHaveLength(1 + 2 * 2);
  });

  it('packs the range compare once per transaction, as it is sent: 60 held deletes fit one stock transaction, 64 do not', () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `net-${i}`);
    const heldSteps = (n: number) => {
      const held = new HeldGuard(keys, { ...guardOf(), refs: names(n).map((name) => ({ kind: 'ClusterNetwork' as const, name })) });
      return names(n).map((name) => held.hold(del('ClusterNetwork', name)));
    };
    // 60: 120 deletes, 2 * 60 + 1 = 121 compares sent (counted per step, 180)
    expect(packSteps(heldSteps(60), ETCD_DEFAULT_LIMITS).map((r) => r.length)).toEqual([60]);
    // 64: 128 deletes, 129 compares: the 64th goes to a second transaction, which carries the range compare too
    expect(packSteps(heldSteps(64), ETCD_DEFAULT_LIMITS).map((r) => r.length)).toEqual([63, 1]);
  });
});
