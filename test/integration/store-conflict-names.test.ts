// An apply whose transaction kept losing to another writer fails with a ConflictError naming
// the object: xctl points at that object's document in the manifest. It named the first object
// of the transaction, whatever changed: with several objects in one transaction, a user was sent
// to a document nobody else touched. It names the one whose stored version moved.
// Real etcd; the other writer edits its object right before each of the store's transactions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import { ConflictError } from '../../pkg/store/types.js';
import type { AnyObject } from '../../pkg/api/index.js';
import { obj } from './helpers.js';

const PREFIX = '/cn';
let etcd: TestEtcd;
let client: Etcd3;
let store: EtcdStore;
let other: EtcdStore;

beforeAll(async () => {
  etcd = await startEtcd();
  client = etcd.client();
  store = createEtcdStore(client, PREFIX);
  other = createEtcdStore(etcd.client(), PREFIX);
});
afterAll(async () => { await etcd?.stop(); });

const net = (name: string, mtu: number, note?: string): AnyObject =>
  ({ ...obj('ClusterNetwork', name, { cidr: name === 'a' ? '10.61.0.0/16' : '10.62.0.0/16', hostPrefix: 24, mtu }), ...(note ? { metadata: { name, annotations: { note } } } : {}) } as AnyObject);

describe('an apply that keeps losing to another writer of one of its objects', () => {
  it('names that object, not the first of its transaction', async () => {
    await store.applyAll([net('a', 1400), net('b', 1400)]);
    // before each of the store's transactions that write, another writer edits b
    const kv = client.kv as unknown as { txn: (...a: unknown[]) => Promise<unknown> };
    const original = kv.txn;
    let n = 0;
    kv.txn = async (...args: unknown[]) => {
      const req = args[0] as { success?: Array<{ request_put?: unknown }> };
      if (req.success?.some((op) => op.request_put)) await other.applyAll([net('b', 1400, `edit ${++n}`)]);
      return original.apply(kv, args);
    };
    try {
      const err = await store.applyAll([net('a', 1450), net('b', 1450)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect({ kind: (err as ConflictError).kind, name: (err as ConflictError).objectName }).toEqual({ kind: 'ClusterNetwork', name: 'b' });
    } finally {
      kv.txn = original;
    }
  });
});
