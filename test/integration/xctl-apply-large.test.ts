// Applies and deletes of any size against a stock etcd (128 ops per transaction, 1.5 MiB per
// request): what fits one transaction is all or nothing, a larger batch goes in order in
// transactions that fit, with a progress line on a terminal and a summary; a failure midway
// says how far it got, and the same command again converges.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { xctlInProcess, type XctlOptions, type XctlRun as Run } from '../harness/xctl-in-process.js';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { PartialWriteError, writeSteps } from '../../pkg/store/txn-writer.js';
import { planWrite } from '../../pkg/store/write-plan.js';
import { TxnBudget } from '../../pkg/etcd/limits.js';
import { prefixEnd } from '../../pkg/etcd/range.js';
import { obj } from './helpers.js';

const lab = xctlInProcess('xctl-large');
const xctl = (args: string[], opts: XctlOptions = {}) => lab.xctl(args, opts);

const V = 'apiVersion: xnet.io/v1alpha1';
const nodeDoc = (name: string, extra = '') => `${V}\nkind: Node\nmetadata:\n  name: ${name}\n  labels: {batch: big${extra}}\nspec: {}\n`;
/** n Node documents in one file: `<group>-0` .. `<group>-(n-1)`, in that order. */
function manifest(group: string, n: number, doc = (name: string) => nodeDoc(name)): string {
  const p = join(lab.dir, `${group}.yaml`);
  writeFileSync(p, Array.from({ length: n }, (_, i) => doc(`${group}-${i}`)).join('---\n'));
  return p;
}

/** Stored Nodes of a group: name -> {uid, createRevision}. */
async function stored(group: string): Promise<Map<string, { uid: string; created: number }>> {
  const prefix = `${lab.store.keys.objects('Node')}${group}-`;
  const r = await lab.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) });
  return new Map(r.kvs.map((kv) => {
    const o = JSON.parse(kv.value.toString());
    return [o.metadata.name, { uid: o.metadata.uid, created: Number(kv.create_revision) }];
  }));
}

const lines = (s: string) => s.trim().split('\n');
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('the test etcd is a stock etcd', () => {
  it('refuses 129 operations and a request over 1.5 MiB; what TxnBudget accepts at its edge is accepted', async () => {
    const put = (k: string, v: string) => ({ request_put: { key: Buffer.from(k), value: Buffer.from(v) } });
    const ops = Array.from({ length: 129 }, (_, i) => put(`/limits/ops/${i}`, 'x'));
    await expect(lab.client.kv.txn({ compare: [], success: ops, failure: [] })).rejects.toThrow(/too many operations in txn request/);
    await expect(lab.client.kv.txn({ compare: [], success: [put('/limits/big', 'x'.repeat(1600 * 1024))], failure: [] })).rejects.toThrow(/request is too large/);
    // the largest single value the estimate lets through, and 127 more small puts: etcd takes it
    const small = Array.from({ length: 127 }, (_, i) => put(`/limits/edge/${i}`, 'y'.repeat(100)));
    const budget = new TxnBudget();
    for (const op of small) budget.op(op.request_put.key, op.request_put.value);
    const room = budget.limits.maxRequestBytes - budget.clone().op('/limits/edge/big', '').bytes;
    expect(budget.clone().op('/limits/edge/big', 'z'.repeat(room)).fits()).toBe(true);
    expect(budget.clone().op('/limits/edge/big', 'z'.repeat(room + 1)).fits()).toBe(false);
    const res = await lab.client.kv.txn({ compare: [], success: [...small, put('/limits/edge/big', 'z'.repeat(room))], failure: [] });
    expect(res.succeeded).toBe(true);
  });
});

