// Two xctl applying the same large manifest at once: the first transaction of one is refused
// because the other committed the same objects first, and the replan finds them as wanted. Only
// what this apply committed counts in its summary and in how far it got: the objects the other
// created carry the other's uids, so this apply's transaction (all or nothing) did not commit.
// And a create another writer overtook, of a manifest that carries a uid, is refused naming it.
// A label of several transactions whose later one meets another writer's change reads again and goes on.
import { describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { beforeEveryClientsTxn, type TxnRequest } from '../harness/two-writers.js';
import { xctlInProcess, type XctlRun as Run } from '../harness/xctl-in-process.js';
import { prefixEnd } from '../../pkg/etcd/range.js';
import { obj } from './helpers.js';
import { LABEL_REREAD_RETRY } from '../../pkg/runtime/backoff.js';
import { equalitySelector } from '../../pkg/api/labels.js';

const lab = xctlInProcess('xctl-race');
const xctl = (args: string[], endpoints?: string) => lab.xctl(args, { endpoints });
let reader: Etcd3 | undefined;

const nodeDoc = (name: string) => `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: ${name}\n  labels: {batch: big}\nspec: {}\n`;
/** Documents `<group>-from` .. `<group>-(to-1)` of one manifest, in a file of their own. */
function manifest(group: string, to: number, from = 0): string {
  return lab.file(`${group}-${from}-${to}.yaml`, Array.from({ length: to - from }, (_, i) => nodeDoc(`${group}-${from + i}`)).join('---\n'));
}

/** Stored Nodes of a group: name -> uid. */
async function storedUids(group: string): Promise<Map<string, string>> {
  const prefix = `${lab.store.keys.objects('Node')}${group}-`;
  const r = await (reader ??= lab.etcd.client()).kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) });
  return new Map(r.kvs.map((kv) => { const o = JSON.parse(kv.value.toString()); return [o.metadata.name, o.metadata.uid]; }));
}

/** Whether a transaction writes the Node `name` (xctl's own, not its reads). */
const puts = (req: TxnRequest, name: string) => (req.success ?? []).some((op) => op.request_put?.key?.toString() === lab.store.keys.object('Node', name));

/**
 * A 600-Node apply of `group` whose Node `<group>-0` is stored with another label (the apply
 * configures it, 127 more are created in transaction 1): right before its first transaction,
 * another xctl applies the same first 128 documents and commits them.
 */
async function raceFirstTransaction(group: string, endpoints?: string, then?: (req: TxnRequest) => void): Promise<{ r: Run; other?: Run }> {
  await lab.store.applyAll([obj('Node', `${group}-0`, {}, { batch: 'old' })]);
  let other: Promise<Run> | undefined;
  const undo = beforeEveryClientsTxn(async (req) => {
    // the other's own transactions pass: it is started once
    if (!other && puts(req, `${group}-0`)) await (other = xctl(['apply', '-f', manifest(group, 128)]));
    else then?.(req);
  });
  try {
    const r = await xctl(['apply', '-f', manifest(group, 600)], endpoints);
    return { r, other: await other };
  } finally {
    undo();
  }
}

describe('two xctl applying the same manifest of several transactions at once', () => {
  it('the one whose first transaction the other made needless counts only the transactions it committed', async () => {
    const { r, other } = await raceFirstTransaction('race');
    expect(other).toMatchObject({ code: 0, err: '' });
    const made = await storedUids('race');
    expect(r.code).toBe(0);
    expect(r.err).toBe('600 objects applied in 4 transactions: 472 created, 1 configured, 127 unchanged\n');
    expect(r.out).toContain('node/race-1 unchanged\n');
    // what the other created stays the other's
    expect(made.size).toBe(600);
    expect(other!.out).toContain('node/race-1 created\n');
  }, 60_000);

  it('stopped by etcd going away, it does not say that it wrote what the other wrote', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: lab.etcd.members[0].clientPort });
    let cut = false;
    try {
      const { r, other } = await raceFirstTransaction('racecut', proxy.endpoint, (req) => {
        if (!cut && puts(req, 'racecut-128')) { cut = true; proxy.cut(); }
      });
      expect(other).toMatchObject({ code: 0 });
      expect(cut).toBe(true);
      expect(r).toMatchObject({ code: 5, out: '' });
      expect(r.err).toContain('error: apply stopped after 0 of 4 transactions: 0 of 600 objects written ' +
        '(the first 128 in manifest order are done, up to and including node/racecut-127): cannot reach etcd');
      expect(r.err).toContain('Transaction 1 was in flight: etcd may have written it too. Re-running the same apply converges');
    } finally {
      await proxy.close();
    }
    expect((await storedUids('racecut')).size).toBe(128);
    const again = await xctl(['apply', '-f', manifest('racecut', 600)]);
    expect(again).toMatchObject({ code: 0, err: '600 objects applied in 4 transactions: 472 created, 0 configured, 128 unchanged\n' });
  }, 60_000);
});

