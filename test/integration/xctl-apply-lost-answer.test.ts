// An apply that fits one etcd transaction (all or nothing) whose answer is lost after etcd
// committed it, etcd then gone: xctl cannot know whether the write happened, and says so, as it
// does for a split apply's transaction in flight (xctl-apply-large.test.ts); the exit code is
// still that of etcd unreachable, and the same apply again converges.
import { describe, expect, it, vi } from 'vitest';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { xctlInProcess, type XctlRun } from '../harness/xctl-in-process.js';
import { prefixEnd } from '../../pkg/etcd/range.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { Session } from '../../pkg/cli/connect.js';
import { throughTxnHook, type TxnRequest } from './helpers.js';

const lab = xctlInProcess('xctl-lost-answer');

const nodeDoc = (name: string) => `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: ${name}\nspec: {}\n`;

/** Names of the stored Nodes of a group. */
async function stored(group: string): Promise<string[]> {
  const prefix = `${lab.store.keys.objects('Node')}${group}-`;
  const r = await lab.etcd.client().kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), keys_only: true });
  return r.kvs.map((kv) => kv.key.toString().slice(prefix.length - group.length - 1)).sort();
}

/**
 * Runs xctl through a proxy that holds etcd's answers 300 ms; once a watch sees the
 * transaction committed (`<group>-0` put or deleted), the proxy drops every connection and
 * refuses new ones: the answer held in it is lost, and etcd cannot be reached from then on.
 */
async function committedThenCut(args: string[], group: string, event: 'put' | 'delete'): Promise<XctlRun & { cut: boolean }> {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: lab.etcd.members[0].clientPort }, { replyHoldMs: 300 });
  const watcher = await lab.etcd.client().watch().key(lab.store.keys.object('Node', `${group}-0`)).create();
  let cut = false;
  const cutOnce = () => { if (!cut) { cut = true; proxy.cut(); } };
  if (event === 'put') watcher.on('put', cutOnce); else watcher.on('delete', cutOnce);
  try {
    return { ...await lab.xctl(args, { endpoints: proxy.endpoint }), cut };
  } finally {
    await watcher.cancel();
    await proxy.close();
  }
}

describe('xctl apply or delete -f of one transaction whose answer is lost, etcd then gone', () => {
  it('says the apply is all or nothing, that whether it was written is unknown, and that the same apply converges', async () => {
    const f = lab.file('one-txn.yaml', ['one-0', 'one-1', 'one-2'].map(nodeDoc).join('---\n'));
    const r = await committedThenCut(['apply', '-f', f], 'one', 'put');
    expect(r.cut).toBe(true);
    // the transaction committed: its answer was what got lost
    expect(await stored('one')).toEqual(['one-0', 'one-1', 'one-2']);
    expect(r).toMatchObject({ code: 5, out: '' });
    expect(r.err).toMatch(/^error: cannot reach etcd/);
    expect(r.err).toContain('The apply is one transaction, all or nothing: it was sent and its answer lost, so whether etcd wrote it is unknown. ' +
      'Re-running the same apply converges: it writes the objects if this one did not, and leaves them unchanged if it did.\n');
    const again = await lab.xctl(['apply', '-f', f]);
    expect(again).toMatchObject({ code: 0, err: '' });
    expect(again.out).toBe('node/one-0 unchanged\nnode/one-1 unchanged\nnode/one-2 unchanged\n');
  });

  it('delete -f: says the delete is all or nothing, that whether it happened is unknown, and that the same delete converges', async () => {
    const f = lab.file('one-del.yaml', ['del-0', 'del-1', 'del-2'].map(nodeDoc).join('---\n'));
    expect(await lab.xctl(['apply', '-f', f])).toMatchObject({ code: 0 });
    expect(await stored('del')).toEqual(['del-0', 'del-1', 'del-2']);
    const r = await committedThenCut(['delete', '-f', f], 'del', 'delete');
    expect(r.cut).toBe(true);
    expect(await stored('del')).toEqual([]);
    expect(r).toMatchObject({ code: 5, out: '' });
    expect(r.err).toMatch(/^error: cannot reach etcd/);
    expect(r.err).toContain('The delete is one transaction, all or nothing: it was sent and its answer lost, so whether etcd wrote it is unknown. ' +
      'Re-running the same delete converges (add --ignore-not-found so that what is already gone is not an error).\n');
    const again = await lab.xctl(['delete', '-f', f, '--ignore-not-found']);
    expect(again).toMatchObject({ code: 0, out: '', err: '' });
  });
});

/** A transaction that puts or deletes (the store's reads are transactions too). */
const writes = (req: TxnRequest) => !!req.success?.some((op) => op.request_put || op.request_delete_range);

/**
 * Runs xctl through a proxy that drops every connection and refuses new ones once xctl's read
 * of what it writes over (its first transaction) has answered, and that xctl's client has seen
 * the connection go (a read of its own failed) before xctl sends the write: etcd was gone
 * before the write was sent, and no attempt of it reached etcd. `after`: the transaction whose
 * answer comes before the cut (any: the first); `maxTxnOps`: the store's, to split a small batch.
 */
async function goneBeforeTheWrite(args: string[], after: (req: TxnRequest) => boolean = () => true, maxTxnOps?: number): Promise<XctlRun & { cut: boolean; written: boolean }> {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: lab.etcd.members[0].clientPort });
  const client = createEtcdClient({ endpoints: [proxy.endpoint] });
  const store = createEtcdStore(client);
  if (maxTxnOps) store.limits = { ...store.limits, maxTxnOps };
  const session = vi.spyOn(Session.prototype, 'store').mockReturnValue(store);
  let cut = false;
  let written = false;
  try {
    const r = await throughTxnHook(client, async (req, send) => {
      if (writes(req)) written = true;
      const answer = await send(req);
      if (!cut && after(req)) {
        cut = true;
        proxy.cut();
        await client.get('/gone-before-the-write').string().catch(() => undefined);
      }
      return answer;
    }, () => lab.xctl(args));
    return { ...r, cut, written };
  } finally {
    session.mockRestore();
    client.close();
    await proxy.close();
  }
}

describe('xctl apply or delete -f of one transaction that etcd was gone before it was sent', () => {
  it('apply: says etcd cannot be reached, not that whether it was written is unknown; nothing is written', async () => {
    const f = lab.file('never-sent.yaml', ['unsent-0', 'unsent-1'].map(nodeDoc).join('---\n'));
    const r = await goneBeforeTheWrite(['apply', '-f', f]);
    expect(r).toMatchObject({ cut: true, written: true });
    expect(await stored('unsent')).toEqual([]);
    expect(r).toMatchObject({ code: 5, out: '' });
    expect(r.err).toMatch(/^error: cannot reach etcd/);
    expect(r.err).not.toContain('whether etcd wrote it is unknown');
  });

  it('a split apply: the transaction after the committed one, never sent, is not said to have been in flight', async () => {
    const f = lab.file('split-unsent.yaml', ['split-0', 'split-1', 'split-2', 'split-3'].map(nodeDoc).join('---\n'));
    // gone once the first transaction of writes has answered: the second is never sent
    const r = await goneBeforeTheWrite(['apply', '-f', f], writes, 2);
    expect(r).toMatchObject({ cut: true, written: true });
    expect(await stored('split')).toEqual(['split-0', 'split-1']);
    expect(r).toMatchObject({ code: 5, out: '' });
    expect(r.err).toMatch(/^error: apply stopped after 1 of 2 transactions: 2 of 4 objects written .*: cannot reach etcd/);
    expect(r.err).not.toContain('was in flight');
  });
});