describe('xctl apply of any size', () => {
  it('writes 151 objects in 2 transactions, in order, with a summary; a re-apply configures and then leaves them', async () => {
    const f = manifest('n151', 151);
    const r = await xctl(['apply', '-f', f]);
    expect(r.code).toBe(0);
    expect(lines(r.out)).toHaveLength(151);
    expect(lines(r.out).every((l, i) => l === `node/n151-${i} created`)).toBe(true);
    expect(r.err).toBe('151 objects applied in 2 transactions: 151 created, 0 configured, 0 unchanged\n');
    const s = await stored('n151');
    expect(s.size).toBe(151);
    // in manifest order: no object was written before one that comes earlier
    const created = Array.from({ length: 151 }, (_, i) => s.get(`n151-${i}`)!.created);
    expect(created).toEqual([...created].sort((a, b) => a - b));
    expect(new Set(created).size).toBe(2);

    // 150 changed, the last one kept: 150 writes still need two transactions
    writeFileSync(f, Array.from({ length: 151 }, (_, i) => nodeDoc(`n151-${i}`, i < 150 ? ', round: two' : '')).join('---\n'));
    const again = await xctl(['apply', '-f', f]);
    expect(again.code).toBe(0);
    expect(again.err).toBe('151 objects applied in 2 transactions: 0 created, 150 configured, 1 unchanged\n');
    expect(lines(again.out).at(-1)).toBe('node/n151-150 unchanged');
    const rev = await lab.store.revision();
    const same = await xctl(['apply', '-f', f]);
    expect(same.code).toBe(0);
    expect(lines(same.out).every((l) => l.endsWith(' unchanged'))).toBe(true);
    expect(same.err).toBe('');
    expect(await lab.store.revision()).toBe(rev);
    const after = await stored('n151');
    expect([...after.values()].map((v) => v.uid)).toEqual([...s.values()].map((v) => v.uid));
  });

  it('writes 600 objects in 5 transactions, drawing a progress line on a terminal only', async () => {
    const f = manifest('n600', 600);
    const tty = await xctl(['apply', '-f', f], { tty: true });
    expect(tty.code).toBe(0);
    expect(tty.err).toContain('\r\x1b[2Kapplying 0/600 objects, 0/5 transactions');
    expect(tty.err).toContain('\r\x1b[2Kapplying 256/600 objects, 2/5 transactions');
    expect(tty.err).toContain('\r\x1b[2Kapplying 600/600 objects, 5/5 transactions');
    expect(tty.err.endsWith('\r\x1b[2K600 objects applied in 5 transactions: 600 created, 0 configured, 0 unchanged\n')).toBe(true);
    expect((await stored('n600')).size).toBe(600);
    const dry = await xctl(['apply', '--dry-run', '-f', manifest('n600dry', 600)]);
    expect(dry.err).toBe('600 objects would be applied in 5 transactions: 600 created, 0 configured, 0 unchanged (dry run)\n');
    expect((await stored('n600dry')).size).toBe(0);
  });

  it('writes nothing when one document of 600 is invalid', async () => {
    const f = manifest('bad600', 600, (name) => nodeDoc(name).replace('spec: {}', name === 'bad600-450' ? 'spec: {address: 10.0.0.300}' : 'spec: {}'));
    const rev = await lab.store.revision();
    const r = await xctl(['apply', '-f', f]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad600\.yaml:\d+: document 451 \(node\/bad600-450\): spec\.address/);
    expect(r.err).toContain('nothing was written');
    expect(await lab.store.revision()).toBe(rev);
  });

  it('refuses an object too large for one etcd request, naming where it is, writing nothing of a batch of several transactions', async () => {
    // 200 small Nodes (two transactions' worth) and then one with a 1.6 MiB annotation: document 201
    const huge = `${V}\nkind: Node\nmetadata:\n  name: huge-200\n  annotations: {blob: ${'b'.repeat(1600 * 1024)}}\nspec: {}\n`;
    const f = manifest('huge', 201, (name) => (name === 'huge-200' ? huge : nodeDoc(name)));
    const line = 200 * 7 + 1;   // each Node document is 6 lines and a "---"
    const rev = await lab.store.revision();
    for (const args of [['apply', '-f', f], ['apply', '--dry-run', '-f', f]]) {
      const r = await xctl(args);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(new RegExp(`^error: invalid manifest: ${escapeRe(f)}:${line}: document 201 \\(node/huge-200\\): ` +
        'does not fit one etcd transaction \\(about \\d+ bytes > --max-request-bytes 1572864\\)\nnothing was written\n$'));
    }
    expect(await lab.store.revision()).toBe(rev);
    expect((await stored('huge')).size).toBe(0);
  });

  it('stops with etcd gone after the first transaction, says how far it got, and the same apply converges', async () => {
    const f = manifest('cut', 600);
    // requests wait 300 ms in the proxy: once the first transaction is seen committed, the
    // second is still held there and is dropped by the cut
    const r = await xctlThroughSlowProxy(['apply', '-f', f], 'cut-', (proxy) => { setTimeout(() => proxy.cut(), 100); });
    expect(r.code).toBe(5);
    expect(r.out).toBe('');
    expect(r.err).toContain('error: apply stopped after 1 of 5 transactions: 128 of 600 objects written (the first 128 in manifest order are done, up to and including node/cut-127)');
    expect(r.err).toContain('Re-running the same apply converges');
    const half = await stored('cut');
    expect([...half.keys()].sort()).toEqual(Array.from({ length: 128 }, (_, i) => `cut-${i}`).sort());

    const again = await xctl(['apply', '-f', f]);
    expect(again.code).toBe(0);
    expect(again.err).toBe('600 objects applied in 4 transactions: 472 created, 0 configured, 128 unchanged\n');
    const all = await stored('cut');
    expect(all.size).toBe(600);
    for (const [name, v] of half) expect(all.get(name)!.uid).toBe(v.uid);
  }, 60_000);
});