describe('an apply whose create another writer overtakes, of a manifest that carries a uid', () => {
  it('is refused naming the uid the manifest carries, not one the user never saw', async () => {
    const manifestUid = '5a0c1e2d-0000-4000-8000-000000000001';
    const f = lab.file('uidrace.yaml', nodeDoc('uidrace').replace('  name: uidrace\n', `  name: uidrace\n  uid: ${manifestUid}\n`));
    let made: string | undefined;
    // right before xctl's create, another writer creates the Node
    const undo = beforeEveryClientsTxn(async (req) => {
      if (made === undefined && puts(req, 'uidrace')) { made = ''; [{ object: { metadata: { uid: made } } }] = await lab.store.applyAll([obj('Node', 'uidrace', {})]); }
    });
    let r: Run;
    try {
      r = await xctl(['apply', '-f', f]);
    } finally {
      undo();
    }
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.code).toBe(3);
    expect(r.err).toBe(`error: conflict: ${f}:5: document 1 (node/uidrace): metadata.uid: the object was deleted and made again since it was read ` +
      `(uid ${manifestUid}; stored: ${made}); remove metadata.uid to apply to the object stored now\nnothing was written\n`);
  });
});

/**
 * 200 Nodes labelled `grp: <group>` (lr-000 ... lr-199, listed in that order: a label of them all
 * takes two transactions, 128 and 72); `edit` runs right before each of xctl's transactions that
 * writes `<group>-150`, of the second, and the other writer's own transactions pass.
 */
async function labelRacing(group: string, edit: () => Promise<unknown>, change = ['rack=r1'], labels: Record<string, string> = {}): Promise<Run> {
  const name = (i: number) => `${group}-${String(i).padStart(3, '0')}`;
  await lab.store.applyAll(Array.from({ length: 200 }, (_, i) => obj('Node', name(i), {}, { grp: group, ...labels })));
  let busy = false;
  const undo = beforeEveryClientsTxn(async (req) => {
    if (busy || !puts(req, name(150))) return;
    busy = true;
    try { await edit(); } finally { busy = false; }
  });
  try {
    return await xctl(['label', 'node', '-l', `grp=${group}`, ...change]);
  } finally {
    undo();
  }
}

const labelsOf = async (group: string) => new Map((await lab.store.list('Node', { labelSelector: equalitySelector({ grp: group }) })).items.map((o) => [o.metadata.name, o.metadata.labels ?? {}]));

