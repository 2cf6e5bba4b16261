// Ctrl-C to the built xctl (dist/cmd/xctl.js) during an apply of several transactions. The
// program gave a busy command a second after Ctrl-C, then exited 130 whatever it was doing
// (cli/io.ts): a transaction whose answer took longer than that ended xctl there, without a
// word of how far it got. The write now waits for that answer 2 s (INTERRUPTED_ANSWER_WAIT_MS)
// and xctl a second more: with the answer, the message counts the transaction; without it,
// says that it was in flight.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { XCTL_BIN as BIN, useBuiltXctl } from './built-xctl.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { Keys, prefixEnd } from '../../pkg/store/keys.js';

const built = useBuiltXctl();
const keys = new Keys();
let client: Etcd3;
let dir: string;
beforeAll(() => {
  client = built.etcd.client();
  dir = mkdtempSync(join(tmpdir(), 'xctl-bin-interrupted-'));
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

function manifest(group: string, n: number): string {
  const f = join(dir, `${group}.yaml`);
  writeFileSync(f, Array.from({ length: n }, (_, i) => `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: ${group}-${i}\nspec: {}\n`).join('---\n'));
  return f;
}

async function stored(group: string): Promise<number> {
  const p = `${keys.objects('Node')}${group}-`;
  return Number((await client.kv.range({ key: Buffer.from(p), range_end: prefixEnd(p), count_only: true })).count);
}

/**
 * Applies 600 Nodes of `group` through a proxy that holds etcd's answers `holdMs`; once the
 * first transaction is committed (its first Node stored), xctl gets SIGINT `times` times and,
 * with `lose`, the answers from then on are lost (none comes for 10 s).
 */
async function applyInterrupted(group: string, times: number, holdMs: number, lose = false) {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: built.etcd.members[0].clientPort }, { replyHoldMs: holdMs });
  const watcher = await client.watch().key(keys.object('Node', `${group}-0`)).create();
  const p = execa('node', [BIN, 'apply', '-f', manifest(group, 600)], { reject: false, env: { XCTL_ENDPOINTS: proxy.endpoint } });
  onTestFinished(() => { p.kill('SIGKILL'); });
  let signalled = 0;
  // signals sent together may arrive as one: the next one 200 ms later (below the second a busy xctl is given)
  const ctrlC = () => { p.kill('SIGINT'); if (++signalled < times) setTimeout(ctrlC, 200); };
  watcher.once('put', () => { if (lose) void proxy.loseReplies(10_000); ctrlC(); });
  try {
    const r = await p;
    expect(signalled).toBe(times);
    return r;
  } finally {
    await watcher.cancel();
    await proxy.close();
  }
}

describe('the built xctl, Ctrl-C while a transaction of an apply is in flight', () => {
  it('its answer 1.5 s later: counts it, as many objects as etcd holds, exit 130', async () => {
    const r = await applyInterrupted('binslow', 1, 1500);
    expect(r.exitCode).toBe(130);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: apply stopped after 1 of 5 transactions: 128 of 600 objects written (the first 128 in manifest order are done, up to and including node/binslow-127): interrupted\n');
    expect(r.stderr).not.toContain('in flight');
    expect(await stored('binslow')).toBe(128);
  }, 60_000);

  it('no answer for longer than the write waits: says how far it got and that the transaction in flight may be written, exit 130', async () => {
    const r = await applyInterrupted('binint', 1, 300, true);
    expect(r.exitCode).toBe(130);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: apply stopped after 0 of 5 transactions: 0 of 600 objects written: interrupted\n');
    expect(r.stderr).toContain('Transaction 1 was in flight: etcd may have written it too. Re-running the same apply converges');
    expect(await stored('binint')).toBe(128);
  }, 60_000);

  it('a second Ctrl-C ends it at once: the signal ends the process', async () => {
    const r = await applyInterrupted('binint2', 2, 300, true);
    expect(r.signal).toBe('SIGINT');
    expect(r.stderr).not.toContain('stopped after');
  }, 60_000);
});
