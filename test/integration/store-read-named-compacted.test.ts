// readNamed (`xctl get KIND NAME...`, describe, wait) reads its names at one revision over
// several requests: the objects, a listing of the nodes' reports, their status keys. When etcd
// compacts past that revision between two of them, the read starts over at the revision of the
// moment, a bounded number of times (COMPACTED_READ_RETRY), instead of failing the command.
// Real etcd; the compaction is etcd's own, made from a hook on the reader's client right after
// etcd answered the read's first transaction (the objects), before its next request.
import { beforeAll, describe, expect, it } from 'vitest';
import { obj, storeFor, useKeysFixture } from './controller-helpers.js';
import { throughTxnHook, type Txn, type TxnRequest } from './helpers.js';
import { EtcdCompactedError } from '../../pkg/errors.js';
import type { ObjectRef } from '../../pkg/store/write-plan.js';

const fx = useKeysFixture();
const NAMES = Array.from({ length: 20 }, (_, i) => `cmp-${i}`);
const refs: ObjectRef[] = NAMES.map((name) => ({ kind: 'Node', name }));

/**
 * After etcd answered a transaction read at the revision of the moment (the first of a read;
 * the rest are held to its revision), a write, then a compaction up to it: the read's later
 * requests at the first one's revision meet "required revision has been compacted".
 */
function compactingAfterFirst(times: number, done: { compactions: number }) {
  return async (req: TxnRequest, send: Txn) => {
    const res = await send(req);
    const atNow = req.success?.every((op) => !op.request_range?.revision);
    if (atNow && done.compactions < times) {
      const raw = fx.etcd.client();
      const put = await raw.put(`${fx.prefix}-filler`).value(String(done.compactions)).exec();
      await raw.kv.compact({ revision: put.header.revision, physical: true });
      done.compactions++;
    }
    return res;
  };
}

describe('readNamed when etcd compacts past its revision between its requests', () => {
  beforeAll(async () => { await fx.store.applyAll(NAMES.map((n) => obj('Node', n, {}))); });

  it('reads every name again at a newer revision', async () => {
    const client = fx.etcd.client();
    const store = storeFor(client, fx.prefix);
    const done = { compactions: 0 };
    const r = await throughTxnHook(client, compactingAfterFirst(1, done), () => store.readNamed(refs));
    expect(done.compactions, 'etcd compacted between the read\'s requests').toBe(1);
    expect(r.results.map((x) => x.object?.metadata.name)).toEqual(NAMES);
    expect(r.results.flatMap((x) => x.skipped)).toEqual([]);
  });

  it('fails with an error that says so when etcd compacts past every try', async () => {
    const client = fx.etcd.client();
    const store = storeFor(client, fx.prefix);
    const done = { compactions: 0 };
    const err = await throughTxnHook(client, compactingAfterFirst(100, done), () => store.readNamed(refs)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EtcdCompactedError);
    expect((err as Error).message).toMatch(/^etcd compacted past the revision of the read 3 times in a row, each before it was done: /);
    expect(done.compactions, 'one compaction per try').toBe(3);
  });
});
