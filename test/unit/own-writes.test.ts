// Which outcome a write planned again reports (pkg/store/own-writes.ts): its own first plan's
// when what is stored shows that plan done, else what the new plan says.
import { describe, expect, it } from 'vitest';
import { heldToFirstRead, ownApplyOutcome, ownDeleteOutcome } from '../../pkg/store/own-writes.js';
import type { WriteStep } from '../../pkg/store/write-plan.js';
import type { ApplyChange, DeleteResult } from '../../pkg/store/types.js';
import type { AnyObject } from '../../pkg/api/index.js';

const ref = { kind: 'ClusterNetwork' as const, name: 'c1' };
const obj = (uid: string) => ({ apiVersion: 'xnet.io/v1', kind: 'ClusterNetwork', metadata: { name: 'c1', uid }, spec: {} }) as unknown as AnyObject;
const step = (action: ApplyChange['action'], uid: string, writes = false): WriteStep<ApplyChange> =>
  ({ ref, compares: [], ops: writes ? [{ request_put: { key: Buffer.from('k'), value: Buffer.from('v') } }] : [], result: { action, object: obj(uid) } });
const del = (result: DeleteResult, writes = false): WriteStep<DeleteResult> =>
  ({ ref, compares: [], ops: writes ? [{ request_delete_range: { key: Buffer.from('k') } }] : [], result });

describe('ownApplyOutcome', () => {
  it('a create found stored with its own uid was this request\'s', () => {
    expect(ownApplyOutcome(step('created', 'u1', true), step('unchanged', 'u1')).result.action).toBe('created');
  });
  it('a create found stored with another uid was another writer\'s', () => {
    expect(ownApplyOutcome(step('created', 'u1', true), step('unchanged', 'u2')).result.action).toBe('unchanged');
    expect(ownApplyOutcome(step('created', 'u1', true), step('configured', 'u2', true)).result.action).toBe('configured');
  });
  it('a change with nothing left to write stays configured; one still to write is planned anew', () => {
    expect(ownApplyOutcome(step('configured', 'u1', true), step('unchanged', 'u1')).result.action).toBe('configured');
    const again = step('configured', 'u1', true);
    expect(ownApplyOutcome(step('configured', 'u1', true), again)).toBe(again);
  });
});

describe('ownDeleteOutcome', () => {
  it('an object planned deleted or marked and now gone was deleted', () => {
    expect(ownDeleteOutcome(del('deleted', true), del('notfound')).result).toBe('deleted');
    expect(ownDeleteOutcome(del('marked', true), del('notfound')).result).toBe('deleted');
  });
  it('one that was not found stays not found, one still there is planned anew', () => {
    expect(ownDeleteOutcome(del('notfound'), del('notfound')).result).toBe('notfound');
    expect(ownDeleteOutcome(del('deleted', true), del('marked', true)).result).toBe('marked');
  });
});

describe('heldToFirstRead', () => {
  const at = (create_revision: string) => ({ kv: { create_revision } });
  it('the first read is what later reads are held to: the same key stays, another or a new one counts as absent', () => {
    const first = new Map<string, string>();
    const read = [at('5'), at('7'), undefined];
    expect(heldToFirstRead(['a', 'b', 'c'], read, first)).toEqual(read);
    const again = [at('5'), at('9'), at('11')];
    expect(heldToFirstRead(['a', 'b', 'c'], again, first)).toEqual([again[0], undefined, undefined]);
  });
  it('a key gone since stays gone; a replan of part of the refs is held ref by ref', () => {
    const first = new Map<string, string>();
    heldToFirstRead(['a', 'b'], [at('5'), at('6')], first);
    expect(heldToFirstRead(['b'], [undefined], first)).toEqual([undefined]);
    expect(heldToFirstRead(['b'], [at('6')], first)).toEqual([at('6')]);
  });
});