describe('xctl label of objects that take several transactions', () => {
  it('stops with etcd gone after the first transaction, says how far it got, and the same label converges', async () => {
    expect((await xctl(['apply', '-f', manifest('lbl', 200, (name) => nodeDoc(name, ', grp: lbl'))])).code).toBe(0);
    const args = ['label', 'node', '-l', 'grp=lbl', 'rack=r1'];
    const r = await xctlThroughSlowProxy(args, 'lbl-', (proxy) => { setTimeout(() => proxy.cut(), 100); });
    expect(r.code).toBe(5);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^error: label stopped after 1 of 2 transactions: 128 of 200 objects written \(the first 128 in the order listed are done, up to and including node\/lbl-\d+\): cannot reach etcd: /);
    expect(r.err).toContain('Re-running the same label converges');
    const labeled = async () => Object.entries(await lab.client.getAll().prefix(`${lab.store.keys.objects('Node')}lbl-`).strings())
      .filter(([, v]) => JSON.parse(v).metadata.labels.rack === 'r1').length;
    expect(await labeled()).toBe(128);

    const again = await xctl(args);
    expect(again.code).toBe(0);
    expect(lines(again.out).filter((l) => l.endsWith(' not labeled'))).toHaveLength(128);
    expect(await labeled()).toBe(200);
  }, 90_000);
});
/**
 * Runs xctl `args` through a proxy that holds each request 300 ms, calling `onFirstCommit` when
 * the first Node named `<prefix>...` is seen committed: the next transaction is still held then.
 */
async function xctlThroughSlowProxy(args: string[], prefix: string, onFirstCommit: (proxy: TcpProxy) => void): Promise<Run> {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: lab.etcd.members[0].clientPort }, { holdMs: 300 });
  const watcher = await lab.client.watch().prefix(`${lab.store.keys.objects('Node')}${prefix}`).create();
  watcher.once('put', () => onFirstCommit(proxy));
  try {
    return await xctl(args, { endpoints: proxy.endpoint });
  } finally {
    await watcher.cancel();
    await proxy.close();
  }
}

