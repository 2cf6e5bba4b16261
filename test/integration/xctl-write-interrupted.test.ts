// Ctrl-C during an apply or delete of several transactions: xctl went on sending transactions
// for the second it gives a busy command, then exited 130 in the middle of its progress line,
// saying nothing of how far it got (the line showed 256 objects while 384 were written). It now
// sends no transaction after the interrupt and stops as a write that fails midway does: how
// many objects were written, and that the same command again converges; exit 130.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { xctlInProcess, type XctlOptions, type XctlRun as Run } from '../harness/xctl-in-process.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { Keys, prefixEnd } from '../../pkg/store/keys.js';

const lab = xctlInProcess('xctl-interrupted');
/** stderr a terminal, as a user's Ctrl-C comes from one */
const xctl = (args: string[], opts: XctlOptions = {}) => lab.xctl(args, { tty: true, ...opts });
const keys = new Keys();

/** Runs `args` through a proxy that holds each request 300 ms, as Ctrl-C is pressed when the first write of `group` commits. */
async function interrupted(args: string[], group: string, event: 'put' | 'delete'): Promise<Run> {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: lab.etcd.members[0].clientPort }, { holdMs: 300 });
  const watcher = await lab.client.watch().prefix(`${keys.objects('Node')}${group}-`).create();
  const ctrlC = new AbortController();
  watcher.once(event, () => ctrlC.abort());
  try {
    return await xctl(args, { endpoints: proxy.endpoint, signal: ctrlC.signal });
  } finally {
    await watcher.cancel();
    await proxy.close();
  }
}

async function stored(group: string): Promise<number> {
  const p = `${keys.objects('Node')}${group}-`;
  return Number((await lab.client.kv.range({ key: Buffer.from(p), range_end: prefixEnd(p), count_only: true })).count);
}
function manifest(group: string, n: number): string {
  const f = join(lab.dir, `${group}.yaml`);
  writeFileSync(f, Array.from({ length: n }, (_, i) => `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: ${group}-${i}\nspec: {}\n`).join('---\n'));
  return f;
}
/** "N of T objects written" (a delete: "deleted") in a stopped write's message */
const writtenIn = (err: string) => Number(err.match(/: (\d+) of \d+ objects (?:written|deleted)/)?.[1]);

describe('a write of several transactions interrupted (Ctrl-C)', () => {
  it('apply stops, says how many objects it wrote (as many as etcd holds), exit 130; the same apply converges', async () => {
    const f = manifest('int', 1000);
    const r = await interrupted(['apply', '-f', f], 'int', 'put');
    expect(r.code).toBe(130);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/\r\x1b\[2Kerror: apply stopped after \d of 8 transactions: \d+ of 1000 objects written \(the first \d+ in manifest order are done, up to and including node\/int-\d+\): interrupted\n/);
    expect(r.err).toContain('What was written stays. Re-running the same apply converges');
    const n = writtenIn(r.err);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(1000);
    expect(await stored('int')).toBe(n);

    const again = await xctl(['apply', '-f', f]);
    expect(again.code).toBe(0);
    expect(again.err).toMatch(new RegExp(`1000 objects applied in \\d transactions: ${1000 - n} created, 0 configured, ${n} unchanged\\n$`));
    expect(await stored('int')).toBe(1000);
  }, 60_000);

  it('delete -f says the same', async () => {
    const f = manifest('intdel', 300);
    expect((await xctl(['apply', '-f', f])).code).toBe(0);
    const r = await interrupted(['delete', '-f', f], 'intdel', 'delete');
    expect(r.code).toBe(130);
    expect(r.err).toMatch(/error: delete stopped after \d+ of 10 transactions: \d+ of 300 objects deleted .*: interrupted\nWhat was deleted stays\./);
    expect(await stored('intdel')).toBe(300 - writtenIn(r.err));
    expect((await xctl(['delete', '-f', f, '--ignore-not-found'])).code).toBe(0);
    expect(await stored('intdel')).toBe(0);
  }, 60_000);

  it('label says the same', async () => {
    const f = manifest('intlbl', 300);
    expect((await xctl(['apply', '-f', f])).code).toBe(0);
    const args = ['label', 'node', ...Array.from({ length: 300 }, (_, i) => `intlbl-${i}`), 'rack=r1'];
    const r = await interrupted(args, 'intlbl', 'put');
    expect(r.code).toBe(130);
    expect(r.err).toMatch(/error: label stopped after \d of 3 transactions: \d+ of 300 objects written .*: interrupted\n/);
    const labeled = Object.values(await lab.client.getAll().prefix(`${keys.objects('Node')}intlbl-`).strings()).filter((v) => JSON.parse(v).metadata.labels?.rack === 'r1');
    expect(labeled).toHaveLength(writtenIn(r.err));
  }, 60_000);
});

