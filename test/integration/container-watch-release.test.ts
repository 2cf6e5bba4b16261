// A dead container's namespace, once only the agent's own watcher (`ip monitor` inside it)
// holds it: before the watcher ends, the agent deletes the NICs' marked macvlans there through
// it, so their MACs are free at once. Let go with them, the kernel destroys the namespace in
// the background (48 s under load in chaos fault 6, docs/faults.md), the MAC held all along
// and nobody able to enter it. The "container" here is a throwaway namespace of this test's own
// (a sleep in `unshare --net`) with a veth pair as the macvlans' parent; nothing touches the
// test's own namespace.
import { execa, type ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { ContainerWatches, processAlive, WATCHER_MIN_LIFE_MS } from '../../pkg/agent/container-watch.js';
import { eventually } from './helpers.js';
import { removeMarkedNicLinks } from '../../pkg/agent/stale-nic.js';
import { pinNetns } from '../../pkg/netlink/pinned.js';

const spawned: ResultPromise[] = [];
afterEach(async () => {
  for (const p of spawned.splice(0)) { p.kill('SIGKILL'); await p.catch(() => undefined); }
});

/** Watches the NICs in pid's namespace as a reconcile does: through its pinned handle, closed once watch resolves. */
async function watch(w: ContainerWatches, pid: number, nics: string[]): Promise<void> {
  const ns = await pinNetns(pid);
  try {
    for (const nic of nics) await w.watch(ns, nic);
  } finally {
    await ns.close();
  }
}

const inNs = (netns: string, argv: string[]) => execa('nsenter', [`--net=${netns}`, ...argv], { reject: false, timeout: 10_000 });

/** Names of the links in the namespace at netns with their ifalias. */
async function links(netns: string): Promise<Array<{ name: string; alias?: string }>> {
  const r = await inNs(netns, ['ip', '-json', 'link', 'show']);
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as Array<{ ifname: string; ifalias?: string }>).map((l) => ({ name: l.ifname, alias: l.ifalias })) : [];
}

/**
 * A "container": a process in a namespace of its own holding p0/p1 and, on p0, macvlans m0
 * (marked xnet:nic:a), m1 (xnet:nic:other) and m2 (unmarked); and a veth pair v0/v1 with v0
 * marked xnet:nic:b (a veth NIC's container end; v1 stands for its host end).
 */
async function container(): Promise<number> {
  const p = execa('unshare', ['--net', 'sleep', '300'], { reject: false });
  spawned.push(p);
  const ns = `/proc/${p.pid}/ns/net`;
  const self = (await execa('readlink', ['/proc/self/ns/net'])).stdout;
  for (let i = 0; i < 50 && (await execa('readlink', [ns], { reject: false })).stdout === self; i++) await new Promise((r) => setTimeout(r, 100));
  const script = [
    'link add p0 type veth peer name p1', 'link set p0 up',
    'link add m0 link p0 type macvlan mode bridge', 'link set m0 alias xnet:nic:a', 'link set m0 address 02:42:c0:a8:dd:14', 'link set m0 up',
    'link add m1 link p0 type macvlan mode bridge', 'link set m1 alias xnet:nic:other', 'link set m1 up',
    'link add m2 link p0 type macvlan mode bridge', 'link set m2 up',
    'link add v0 type veth peer name v1', 'link set v0 alias xnet:nic:b', 'link set v0 up',
  ];
  const r = await execa('nsenter', [`--net=${ns}`, 'ip', '-batch', '-'], { input: script.join('\n'), reject: false });
  if (r.exitCode !== 0) throw new Error(`setting up the container: ${r.stderr}`);
  return p.pid!;
}