describe('xctl apply of a stale resourceVersion across transactions', () => {
  it('keeps the transactions already committed and names the stale object by file, document and line', async () => {
    // rvp-200 is stored; the manifest carries its resourceVersion and changes it. The initial
    // plan finds that resourceVersion current; once the first of 3 transactions is committed,
    // another writer changes rvp-200, so the second transaction (rvp-128..255) fails its compare,
    // is planned again, and now rvp-200's resourceVersion is stale.
    await lab.store.applyAll([obj('Node', 'rvp-200', {}, { batch: 'before' })]);
    const rv = (await lab.store.get('Node', 'rvp-200'))!.metadata.resourceVersion!;
    const withRv = (name: string) => nodeDoc(name).replace(`  name: ${name}\n`, `  name: ${name}\n  resourceVersion: "${rv}"\n`);
    const f = manifest('rvp', 300, (name) => (name === 'rvp-200' ? withRv(name) : nodeDoc(name)));
    const line = 200 * 7 + 5;   // document 201: its 5th line is resourceVersion
    const r = await xctlThroughSlowProxy(['apply', '-f', f], 'rvp-', () => { void lab.store.applyAll([obj('Node', 'rvp-200', {}, { batch: 'someone-else' })]); });
    expect(r.code).toBe(3);
    expect(r.out).toBe('');
    expect(r.err).toMatch(new RegExp('^error: apply stopped after 1 of 3 transactions: 128 of 300 objects written ' +
      '\\(the first 128 in manifest order are done, up to and including node/rvp-127\\): ' +
      `conflict: ${escapeRe(f)}:${line}: document 201 \\(node/rvp-200\\): metadata\\.resourceVersion: the object has been modified since resourceVersion ${rv} \\(stored: \\d+\\); get it again and reapply your change\n` +
      'What was written stays\\. '));
    // the same apply again would be refused the same way: the hint says what makes it converge
    expect(r.err).toContain('What was written stays. Re-running converges once node/rvp-200 in the manifest carries its current resourceVersion (or none); what is already applied is left unchanged.\n');
    // what the first transaction wrote stays; the rest was not written
    const s = await stored('rvp');
    expect([...s.keys()].sort()).toEqual([...Array.from({ length: 128 }, (_, i) => `rvp-${i}`), 'rvp-200'].sort());
    expect((await lab.store.get('Node', 'rvp-200'))!.metadata.labels).toEqual({ batch: 'someone-else' });
  }, 60_000);
});

describe('EtcdStore.applyAll across transactions', () => {
  it('a concurrent conflicting write in a later transaction stops it there; the same apply then converges', async () => {
    const conflictStore = createEtcdStore(lab.etcd.client());
    const nodes = Array.from({ length: 300 }, (_, i) => obj('Node', `race-${i}`, {}, { batch: 'race' }));
    await conflictStore.create({ ...nodes[299], metadata: { ...nodes[299].metadata, labels: { batch: 'before' }, finalizers: ['test/hold'] } });
    // right after the first write transaction, another writer starts deleting race-299 (it has a
    // finalizer, so it stays, marked): the transaction that changes race-299 can only conflict
    const kv = (conflictStore.client as Etcd3).kv;
    const txn = kv.txn.bind(kv);
    let writes = 0;
    kv.txn = async (req) => {
      const res = await txn(req);
      if (req.success?.some((op) => op.request_put) && res.succeeded && ++writes === 1) await lab.store.delete('Node', 'race-299');
      return res;
    };
    const err = await conflictStore.applyAll(nodes).catch((e) => e);
    expect(err).toBeInstanceOf(PartialWriteError);
    expect(err.progress).toMatchObject({ total: 300, transactions: 2, planned: 3, written: 256, done: 256 });
    expect(err.message).toMatch(/Node "race-299": it is being deleted \(it waits for its finalizers: test\/hold\); apply it again once it is gone: xctl wait node race-299 --for delete/);
    expect((await stored('race')).size).toBe(256 + 1);
    kv.txn = txn;
    // the user removes the finalizer (as a controller would) and the object goes; the same apply converges
    await lab.store.update({ ...(await lab.store.get('Node', 'race-299'))!, metadata: { ...(await lab.store.get('Node', 'race-299'))!.metadata, finalizers: [] } });
    const changes = await lab.store.applyAll(nodes);
    expect(changes.filter((c) => c.action === 'unchanged')).toHaveLength(256);
    expect(changes.filter((c) => c.action === 'created')).toHaveLength(44);
    expect((await stored('race')).size).toBe(300);
  });
});

