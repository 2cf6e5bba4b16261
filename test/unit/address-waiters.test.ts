// The index of the ContainerNics each pool refused for want of a free address (a MacvlanNet's
// Ready counts them), filed from their controller statuses and objects as they change.
import { describe, expect, it } from 'vitest';
import { AddressWaiters, waitsForAddress } from '../../pkg/controller/address-waiters.js';

const allocated = (status: string, reason: string) => ({ conditions: [{ type: 'Ready', status: 'False', reason: 'X' }, { type: 'Allocated', status, reason }] });

describe('waitsForAddress', () => {
  it('is the NIC\'s Allocated False PoolExhausted, whatever else the status holds, and nothing that does not decode', () => {
    expect(waitsForAddress(allocated('False', 'PoolExhausted'))).toBe(true);
    expect(waitsForAddress(allocated('False', 'IPConflict'))).toBe(false);
    expect(waitsForAddress(allocated('True', 'PoolExhausted'))).toBe(false);
    for (const v of [undefined, null, {}, { conditions: 'x' }, { conditions: [null, 3] }]) expect(waitsForAddress(v)).toBe(false);
  });
});

describe('AddressWaiters', () => {
  it('files a waiting NIC under its pool, follows its object, and drops it once its status stops saying so', () => {
    const w = new AddressWaiters();
    w.fileStatus('b', 'n1/b', true, 'macvlannets/lan');
    w.fileStatus('a', 'n1/a', true, 'macvlannets/lan');
    expect(w.in('macvlannets/lan')).toEqual(['a', 'b']);
    // its status filed before its object (a cache listed in key order): placed when the object comes
    w.fileStatus('c', 'n1/c', true, undefined);
    expect(w.in('macvlannets/lan')).toEqual(['a', 'b']);
    w.fileObject('c', 'macvlannets/wan');
    expect(w.in('macvlannets/wan')).toEqual(['c']);
    // a NIC that does not wait is not filed by its object
    w.fileObject('d', 'macvlannets/lan');
    w.fileObject('a', undefined);
    expect(w.in('macvlannets/lan')).toEqual(['b']);
    w.fileStatus('b', 'n1/b', false, 'macvlannets/lan');
    expect(w.in('macvlannets/lan')).toEqual([]);
  });

  it('keeps a NIC that moved node waiting when its old status key goes after the new one came', () => {
    const w = new AddressWaiters();
    w.fileStatus('a', 'n1/a', true, 'macvlannets/lan');
    w.fileStatus('a', 'n2/a', true, 'macvlannets/lan');
    w.fileStatus('a', 'n1/a', false, 'macvlannets/lan');
    expect(w.in('macvlannets/lan')).toEqual(['a']);
    w.fileStatus('a', 'n2/a', false, 'macvlannets/lan');
    expect(w.in('macvlannets/lan')).toEqual([]);
  });
});