describe('ContainerWatches: a dead container\'s namespace held by its watcher', () => {
  it('has the NICs\' marked links deleted through the watcher before it ends, and nothing else', async () => {
    const pid = await container();
    const seen: Array<{ netns: string; before: string[]; after: string[]; deleted: string[] }> = [];
    const w = new ContainerWatches(() => undefined, processAlive, async (netns, nics) => {
      const before = (await links(netns)).map((l) => l.name);
      const deleted = (await removeMarkedNicLinks(netns, nics)).map((l) => l.name);
      seen.push({ netns, before, after: (await links(netns)).map((l) => l.name), deleted });
    });
    try {
      await watch(w, pid, ['a', 'b']);
      await new Promise((r) => setTimeout(r, 300));
      const [watched] = [...w.watched().keys()];
      expect(watched).toBe(pid);
      // the container dies: only the watcher holds its namespace now
      process.kill(pid, 'SIGKILL');
      await spawned[0];
      expect(processAlive(pid)).toBe(false);
      await w.unwatch('a', 4242);
      expect(seen).toHaveLength(1);
      expect(seen[0].before).toEqual(expect.arrayContaining(['m0', 'm1', 'm2', 'v0', 'v1']));
      expect(seen[0].deleted.sort()).toEqual(['m0', 'v0']);
      expect(seen[0].after).toEqual(expect.arrayContaining(['p0', 'p1', 'm1', 'm2']));
      for (const gone of ['m0', 'v0', 'v1']) expect(seen[0].after).not.toContain(gone);
      expect(w.watched().size).toBe(0);
      // the watcher ended: the namespace is no longer reachable through it
      expect(await links(seen[0].netns)).toEqual([]);
    } finally {
      // its watchers are `ip monitor` children: ended also when the test fails (a no-op once unwatched)
      await w.closeAll();
    }
  }, 30_000);

  it('makes a NIC of the same dead container wait until another NIC\'s unwatch has deleted its links', async () => {
    const pid = await container();
    let releasing: string[] = [];
    const w = new ContainerWatches(() => undefined, processAlive, async (netns, nics) => {
      releasing = nics;
      await new Promise((r) => setTimeout(r, 500));
      await removeMarkedNicLinks(netns, nics);
    });
    try {
      await watch(w, pid, ['a', 'b']);
      await new Promise((r) => setTimeout(r, 300));
      process.kill(pid, 'SIGKILL');
      await spawned[0];
      const first = w.unwatch('a', 4242);   // ends the watcher, deleting a's and b's links
      await new Promise((r) => setTimeout(r, 100));
      expect(releasing.sort()).toEqual(['a', 'b']);
      let bDone = false;
      const second = w.unwatch('b', 4242).then(() => { bDone = true; });
      await new Promise((r) => setTimeout(r, 200));
      expect(bDone, 'b\'s unwatch waits for the release still running').toBe(false);
      await Promise.all([first, second]);
      expect(bDone).toBe(true);
    } finally {
      await w.closeAll();
    }
  }, 30_000);

  it('deletes nothing in a live container\'s namespace, which keeps its other NICs watched', async () => {
    const pid = await container();
    const released: string[][] = [];
    const w = new ContainerWatches(() => undefined, processAlive, async (_netns, nics) => { released.push(nics); });
    try {
      await watch(w, pid, ['a', 'other']);
      await w.unwatch('a', 4242);
      expect(w.watched().get(pid)).toEqual(['other']);
      await w.unwatch('other', 4242);
      expect(released).toEqual([]);
      expect((await links(`/proc/${pid}/ns/net`)).map((l) => l.name)).toEqual(expect.arrayContaining(['m0', 'm1', 'm2', 'v0', 'v1']));
    } finally {
      await w.closeAll();
    }
  }, 30_000);
});

/** PIDs of watchers (`ip monitor`) in the network namespace of process `pid`. */
function watchersIn(pid: number): number[] {
  const ns = readlinkSync(`/proc/${pid}/ns/net`);
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((p) => {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return argv[0] === 'ip' && argv[1] === 'monitor' && readlinkSync(`/proc/${p}/ns/net`) === ns ? [Number(p)] : [];
    } catch { return []; }
  });
}

// A watcher that ends by itself (killed: the OOM killer, an admin's kill of stray `ip`
// processes) used to be let go with nothing queued: the live container's NICs went unwatched,
// and a drift there healed only at the periodic resync, whose reconcile watches again.
describe('ContainerWatches: a live container\'s watcher killed', () => {
  it('lets the namespace go and has its NICs look again (their reconcile watches anew)', async () => {
    const pid = await container();
    const told: string[][] = [];
    const w = new ContainerWatches((nics) => { told.push(nics); }, processAlive);
    try {
      await watch(w, pid, ['a', 'b']);
      const [watcher] = await eventually(async () => { const ws = watchersIn(pid); return ws.length === 1 ? ws : undefined; }, 'the watcher running in the namespace', 5_000);
      // killed once it has run a while (one that ends at once is not watched again by event: no loop)
      await new Promise((r) => setTimeout(r, WATCHER_MIN_LIFE_MS + 100));
      expect(told).toEqual([]);
      process.kill(watcher, 'SIGKILL');
      await eventually(async () => (told.length ? told : undefined), 'the NICs told to look again', 5_000);
      expect(told).toEqual([['a', 'b']]);
      expect(w.watched().size).toBe(0);
      expect(processAlive(pid)).toBe(true);
    } finally {
      await w.closeAll();
    }
  }, 30_000);
});
