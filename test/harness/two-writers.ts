// Two writers of one store prefix on a real etcd, each on its own client, and a hook that runs
// the other's write right before the first's transactions: a concurrent write that lands for
// real in etcd between the store's read and its commit.
import { afterAll, beforeAll } from 'vitest';
import { KVClient, type Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from './etcd.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';

/** What a test file gets: set once its beforeAll ran. */
export interface TwoWriters { etcd: TestEtcd; client: Etcd3; store: EtcdStore; other: EtcdStore }

/** Registers the calling file's hooks: an etcd, `store` on `client`, and `other` on a client of its own. */
export function twoWriters(prefix: string): TwoWriters {
  const w = {} as TwoWriters;
  beforeAll(async () => {
    w.etcd = await startEtcd();
    w.client = w.etcd.client();
    w.store = createEtcdStore(w.client, prefix);
    w.other = createEtcdStore(w.etcd.client(), prefix);
  });
  afterAll(async () => { await w.etcd?.stop(); });
  return w;
}

/** A transaction request as etcd3's KV client is given it. */
export interface TxnRequest { success?: Array<{ request_put?: { key?: Buffer | string } }> }

/** Runs `before` ahead of each of `client`'s transactions, until the returned undo is called. */
export function beforeEachTxn(client: Etcd3, before: (req: TxnRequest) => Promise<unknown>): () => void {
  const kv = client.kv as unknown as { txn: (...a: unknown[]) => Promise<unknown> };
  const original = kv.txn;
  kv.txn = async (...args: unknown[]) => {
    await before(args[0] as TxnRequest);
    return original.apply(kv, args);
  };
  return () => { kv.txn = original; };
}

/**
 * Runs `before` ahead of each transaction of every etcd client of this process (one that a
 * command run in-process makes for itself too), until the returned undo is called.
 */
export function beforeEveryClientsTxn(before: (req: TxnRequest) => Promise<unknown>): () => void {
  const proto = KVClient.prototype as unknown as { txn: (...a: unknown[]) => Promise<unknown> };
  const original = proto.txn;
  proto.txn = async function (this: unknown, ...args: unknown[]) {
    await before(args[0] as TxnRequest);
    return original.apply(this, args);
  };
  return () => { proto.txn = original; };
}
