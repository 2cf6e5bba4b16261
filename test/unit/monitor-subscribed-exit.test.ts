// A watcher told "subscribed" only while it runs (pkg/netlink/monitor.ts toldSubscribed). The
// look at its socket reads /proc on the threadpool; a watcher that exited before the answer came
// was told subscribed after its exit, and the agent kept its iptables and host reads on the word
// of a watcher that was gone: a rule deleted by hand then went untold (review h180). Real
// processes (`sleep`, ended by the PID we started), the look slowed down.
import { afterEach, describe, expect, it } from 'vitest';
import { toldSubscribed, watchLines, type Monitor } from '../../pkg/netlink/monitor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// the real look answers "subscribed"; this one does so 300 ms after the command started
const slowLook = async () => { await sleep(300); return true; };
let m: Monitor | undefined;
afterEach(async () => { await m?.close(); m = undefined; });

function watcher(told: string[]): Promise<number> {
  return new Promise((started) => {
    m = watchLines('sleep', ['30'], () => {}, toldSubscribed(0, {
      restart: false,
      onStart: (pid) => started(pid),
      onSubscribed: () => told.push('subscribed'),
      onExit: () => told.push('exit'),
    }, slowLook));
  });
}

describe('toldSubscribed', () => {
  it('tells a watcher that runs on subscribed once the look answers', async () => {
    const told: string[] = [];
    await watcher(told);
    await sleep(600);
    expect(told).toEqual(['subscribed']);
  });

  it('never tells one that exited before the look answered (its exit stands)', async () => {
    const told: string[] = [];
    const pid = await watcher(told);
    process.kill(pid, 'SIGKILL');
    await sleep(600);
    expect(m!.pid, 'the watcher has exited').toBeUndefined();
    expect(told).toEqual(['exit']);
  });
});