describe('an xctl label of two transactions whose second meets another writer\'s change', () => {
  it('reads the objects not written yet again and goes on: every object labeled, exit 0, the other\'s change kept', async () => {
    let edits = 0;
    const r = await labelRacing('lr', async () => { if (++edits === 1) await lab.store.applyAll([obj('Node', 'lr-150', {}, { grp: 'lr', other: 'yes' })]); });
    expect(edits).toBeGreaterThanOrEqual(1);
    expect(r).toMatchObject({ code: 0, err: '' });
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(200);
    expect(lines.every((l) => /^node\/lr-\d{3} labeled$/.test(l))).toBe(true);
    const labels = await labelsOf('lr');
    expect(labels.size).toBe(200);
    expect([...labels.values()].every((l) => l.rack === 'r1')).toBe(true);
    expect(labels.get('lr-150')).toEqual({ grp: 'lr', other: 'yes', rack: 'r1' });
  }, 60_000);

  it('gives up after its tries against a writer that changes the object each time, saying precisely what it wrote', async () => {
    let edits = 0;
    const r = await labelRacing('lg', () => lab.store.applyAll([obj('Node', 'lg-150', {}, { grp: 'lg', n: String(++edits) })]));
    expect(edits).toBe(LABEL_REREAD_RETRY.maxAttempts);
    expect(r).toMatchObject({ code: 3, out: '' });
    expect(r.err).toMatch(/^error: label stopped after 1 of 2 transactions: 128 of 200 objects written \(the first 128 in the order listed are done, up to and including node\/lg-127\): /);
    expect(r.err).toContain('Re-running the same label converges');
    const labels = await labelsOf('lg');
    expect([...labels].filter(([, l]) => l.rack === 'r1').map(([n]) => n).sort()).toEqual(Array.from({ length: 128 }, (_, i) => `lg-${String(i).padStart(3, '0')}`));
    expect(labels.get('lg-150')).toEqual({ grp: 'lg', n: String(edits) });
  }, 60_000);
});

describe('an xctl label of two transactions that takes its Nodes out of a network, whose second meets another writer\'s change', () => {
  it('warns of every Node leaving, those of the transaction written before the change too', async () => {
    await lab.store.applyAll([obj('ClusterNetwork', 'lw-net', { cidr: '10.82.0.0/16', hostPrefix: 24, nodeSelector: { matchLabels: { lwsel: 'yes' } } })]);
    let edits = 0;
    const r = await labelRacing('lw', async () => { if (++edits === 1) await lab.store.applyAll([obj('Node', 'lw-150', {}, { grp: 'lw', lwsel: 'yes', other: 'yes' })]); }, ['lwsel-'], { lwsel: 'yes' });
    expect(edits).toBeGreaterThanOrEqual(1);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n').filter((l) => / unlabeled$/.test(l))).toHaveLength(200);
    const warned = r.err.split('\n').filter((l) => l.startsWith('Warning: ')).map((l) => /^Warning: node\/(lw-\d{3}) no longer matches ClusterNetwork lw-net's nodeSelector/.exec(l)?.[1]);
    expect(warned.sort()).toEqual(Array.from({ length: 200 }, (_, i) => `lw-${String(i).padStart(3, '0')}`));
  }, 60_000);
});

describe('an xctl label without --overwrite whose second transaction meets the label set to another value', () => {
  it('refuses it, keeping the other\'s value, and says that the first transaction was written, not that nothing was labeled', async () => {
    let edits = 0;
    const r = await labelRacing('lo', async () => { if (++edits === 1) await lab.store.applyAll([obj('Node', 'lo-150', {}, { grp: 'lo', rack: 'r2' })]); });
    expect(r).toMatchObject({ code: 1, out: '' });
    expect(r.err).toMatch(/^error: label stopped after 1 of 2 transactions: 128 of 200 objects written \(the first 128 in the order listed are done, up to and including node\/lo-127\): node\/lo-150: "rack" already has a value \(r2\), and --overwrite is false\n/);
    // 128 were labeled: "nothing was labeled" would be false, and the same label again refuses again
    expect(r.err).not.toContain('nothing was labeled');
    expect(r.err).not.toContain('converges');
    expect(r.err).toContain('--overwrite');
    const labels = await labelsOf('lo');
    expect([...labels].filter(([, l]) => l.rack === 'r1').map(([n]) => n).sort()).toEqual(Array.from({ length: 128 }, (_, i) => `lo-${String(i).padStart(3, '0')}`));
    expect(labels.get('lo-150')).toEqual({ grp: 'lo', rack: 'r2' });
    // run again, it refuses before writing anything: there "nothing was labeled" is true
    const again = await xctl(['label', 'node', '-l', 'grp=lo', 'rack=r1']);
    expect(again).toMatchObject({ code: 1, out: '', err: 'error: node/lo-150: "rack" already has a value (r2), and --overwrite is false; nothing was labeled\n' });
  }, 60_000);
});
