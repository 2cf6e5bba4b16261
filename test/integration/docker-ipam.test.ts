// Issue 11: xnet as Docker's IPAM plugin. Real dockerds (one per lab host), the real
// controller and agents: plain `docker run --net <MacvlanNet>` containers on two hosts get
// addresses from one shared pool, each a claim `xctl ipam check` sees.
import { describe, expect, it } from 'vitest';
import type { MacvlanNet } from '../../pkg/api/index.js';
import { auditIpam } from '../../pkg/ipam/check.js';
import { listPrefix } from '../../pkg/runtime/kv.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { Keys } from '../../pkg/store/keys.js';
import { decodeReport, type NodeIpamReport } from '../../pkg/dockeripam/report.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearDeadContainerd, hostDocker, startDockerd, stopDockerd, BUSYBOX_IMAGE, type LabHost } from '../../pkg/lab/index.js';
import { listEvents } from '../../pkg/events/read.js';
import { docker, eventually, inContainer, runContainer, useMacvlanIpamLab, type AgentLab } from './agent-harness.js';
import { ipOf, isRunning } from './docker-api.js';

// The size, 40 + 10, passes (XNET_IPAM_HOST1=40 XNET_IPAM_HOST2=10): its placement
// step alone took 225 s of `docker run` and the whole file 9 min on this 2-core machine shared
// by other test runs, too much of the suite's 20 min. The default, 17 + 2, still puts more
// containers on host-1 than a /28 block (the old per-host cap of 16) could hold, and two on
// host-2 for the tests that ping one and ask for another's address. The churn steps take 5 of
// them, more than the node keeps free at its low-water mark (LOW_WATER, 4). Each container
// start costs Docker about half a CPU second (dockerd, containerd, runc, a shim and dockerd's
// `exe` hook): 18 + 4, 6 churned and 6 restarted were seven starts more for the same claims.
const ON_HOST_1 = Number(process.env.XNET_IPAM_HOST1 ?? 17);
const ON_HOST_2 = Number(process.env.XNET_IPAM_HOST2 ?? 2);
const CHURN = Math.max(1, Math.min(5, ON_HOST_1 - 2));

// Applied before the agents start: late joiners get their part too.
const env = useMacvlanIpamLab(2, 'shared', { subnet: '192.168.210.0/24', gateway: '192.168.210.1', ipRange: '192.168.210.128/25' }, (lab) => resumeEtcd(lab));

/** Starts containers a few at a time (a 2-core machine runs eight test sessions). */
async function runMany(h: LabHost, names: string[]): Promise<void> {
  for (let i = 0; i < names.length; i += 4) await Promise.all(names.slice(i, i + 4).map((n) => runContainer(h, n, ['--net', 'shared'])));
}

/** Why containers did not come back: their state, and the errors in the host's dockerd log. */
async function restoreReport(h: LabHost, names: string[]): Promise<string> {
  const st = await hostDocker(h, ['inspect', '-f', '{{.Name}} {{.State.Status}} exit={{.State.ExitCode}} {{.State.Error}}', ...names]);
  let log = '';
  try { log = readFileSync(join(h.dir, 'dockerd.log'), 'utf8').split('\n').filter((l) => /level=(error|warning)/.test(l) && /start|IPAM|ipam|address/i.test(l)).slice(-10).join('\n'); } catch { /* no log */ }
  return `(${st.stdout.trim()} ${st.stderr.trim()}; dockerd log:\n${log})`;
}

/** etcd stopped (SIGSTOP) is unreachable for everyone: requests time out, nothing is refused. */
function pauseEtcd(): void { for (const m of env.lab.etcd.members) process.kill(m.pid, 'SIGSTOP'); }
function resumeEtcd(lab: AgentLab = env.lab): void { for (const m of lab.etcd.members) { try { process.kill(m.pid, 'SIGCONT'); } catch { /* gone */ } } }

async function used(): Promise<number | undefined> {
  return ((await env.lab.store.get('MacvlanNet', 'shared')) as MacvlanNet | undefined)?.status?.used as number | undefined;
}

/** What host's agent reports about its containers' addresses (its own status key). */
async function reportOf(node: string): Promise<NodeIpamReport | undefined> {
  const v = (await env.lab.client.get(new Keys('/xnet').status('MacvlanNet', 'shared', { node })).json()) as { ipam?: unknown } | null;
  return decodeReport(v?.ipam);
}

async function audit() {
  const { kvs } = await listPrefix(env.lab.client, '/xnet/');
  return auditIpam(kvs, '/xnet');
}

