// An apply whose transaction kept losing to another writer fails with a ConflictError naming
// the object: xctl points at that object's document in the manifest. It named the first object
// of the transaction, whatever changed: with several objects in one transaction, a user was sent
// to a document nobody else touched. It names the one whose stored version moved.
// Real etcd; the other writer edits its object right before each of the store's transactions.
import { describe, expect, it } from 'vitest';
import { beforeEachTxn, twoWriters } from '../harness/two-writers.js';
import { ConflictError } from '../../pkg/store/types.js';
import type { AnyObject } from '../../pkg/api/index.js';
import { obj } from './helpers.js';

const w = twoWriters('/cn');

const net = (name: string, mtu: number, note?: string): AnyObject =>
  ({ ...obj('ClusterNetwork', name, { cidr: name === 'a' ? '10.61.0.0/16' : '10.62.0.0/16', hostPrefix: 24, mtu }), ...(note ? { metadata: { name, annotations: { note } } } : {}) } as AnyObject);

describe('an apply that keeps losing to another writer of one of its objects', () => {
  it('names that object, not the first of its transaction', async () => {
    await w.store.applyAll([net('a', 1400), net('b', 1400)]);
    // before each of the store's transactions that write, another writer edits b
    let n = 0;
    const undo = beforeEachTxn(w.client, async (req) => {
      if (req.success?.some((op) => op.request_put)) await w.other.applyAll([net('b', 1400, `edit ${++n}`)]);
    });
    try {
      const err = await w.store.applyAll([net('a', 1450), net('b', 1450)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect({ kind: (err as ConflictError).kind, name: (err as ConflictError).objectName }).toEqual({ kind: 'ClusterNetwork', name: 'b' });
    } finally {
      undo();
    }
  });
});