describe('Ctrl-C as the answer of a committed transaction is lost', () => {
  // the answer of transaction 1 is lost after etcd committed it, and Ctrl-C is pressed as xctl
  // connects again: the writer sends it again, finds it done (its compares fail on its own
  // writes), and must count it
  it('apply counts that transaction: the message says as many objects as etcd holds', async () => {
    const f = manifest('intlost', 600);
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: lab.etcd.members[0].clientPort }, { replyHoldMs: 300 });
    const watcher = await lab.client.watch().key(keys.object('Node', 'intlost-0')).create();
    const ctrlC = new AbortController();
    watcher.once('put', () => {
      void proxy.loseReplies(300);
      const reconnected = setInterval(() => { if (proxy.accepted > 1) { ctrlC.abort(); clearInterval(reconnected); } }, 5);
      setTimeout(() => clearInterval(reconnected), 20_000).unref();
    });
    let r: Run;
    try {
      r = await xctl(['apply', '-f', f], { endpoints: proxy.endpoint, signal: ctrlC.signal });
    } finally {
      await watcher.cancel();
      await proxy.close();
    }
    expect(ctrlC.signal.aborted).toBe(true);
    expect(r.code).toBe(130);
    expect(await stored('intlost')).toBe(128);
    expect(r.err).toContain('error: apply stopped after 1 of 5 transactions: 128 of 600 objects written (the first 128 in manifest order are done, up to and including node/intlost-127): interrupted\n');
  }, 60_000);
});

/**
 * Runs `args` (a write of one transaction) through a proxy that holds etcd's answers 300 ms: when
 * the first write under `prefix` commits, its answer is lost (none comes for 10 s) and Ctrl-C is
 * pressed, so the write gives up waiting for it.
 */
async function interruptedAnswerLost(args: string[], prefix: string): Promise<Run> {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: lab.etcd.members[0].clientPort }, { replyHoldMs: 300 });
  const watcher = await lab.client.watch().prefix(prefix).create();
  const ctrlC = new AbortController();
  watcher.once('put', () => { void proxy.loseReplies(10_000); ctrlC.abort(); });
  watcher.once('delete', () => { void proxy.loseReplies(10_000); ctrlC.abort(); });
  try {
    return await xctl(args, { endpoints: proxy.endpoint, signal: ctrlC.signal });
  } finally {
    await watcher.cancel();
    await proxy.close();
  }
}

// It said "apply stopped after 0 of 1 transactions: 0 of 10 objects written: interrupted" and
// "Transaction 1 was in flight", words for a write of several transactions, read as nothing written.
describe('a write of one transaction interrupted (Ctrl-C), its answer not come 2 s later', () => {
  const unknown = (command: string) => `error: interrupted: the ${command} is one transaction, all or nothing: it was sent and its answer ` +
    'did not come within 2 s of the interrupt, so whether etcd wrote it is unknown.';

  it('apply says that it was sent and its outcome is unknown, and that re-running converges; exit 130', async () => {
    const f = manifest('int1', 10);
    const r = await interruptedAnswerLost(['apply', '-f', f], `${keys.objects('Node')}int1-`);
    expect(r.code).toBe(130);
    expect(r.out).toBe('');
    expect(r.err).toContain(`${unknown('apply')} Re-running the same apply converges: it writes the objects if this one did not, and leaves them unchanged if it did.\n`);
    expect(r.err).not.toContain('stopped after');
    // it was written: only the answer was lost
    expect(await stored('int1')).toBe(10);
    const again = await xctl(['apply', '-f', f]);
    expect(again.code, again.err).toBe(0);
    expect(again.out.trim().split('\n').every((l) => l.endsWith(' unchanged'))).toBe(true);
  }, 60_000);

  it('delete -f and label say the same', async () => {
    const f = manifest('int1del', 10);
    expect((await xctl(['apply', '-f', f])).code).toBe(0);
    const l = await interruptedAnswerLost(['label', 'node', ...Array.from({ length: 10 }, (_, i) => `int1del-${i}`), 'rack=r1'], `${keys.objects('Node')}int1del-`);
    expect(l.code).toBe(130);
    expect(l.err).toContain(`${unknown('label')} Re-running the same label converges`);
    expect(l.err).not.toContain('stopped after');
    const r = await interruptedAnswerLost(['delete', '-f', f], `${keys.objects('Node')}int1del-`);
    expect(r.code).toBe(130);
    expect(r.err).toContain(`${unknown('delete')} Re-running the same delete converges`);
    expect(r.err).not.toContain('stopped after');
    expect(await stored('int1del')).toBe(0);
  }, 60_000);
});