describe('writeSteps: an object that only outgrows a transaction when planned again', () => {
  it('after a commit, says how far it got and does not claim that nothing was written', async () => {
    const limits = { maxTxnOps: 1, maxRequestBytes: 8192 };
    const plan = (name: string, note = '') => planWrite(lab.store.keys, obj('Node', name, {}, note ? { note } : undefined), undefined, undefined, 'apply');
    const names = ['grow-0', 'grow-1', 'grow-2'];
    let committed = 0;
    const writerClient = lab.etcd.client();
    const kv = writerClient.kv;
    const txn = kv.txn.bind(kv);
    // after the first commit another writer creates grow-1: its create-if-absent fails, and the
    // plan made again (here, from a writer that grew it) no longer fits one transaction
    kv.txn = async (req) => {
      const res = await txn(req);
      if (res.succeeded && ++committed === 1) await lab.store.create(obj('Node', 'grow-1', {}));
      return res;
    };
    try {
      const err = await writeSteps(writerClient, names.map((n) => plan(n)), {
        limits, retry: { initialMs: 1, maxMs: 1, factor: 1, jitter: 0, maxAttempts: 3 },
        replan: async () => [plan('grow-1', 'x'.repeat(8000))],
        conflict: () => new Error('kept conflicting'),
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PartialWriteError);
      expect((err as Error).message).toMatch(/^stopped after 1 of 3 transactions \(1 of 3 objects done, 1 written\): Node "grow-1" does not fit one etcd transaction \(about \d+ bytes > --max-request-bytes 8192\)$/);
      expect((err as Error).message).not.toContain('nothing was written');
    } finally {
      kv.txn = txn;
      writerClient.close();
    }
  });
});

describe('xctl delete -f of any size', () => {
  // each Node's delete is 4 operations (the object, its controller status key, its agent's
  // report, which would make the controller re-create it, and its agent's observed-state
  // report, which verify would otherwise show for a Node made again): 32 per transaction
  it('deletes 600 objects in 19 transactions with a summary; again, missing ones exit 4 unless --ignore-not-found', async () => {
    const f = manifest('del600', 600);
    expect((await xctl(['apply', '-f', f])).code).toBe(0);
    const r = await xctl(['delete', '-f', f], { tty: true });
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual(Array.from({ length: 600 }, (_, i) => `node/del600-${i} deleted`));
    expect(r.err).toContain('\r\x1b[2Kdeleting 288/600 objects, 9/19 transactions');
    expect(r.err.endsWith('\r\x1b[2K600 objects in 19 transactions: 600 deleted, 0 not found\n')).toBe(true);
    expect((await stored('del600')).size).toBe(0);
    const again = await xctl(['delete', '-f', f]);
    expect(again.code).toBe(4);
    expect(again.out).toBe('');
    expect(lines(again.err)).toHaveLength(600);
    const quiet = await xctl(['delete', '-f', f, '--ignore-not-found']);
    expect(quiet).toMatchObject({ code: 0, out: '', err: '' });
  });
});

/**
 * Applies `file` through a proxy that holds etcd's answers 300 ms, so that a watch seeing a
 * Node of the batch committed can still lose that transaction's answer: `onCommit` is called
 * with each committed Node's name.
 */
async function applyLosingReplies(file: string, prefix: string, onCommit: (name: string, proxy: TcpProxy) => void): Promise<Run & { connections: number }> {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: lab.etcd.members[0].clientPort }, { replyHoldMs: 300 });
  const watcher = await lab.client.watch().prefix(`${lab.store.keys.objects('Node')}${prefix}`).create();
  watcher.on('put', (kv) => onCommit(kv.key.toString().slice(lab.store.keys.objects('Node').length), proxy));
  try {
    return { ...await xctl(['apply', '-f', file], { endpoints: proxy.endpoint }), connections: proxy.accepted };
  } finally {
    await watcher.cancel();
    await proxy.close();
  }
}