describe('xnet IPAM plugin for docker run', () => {
  const names1 = Array.from({ length: ON_HOST_1 }, (_, i) => `a${i}`);
  const names2 = Array.from({ length: ON_HOST_2 }, (_, i) => `b${i}`);
  const [h1, h2] = [() => env.lab.hosts[0], () => env.lab.hosts[1]];

  it(`gives ${ON_HOST_1} + ${ON_HOST_2} containers on two hosts distinct addresses from ipRange, each claimed`, async () => {
    await Promise.all([runMany(h1(), names1), runMany(h2(), names2)]);
    const ips = [...await Promise.all(names1.map((n) => ipOf(h1(), n))), ...await Promise.all(names2.map((n) => ipOf(h2(), n)))];
    expect(new Set(ips).size).toBe(ON_HOST_1 + ON_HOST_2);
    for (const ip of ips) expect(parseIPv4(ip) >>> 7).toBe(parseIPv4('192.168.210.128') >>> 7);
    const a = await eventually(async () => {
      const x = await audit();
      const pool = x.pools.find((p) => p.pool === 'macvlannet/shared');
      return pool?.what.includes(`of which ${ON_HOST_1 + ON_HOST_2} in containers`) ? x : undefined;
    }, 'every container address reported to etcd', 60_000);
    expect([...a.leaks, ...a.duplicates, ...a.unclaimed]).toEqual([]);
    // The controller counts them from the agents' reports in its next pass.
    await eventually(async () => (await used()) === ON_HOST_1 + ON_HOST_2, `MacvlanNet status used = ${ON_HOST_1 + ON_HOST_2}`, 60_000);
    // host-1's part grew with its containers (more addresses, their host-shim routes): the
    // declared change carried out while Docker's events marked the network, not a repair
    const events = (await listEvents(env.lab.client, '/xnet', { kind: 'MacvlanNet', name: 'shared' })).items;
    expect(events.filter((e) => e.reason === 'Healed').map((e) => e.message)).toEqual([]);
  }, 900_000);

  it('containers on the two hosts reach each other', async () => {
    const ip = await ipOf(h2(), names2[0]);
    const r = await inContainer(h1(), names1[0], ['ping', '-c', '1', '-W', '2', ip]);
    expect(r.stdout).toContain('1 packets received');
  });

  it('docker run --ip of an address the other host holds is refused naming that host', async () => {
    const held = await ipOf(h2(), names2[1]);
    const r = await hostDocker(h1(), ['run', '-d', '--name', 'thief', '--net', 'shared', '--ip', held, BUSYBOX_IMAGE, 'sleep', '1000']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('host-2');
    await hostDocker(h1(), ['rm', '-f', 'thief']);
  });

  it('docker run --ip of an address a ContainerNic of another node holds is refused naming that node, without waiting out the request', async () => {
    // a NIC on host-2 pinned to an address of the pool: its container need not exist for the claim
    const pinned = '192.168.210.240';
    await env.lab.store.applyAll([{ apiVersion: 'xnet.io/v1alpha1', kind: 'ContainerNic', metadata: { name: 'pin-eth1' },
      spec: { node: 'host-2', container: 'nobody', ifName: 'eth1', ip: pinned, network: { macvlanNet: 'shared' } } } as never]);
    await eventually(async () => (await env.lab.store.get('ContainerNic', 'pin-eth1'))?.status?.ip === pinned || undefined, 'the NIC holds its address');
    const r = await hostDocker(h1(), ['run', '-d', '--name', 'thief2', '--net', 'shared', '--ip', pinned, BUSYBOX_IMAGE, 'sleep', '1000']);
    expect(r.exitCode).not.toBe(0);
    // the controller's reason (the agent cannot see other nodes' NICs), not "was not granted" after
    // 20 s; the NIC's name stays host-2's (every node reads the MacvlanNet status)
    expect(r.stderr).toContain('held by a ContainerNic on node "host-2"');
    expect(r.stderr).not.toContain('pin-eth1');
    expect(r.stderr).not.toContain('was not granted');
    await hostDocker(h1(), ['rm', '-f', 'thief2']);
    await env.lab.store.delete('ContainerNic', 'pin-eth1');
  });

  it('docker run --ip of a free address is honoured', async () => {
    const taken = new Set(await Promise.all(names1.map((n) => ipOf(h1(), n))));
    let want = '192.168.210.250';
    if (taken.has(want)) want = '192.168.210.249';
    await runContainer(h1(), 'pinned', ['--net', 'shared', '--ip', want]);
    expect(await ipOf(h1(), 'pinned')).toBe(want);
  });

  const fresh = Array.from({ length: CHURN }, (_, i) => `c${i}`);

  it(`removing ${CHURN} containers frees their addresses; ${CHURN} started again get addresses`, async () => {
    const before = await used();
    const gone = names1.slice(0, CHURN);
    const freed = await Promise.all(gone.map((n) => ipOf(h1(), n)));
    await docker(h1(), ['rm', '-f', ...gone]);
    await eventually(async () => (await used()) === before! - CHURN, `MacvlanNet used down by ${CHURN}`, 60_000);
    const a = await audit();
    expect([...a.leaks, ...a.duplicates, ...a.unclaimed]).toEqual([]);
    const report = await reportOf('host-1');
    expect(report?.assigned.length).toBeGreaterThan(0);
    expect(report?.assigned.filter((x) => gone.includes(x.name ?? '') || freed.includes(x.ip))).toEqual([]);
    await runMany(h1(), fresh);
    const ips = await Promise.all(fresh.map((n) => ipOf(h1(), n)));
    const others = await Promise.all(names1.slice(CHURN).map((n) => ipOf(h1(), n)));
    expect(new Set([...ips, ...others]).size).toBe(ips.length + others.length);
    expect(ips.some((ip) => freed.includes(ip))).toBe(true);
    await eventually(async () => (await used()) === before, 'MacvlanNet used back up', 60_000);
  }, 300_000);

  // Three of them: each restart is one container's own release and request again (docker restart
  // takes them one after another), and three show none gets another's; all CHURN cost the suite
  // two more container starts for the same claim.
  const restarted = fresh.slice(0, 3);

  it(`${restarted.length} containers restarted (docker restart) keep their addresses`, async () => {
    const before = await Promise.all(restarted.map((n) => ipOf(h1(), n)));
    // one after another, each stop and start: minutes on a busy 2-core machine
    await hostDocker(h1(), ['restart', '-t', '1', ...restarted], { check: true, timeoutMs: 240_000 });
    expect(await Promise.all(restarted.map((n) => ipOf(h1(), n)))).toEqual(before);
  }, 400_000);

  /** The agent's local journal (its stateDir is the lab host's directory). */
  const journalOf = (h: LabHost) => JSON.parse(readFileSync(join(h.dir, 'ipam-journal.json'), 'utf8')) as
    { nets: Record<string, { assigned: Record<string, { restarts?: boolean }> }> };

  // A dockerd killed and restarted releases every address it held, then starts again the
  // containers its restart policies say, all at once, asking for addresses without saying for
  // whom. etcd is unreachable: the agent answers from its journal, by what it learnt from Docker.
  it('dockerd killed and restarted while etcd is unreachable: the containers it restarts come back on their addresses', async () => {
    const h = h1();
    // one started with --ip and two without, among others the kill stops for good
    const restarting = ['pinned', fresh[0], fresh[1]];
    await docker(h, ['update', '--restart', 'always', ...restarting]);
    const before = await Promise.all(restarting.map((n) => ipOf(h, n)));
    await eventually(async () => before.every((ip) => journalOf(h).nets.shared?.assigned[ip]?.restarts === true) || undefined,
      'the agent learnt the new restart policies (docker update events)', 30_000);
    pauseEtcd();
    try {
      process.kill(Number(readFileSync(join(h.dir, 'dockerd.pid'), 'utf8').trim()), 'SIGKILL');
      await stopDockerd(h); // ends what the killed daemon left: containerd, shims, containers
      await clearDeadContainerd(h); // its containerd's pid file, which a zombie keeps 'alive'
      // dockerd serves its API only after restoring (and restarting) its containers.
      await startDockerd(h, { timeoutMs: 240_000 });
      // What they came back with: their own addresses, at most swapped between the two without
      // --ip (never another container's). The agent may already be moving a swapped pair (each
      // disconnected, then connected to its own): a container caught in between has none yet.
      const read = () => Promise.all(restarting.map((n) => ipOf(h, n).catch(() => '')));
      const first = await eventually(async () => { const ips = await read(); return ips.every(Boolean) && ips; }, 'the restored containers attached', 30_000)
        .catch(async () => read());
      const why = first.includes('') ? await restoreReport(h, restarting) : '';
      expect(first[0], `the --ip container on its address ${why}`).toBe(before[0]);
      expect([...first].sort(), why).toEqual([...before].sort());
      const after = await eventually(async () => {
        const ips = await Promise.all(restarting.map((n) => ipOf(h, n).catch(() => '')));
        return ips.every((ip, i) => ip === before[i]) ? ips : undefined;
      }, 'restarted containers each on its own address', 120_000);
      expect(after).toEqual(before);
      for (const n of restarting) expect(await isRunning(h, n), n).toBe(true);
    } finally {
      resumeEtcd();
    }
    await eventually(async () => {
      const a = await audit();
      return [...a.leaks, ...a.duplicates, ...a.unclaimed].length === 0 ? a : undefined;
    }, 'ipam check clean once etcd is back', 90_000);
  }, 900_000);
});
