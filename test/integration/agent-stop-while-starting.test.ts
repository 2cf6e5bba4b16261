// An agent stopped while it is still starting starts nothing after stop() returned: no
// watcher, worker, kernel monitor, timer or IPAM plugin socket, no etcd write, no link or
// route on its host. Before, start() went on after stop() (which closed only what had started
// by then) and left them running in the process, acting on the host. A real agent in this
// process (as lab.startAgent runs them) on a lab host with its dockerd, against real etcd,
// stopped at several points of its start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHook } from 'node:async_hooks';
import { connect } from 'node:net';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Etcd3 } from 'etcd3';
import { Agent } from '../../pkg/agent/agent.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { createLogger } from '../../pkg/log.js';
import { labIpamPlugin } from '../../pkg/lab/services.js';
import { agentLab, createDefaultNetwork, eventually, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;

beforeAll(async () => {
  lab = await agentLab(1);
  await createDefaultNetwork(lab.store, 1);
  // the test's own watch once: what it keeps in this process (the client's watch manager) is there before any count
  await etcdChangesFor(10);
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

/** The kernel state of the host that the agent changes: its links and every route. */
const hostState = async () => {
  const h = lab.hosts[0];
  // IPv4 routes: eth0's IPv6 link-local address comes up on its own a while after the lab
  return `${await sh(h, ['ip', '-o', 'link', 'show'])}\n${await sh(h, ['ip', '-4', 'route', 'show', 'table', 'all'])}`;
};

/** Every key written or deleted in etcd for `ms` (a watch from now). */
async function etcdChangesFor(ms: number): Promise<string[]> {
  const seen: string[] = [];
  const w = await lab.client.watch().prefix('/').create();
  w.on('put', (kv) => seen.push(`put ${kv.key.toString()}`));
  w.on('delete', (kv) => seen.push(`delete ${kv.key.toString()}`));
  await new Promise((r) => setTimeout(r, ms));
  await w.cancel();
  return seen;
}

/** Whether something accepts connections on the unix socket `path`. */
const listening = (path: string) => new Promise<boolean>((resolve) => {
  const s = connect(path);
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

/** Our child processes that name the host's namespace (`ip -n NS monitor`, `nsenter ... nft monitor`; the lab's dockerd too). */
function childrenOnHost(netns: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(netns)) out.push(`${pid} ${cmd}`);
    } catch { /* the process ended meanwhile */ }
  }
  return out;
}

/** Child processes of this process (process.getActiveResourcesInfo). */
const processes = () => process.getActiveResourcesInfo().filter((r) => r === 'ProcessWrap').length;

/** This checkout's pkg/ directory, as stack frames name its files. */
const PKG_DIR = fileURLToPath(new URL('../../pkg/', import.meta.url));

/**
 * Timers made from xnet's code (a stack frame in this checkout's pkg/) while enabled and still
 * pending: a count of all this process's timers missed an interval the agent left (the etcd
 * clients' timers come and go around it). Deep stacks while enabled: a timer a library makes a
 * few calls below xnet's frame (a deadline, an execa timeout) still shows that frame.
 */
function xnetTimers(): { pending(): string[]; disable(): void } {
  const live = new Map<number, string>();
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 60;
  const hook = createHook({
    init(id, type) {
      if (type !== 'Timeout') return;
      const frames = (new Error().stack ?? '').split('\n').filter((l) => l.includes(PKG_DIR));
      if (frames.length) live.set(id, frames.slice(0, 3).join(' < ').trim());
    },
    destroy(id) { live.delete(id); },
  }).enable();
  return { pending: () => [...live.values()], disable: () => { hook.disable(); Error.stackTraceLimit = limit; } };
}

/** Starts an agent, stops it at `point`, and checks that nothing of it goes on once stop() returned. */
async function stopAt(point: (started: Promise<void>) => Promise<unknown>): Promise<void> {
  const h = lab.hosts[0];
  const pluginDir = join(h.dir, 'plugins');
  const socket = join(pluginDir, `${labIpamPlugin(h)}.sock`);
  const client: Etcd3 = lab.etcd.auth!.clientAs(await lab.admitNode(h.name));
  const before = processes();
  const timers = xnetTimers();
  const children = new Set(childrenOnHost(h.netns));
  // its lease outlives the test: a report expiring is no write of the agent's
  const agent = new Agent({
    node: h.name, store: createEtcdStore(client, '/xnet'), etcd: client, netns: h.netns, dockerHost: h.dockerHost,
    ipamPlugin: labIpamPlugin(h), pluginDir, stateDir: h.dir, resyncMs: 3_600_000, leaseTtlSec: 120,
    log: createLogger('agent', { node: h.name }),
  });
  const started = agent.start().catch(() => undefined);
  await point(started);
  await agent.stop();
  const kernel = await hostState();
  const changes = await etcdChangesFor(1_000);
  await started;
  expect(changes).toEqual([]);
  expect(await hostState()).toBe(kernel);
  expect(existsSync(socket) && await listening(socket)).toBe(false);
  expect(childrenOnHost(h.netns).filter((c) => !children.has(c))).toEqual([]);
  client.close();
  expect(processes()).toBeLessThanOrEqual(before);
  // the closed clients' timers end a moment after close(); the agent's own would stay
  try {
    await eventually(async () => timers.pending().length === 0 || undefined, 'no timer of xnet\'s left', 3_000)
      .catch(() => { throw new Error(`timers xnet made still pending after stop(): ${JSON.stringify(timers.pending())}`); });
  } finally { timers.disable(); }
}

describe('agent: stopped while it starts', () => {
  it('right away: nothing of it runs after stop()', async () => {
    await stopAt(async () => undefined);
  }, 60_000);

  it('once its IPAM plugin socket is served (its start under way): nothing of it runs after stop()', async () => {
    const h = lab.hosts[0];
    const socket = join(h.dir, 'plugins', `${labIpamPlugin(h)}.sock`);
    await stopAt(() => eventually(async () => existsSync(socket), 'the IPAM plugin socket', 20_000));
  }, 60_000);

  it('once its start returned (its first reconciles running): nothing of it runs after stop()', async () => {
    await stopAt((started) => started);
  }, 60_000);
});