describe('xctl apply of several transactions, one of whose answers is lost after etcd committed it', () => {
  it('counts that transaction in its summary', async () => {
    const f = manifest('lost1', 600);
    let faults = 0;
    // transaction 1 committed (its first Node is stored): its answer, held in the proxy, is lost;
    // the client sends it again, which fails its compares, and the apply finds it done
    const r = await applyLosingReplies(f, 'lost1-', (name, proxy) => { if (name === 'lost1-0' && !faults++) void proxy.loseReplies(300); });
    expect(faults).toBe(1);
    expect(r.connections, 'the answer was lost: xctl connected again').toBeGreaterThan(1);
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual(Array.from({ length: 600 }, (_, i) => `node/lost1-${i} created`));
    expect(r.err).toBe('600 objects applied in 5 transactions: 600 created, 0 configured, 0 unchanged\n');
    expect((await stored('lost1')).size).toBe(600);
  }, 60_000);

  it('of the first transaction, etcd gone from then on: says that it may have been written, and the same apply converges', async () => {
    const f = manifest('lost0', 600);
    let cut = false;
    const r = await applyLosingReplies(f, 'lost0-', (name, proxy) => { if (name === 'lost0-0' && !cut) { cut = true; proxy.cut(); } });
    expect(cut).toBe(true);
    expect(r).toMatchObject({ code: 5, out: '' });
    expect(r.err).toContain('error: apply stopped after 0 of 5 transactions: 0 of 600 objects written: cannot reach etcd');
    expect(r.err).toContain('Transaction 1 was in flight: etcd may have written it too. Re-running the same apply converges');
    expect((await stored('lost0')).size).toBe(128);
    const again = await xctl(['apply', '-f', f]);
    expect(again).toMatchObject({ code: 0, err: '600 objects applied in 4 transactions: 472 created, 0 configured, 128 unchanged\n' });
    expect((await stored('lost0')).size).toBe(600);
  }, 60_000);

  it('says what it wrote when etcd then goes away, and the same apply converges', async () => {
    const f = manifest('lost2', 600);
    const faults: string[] = [];
    const r = await applyLosingReplies(f, 'lost2-', (name, proxy) => {
      if (name === 'lost2-0' && !faults.includes(name)) { faults.push(name); void proxy.loseReplies(300); }
      // transaction 2 committed: its answer is lost too, and etcd cannot be reached from then on
      if (name === 'lost2-128' && !faults.includes(name)) { faults.push(name); proxy.cut(); }
    });
    expect(faults).toEqual(['lost2-0', 'lost2-128']);
    expect(r.connections, 'the first answer was lost: xctl connected again').toBeGreaterThan(1);
    expect(r.code).toBe(5);
    expect(r.out).toBe('');
    expect(r.err).toContain('error: apply stopped after 1 of 5 transactions: 128 of 600 objects written (the first 128 in manifest order are done, up to and including node/lost2-127): cannot reach etcd');
    expect(r.err).toContain('Transaction 2 was in flight: etcd may have written it too. Re-running the same apply converges');
    const half = await stored('lost2');
    expect(half.size).toBe(256);

    const again = await xctl(['apply', '-f', f]);
    expect(again.code).toBe(0);
    expect(again.err).toBe('600 objects applied in 3 transactions: 344 created, 0 configured, 256 unchanged\n');
    const all = await stored('lost2');
    expect(all.size).toBe(600);
    for (const [name, v] of half) expect(all.get(name)).toEqual(v);
  }, 60_000);
});
