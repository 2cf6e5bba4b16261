// A three-member etcd whose members reach each other only through proxies, so that one member
// can be cut off from its peers (a network partition) while its clients still reach it: it
// stays up, answers on its client port, and has no leader. Each member advertises its proxy as
// its peer URL; a proxy drops every connection to the cut-off member and every connection that
// member dials (etcd names the dialing member in each peer request's X-Server-From header).
// A member can also be paused (SIGSTOP): a member that hangs outright, its host frozen.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { freePort, waitHealthy } from '../../pkg/etcd/server.js';

export interface PartitionableEtcd {
  /** each member's client endpoint, by member index */
  endpoints: string[];
  /** cuts member `i` off from its peers (its clients still reach it) */
  isolate(i: number): void;
  heal(): void;
  /**
   * Stops member `i`'s process (SIGSTOP) and resolves once the kernel shows every thread of it
   * stopped: it hangs outright, answering nothing, ending nothing.
   */
  pause(i: number): Promise<void>;
  /** continues every paused member */
  resume(): void;
  /** the index of the member that leads now, as the others see it */
  leaderIndex(): Promise<number>;
  stop(): Promise<void>;
}

interface Link { target: number; from?: string; sockets: Socket[] }

export async function startPartitionableEtcd(): Promise<PartitionableEtcd> {
  const dir = mkdtempSync(join(tmpdir(), 'xnet-etcd-part-'));
  const ports: Array<{ client: number; peer: number }> = [];
  for (let i = 0; i < 3; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const links = new Set<Link>();
  const ids: string[] = [];
  let isolated: number | undefined;
  const cut = (l: Link) => isolated !== undefined && (l.target === isolated || (l.from !== undefined && l.from === ids[isolated]));
  const proxies = await Promise.all(ports.map((p, i) => peerProxy(i, p.peer, links, cut)));
  const cluster = proxies.map((x, i) => `p${i}=http://127.0.0.1:${x.port}`).join(',');
  const procs: ChildProcess[] = ports.map((p, i) => spawnMember(dir, i, p, proxies[i].port, cluster, `part-${ports[0].client}`));
  const endpoints = ports.map((p) => `http://127.0.0.1:${p.client}`);
  const paused = new Set<ChildProcess>();
  const resume = () => { for (const p of paused) p.kill('SIGCONT'); paused.clear(); };
  const stop = async () => {
    resume();
    await Promise.all(procs.map((c) => stopProcess(c)));
    for (const x of proxies) x.server.close();
    for (const l of links) for (const s of l.sockets) s.destroy();
    if (!process.env.KEEP_PART) rmSync(dir, { recursive: true, force: true });
  };
  const c = new Etcd3({ hosts: endpoints, dialTimeout: 2000 });
  try {
    await Promise.all(endpoints.map((e) => waitHealthy([e])));
    const members = (await c.cluster.memberList({})).members;
    for (const m of members) ids[Number(m.name.slice(1))] = BigInt(m.ID).toString(16);
  } catch (e) {
    await stop();
    throw e;
  } finally {
    c.close();
  }
  return {
    endpoints,
    isolate(i) {
      isolated = i;
      for (const l of links) if (cut(l)) { for (const s of l.sockets) s.destroy(); links.delete(l); }
    },
    heal() { isolated = undefined; },
    async pause(i) {
      if (!procs[i].kill('SIGSTOP')) throw new Error(`member p${i} could not be stopped (exited?)`);
      paused.add(procs[i]);
      await allThreadsStopped(procs[i].pid!);
    },
    resume,
    async leaderIndex() {
      // after a heal the member that was cut off (its term ahead) makes the others elect again:
      // no leader for a moment, and status then has no leader field
      const end = Date.now() + 15_000;
      for (;;) {
        const r = await fetch(`${endpoints[(isolated ?? 0) === 0 ? 1 : 0]}/v3/maintenance/status`, { method: 'POST', body: '{}' });
        const leader = (await r.json() as { leader?: string }).leader;
        if (leader && leader !== '0') return ids.indexOf(BigInt(leader).toString(16));
        if (Date.now() > end) throw new Error('the partitionable etcd elected no leader within 15 s');
        await new Promise((res) => setTimeout(res, 200));
      }
    },
    stop,
  };
}

function spawnMember(dir: string, i: number, p: { client: number; peer: number }, advertised: number, cluster: string, token: string): ChildProcess {
  const client = `http://127.0.0.1:${p.client}`;
  const log = openSync(join(dir, `p${i}.log`), 'a');
  const child = spawn('etcd', [
    '--name', `p${i}`, '--data-dir', join(dir, `p${i}`),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', `http://127.0.0.1:${p.peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${advertised}`,
    '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', token,
  ], { stdio: ['ignore', log, log] });
  closeSync(log);
  return child;
}

/**
 * Waits (at most 5 s) until every thread of `pid` is in state T: the signal is queued when
 * kill() returns, and a thread of etcd's still running on another CPU could answer one more
 * request before it stops.
 */
async function allThreadsStopped(pid: number): Promise<void> {
  const end = Date.now() + 5_000;
  for (;;) {
    const states = readdirSync(`/proc/${pid}/task`).map((t) => /\) (\S)/.exec(readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8'))?.[1]);
    if (states.every((st) => st === 'T' || st === 't')) return;
    if (Date.now() > end) throw new Error(`member pid ${pid} not stopped within 5 s (thread states ${states.join('')})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stopProcess(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(t);
}

/** Forwards to member `target`'s peer port; reads the first request's head to learn who dials. */
async function peerProxy(target: number, port: number, links: Set<Link>, cut: (l: Link) => boolean): Promise<{ server: Server; port: number }> {
  const server = createServer((client) => {
    const link: Link = { target, sockets: [client] };
    let head = Buffer.alloc(0);
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const text = head.toString('latin1');
      if (!text.includes('\r\n\r\n') && head.length < 16_384) return;
      client.off('data', onHead);
      link.from = /\r\nX-Server-From: *([0-9a-f]+)/i.exec(text)?.[1];
      if (cut(link)) { client.destroy(); return; }
      const upstream = connect(port, '127.0.0.1');
      link.sockets.push(upstream);
      links.add(link);
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
      const end = () => { client.destroy(); upstream.destroy(); links.delete(link); };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    };
    client.on('data', onHead);
    client.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}
