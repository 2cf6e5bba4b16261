// Packing planned writes into transactions that fit etcd's limits (pure; the real etcd's side
// is test/integration/xctl-apply-large.test.ts).
import { describe, expect, it } from 'vitest';
import { packSteps, TooLargeError } from '../../pkg/store/txn-writer.js';
import { planDelete, planWrite, type WriteStep } from '../../pkg/store/write-plan.js';
import { Keys } from '../../pkg/store/keys.js';
import { API_VERSION, type AnyObject } from '../../pkg/api/index.js';

const keys = new Keys('/x');
const node = (name: string, annotations?: Record<string, string>) =>
  ({ apiVersion: API_VERSION, kind: 'Node', metadata: { name, ...(annotations ? { annotations } : {}) }, spec: {} }) as AnyObject;
const create = (name: string, annotations?: Record<string, string>) => planWrite(keys, node(name, annotations), undefined, undefined, 'apply');
const stored = (o: AnyObject, rev: number) => ({
  kv: { key: Buffer.from(keys.object('Node', o.metadata.name)), value: Buffer.from(JSON.stringify(o)), mod_revision: String(rev), create_revision: String(rev), version: '1', lease: '0' },
  obj: { ...o, metadata: { ...o.metadata, resourceVersion: String(rev) } },
});

describe('planWrite / planDelete', () => {
  it('create: absent compare and one put; unchanged: nothing; a changed label: pinned to mod_revision', () => {
    const c = create('a');
    expect(c.result.action).toBe('created');
    expect(c.compares).toEqual([{ key: Buffer.from('/x/registry/objects/nodes/a'), target: 'Create', result: 'Equal', create_revision: 0 }]);
    expect(c.ops).toHaveLength(1);
    const cur = stored(c.result.object, 7);
    const same = planWrite(keys, node('a'), undefined, cur, 'apply');
    expect(same).toMatchObject({ compares: [], ops: [], result: { action: 'unchanged' } });
    const changed = planWrite(keys, { ...node('a'), metadata: { name: 'a', labels: { x: 'y' } } } as AnyObject, undefined, cur, 'apply');
    expect(changed.result.action).toBe('configured');
    expect(changed.compares[0]).toMatchObject({ target: 'Mod', mod_revision: '7' });
  });

  it('delete: the object and its controller status go (a Node\'s own report and observed-state report too); absent: notfound; with finalizers: marked', () => {
    expect(planDelete(keys, { kind: 'Node', name: 'gone' }, undefined).result).toBe('notfound');
    const d = planDelete(keys, { kind: 'Node', name: 'a' }, stored(create('a').result.object, 3));
    expect(d.result).toBe('deleted');
    expect(d.removes).toBe(true);
    expect(d.ops.map((o) => String(o.request_delete_range?.key))).toEqual(['/x/registry/objects/nodes/a', '/x/registry/status/controller/nodes/a', '/x/registry/status/nodes/a/nodes/a', '/x/observed/nodes/a']);
    const held = { ...create('b').result.object, metadata: { ...create('b').result.object.metadata, finalizers: ['f'] } };
    const m = planDelete(keys, { kind: 'Node', name: 'b' }, stored(held, 4));
    expect(m.result).toBe('marked');
    expect(JSON.parse(String(m.ops[0].request_put?.value)).metadata.deletionTimestamp).toBeTruthy();
  });
});

describe('packSteps', () => {
  it('one run when everything fits; else runs of at most 128 writes, in order, with no-op steps riding along', () => {
    const few = Array.from({ length: 128 }, (_, i) => create(`n${i}`));
    expect(packSteps(few, { maxTxnOps: 128, maxRequestBytes: 1536 * 1024 })).toHaveLength(1);
    const steps: WriteStep<unknown>[] = Array.from({ length: 300 }, (_, i) => create(`n${i}`));
    steps.splice(128, 0, { ref: { kind: 'Node', name: 'same' }, compares: [], ops: [], result: 'unchanged' });
    const runs = packSteps(steps, { maxTxnOps: 128, maxRequestBytes: 1536 * 1024 });
    expect(runs.map((r) => r.length)).toEqual([129, 128, 44]);
    expect(runs.flat()).toEqual(steps);
  });

  it('splits by bytes too, and refuses a step that fits no transaction', () => {
    const big = (n: string) => create(n, { blob: 'x'.repeat(600 * 1024) });
    expect(packSteps([big('a'), big('b'), big('c')], { maxTxnOps: 128, maxRequestBytes: 1536 * 1024 }).map((r) => r.length)).toEqual([2, 1]);
    const huge = create('huge', { blob: 'x'.repeat(1600 * 1024) });
    expect(() => packSteps([create('ok'), huge], { maxTxnOps: 128, maxRequestBytes: 1536 * 1024 })).toThrow(TooLargeError);
  });
});
