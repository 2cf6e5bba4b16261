// A container with a macvlan ContainerNic restarted three ways: `docker restart`, its process
// killed and brought back by its restart policy, and its host's dockerd SIGKILLed and started
// again (chaos fault 6, docs/faults.md); once more with its agent stopped meanwhile. Each time
// the container gets a new network namespace; the agent must put the NIC back in it whole
// (declared MAC, up, address) and its Ready must say so. Waits are heal waits: the agents run
// with their periodic resync an hour away.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { macFromIp } from '../../pkg/agent/desired.js';
import { crashAndRestartDockerd, hostExec } from '../../pkg/lab/index.js';
import { labIpamPlugin } from '../../pkg/lab/services.js';
import { verifyHost } from '../../pkg/verify/verify.js';
import { HEAL_WAIT_MS } from '../harness/heal.js';
import { agentLab, twoHostMacvlanNet, docker, eventually, inContainer, inContainerNetns, obj, readyCondition, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const NIC = 'web-mv';
const IP = '192.168.220.200';
const MAC = macFromIp(IP);

interface Seen { pid: string; mac?: string; up: boolean; cidrs: string[] }

/** mv0 inside container web as the kernel has it, read in the container's current namespace. */
async function seen(): Promise<Seen> {
  const pid = await docker(lab.hosts[0], ['inspect', '-f', '{{.State.Pid}}', 'web']);
  const r = await inContainerNetns(lab.hosts[0], 'web', ['ip', '-json', 'addr', 'show', 'dev', 'mv0']);
  const [l] = r.exitCode === 0 ? JSON.parse(r.stdout) as Array<{ address: string; flags: string[]; addr_info: Array<{ family: string; local: string; prefixlen: number }> }> : [];
  if (!l) return { pid, up: false, cidrs: [] };
  return { pid, mac: l.address, up: l.flags.includes('UP'), cidrs: l.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`) };
}

const whole = (s: Seen) => s.mac === MAC && s.up && s.cidrs.includes(`${IP}/24`);
const readyStatus = async () => (await readyCondition(lab.store, 'ContainerNic', NIC))?.status;
const pingFromPeer = async () => (await inContainer(lab.hosts[1], 'peer', ['ping', '-c', '1', '-W', '2', IP])).stdout;

/** The MAC of the link marked as this NIC's (xnet:nic:web-mv) in the namespace of process `pid`, if any. */
async function markedMv0Mac(pid: number): Promise<string | undefined> {
  const r = await execa('nsenter', ['-t', String(pid), '-n', 'ip', '-json', 'link', 'show'], { reject: false, timeout: 10_000 });
  const links = r.exitCode === 0 ? JSON.parse(r.stdout) as Array<{ ifalias?: string; address: string }> : [];
  return links.find((l) => l.ifalias === `xnet:nic:${NIC}`)?.address;
}

/**
 * The declared MAC is free once the container's previous namespace, whose old mv0 holds it on
 * the parent, is gone or the agent has deleted that mv0 (it does when it can reach the
 * namespace). A namespace with nothing left in it is destroyed by the kernel in the
 * background, which took over 30 s in a full-suite run; the NIC carries traffic meanwhile.
 */
const MAC_FREE_WAIT_MS = 120_000;
/**
 * After a dockerd crash the old namespace is kept alive by the dead dockerd's bind mount until
 * the new dockerd's namespace GC (60 s): the agent must free the MAC itself, well before.
 */
const CRASH_MAC_WAIT_MS = 20_000;

/**
 * After a restart (the new PID proves it): mv0 up with its address in the new namespace and a
 * ping from the other host answered over it; then the declared MAC, Ready True and the status
 * with that MAC.
 */
async function expectHealed(oldPid: string, what: string, macWaitMs = MAC_FREE_WAIT_MS): Promise<void> {
  const inNew = (x: Seen) => x.pid !== oldPid && x.pid !== '0';
  await eventually(async () => { const x = await seen(); return inNew(x) && x.up && x.cidrs.includes(`${IP}/24`); }, `${what}: mv0 up with its address in the new namespace`, HEAL_WAIT_MS * 3);
  await eventually(async () => (await pingFromPeer()).includes('1 packets received'), `${what}: a ping from the other host answered`, HEAL_WAIT_MS);
  const s = await eventually(async () => { const x = await seen(); return inNew(x) && whole(x) && x; }, `${what}: mv0 with its declared MAC`, macWaitMs);
  expect(s).toMatchObject({ mac: MAC, up: true });
  await eventually(async () => (await readyStatus()) === 'True', `${what}: Ready True`, HEAL_WAIT_MS);
  expect((await lab.store.get('ContainerNic', NIC))?.status).toMatchObject({ mac: MAC });
  expect(await pingFromPeer()).toContain('1 packets received');
  // Ready reflects reality: read again, still whole (a Ready True over a broken NIC fails here)
  expect(whole(await seen())).toBe(true);
}

beforeAll(async () => {
  lab = await agentLab(2);
  await twoHostMacvlanNet(lab.store, 'mv220', 220);
  await Promise.all(lab.hosts.map((h) => lab.startAgent(h)));
  await runContainer(lab.hosts[0], 'web', ['--restart', 'always']);
  await lab.store.create(obj('ContainerNic', NIC, { node: 'host-1', container: 'web', ifName: 'mv0', network: { macvlanNet: 'mv220' } }));
  await lab.store.writeStatus('ContainerNic', NIC, { controller: true }, { ip: IP, prefixLength: 24 });
  await eventually(async () => (await readyStatus()) === 'True', 'NIC Ready', 60_000);
  await eventually(async () => (await docker(lab.hosts[1], ['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes('mv220'), 'mv220 on host-2', 60_000);
  await runContainer(lab.hosts[1], 'peer', ['--net', 'mv220']);
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: a macvlan ContainerNic in a restarted container', () => {
  it('is whole before any restart: declared MAC, up, address, answers a ping from the other host', async () => {
    expect(whole(await seen())).toBe(true);
    expect(await pingFromPeer()).toContain('1 packets received');
  });

  it('comes back whole after docker restart', async () => {
    const before = await seen();
    expect((await hostExec(lab.hosts[0], ['docker', '-H', lab.hosts[0].dockerHost, 'restart', '-t', '0', 'web'])).exitCode).toBe(0);
    await expectHealed(before.pid, 'docker restart');
  }, 200_000);

  it('takes its declared MAC at once though the old namespace is still alive: the old mv0 there is deleted', async () => {
    const before = await seen();
    // A process of ours in the container's namespace keeps that namespace, and its mv0 with the
    // MAC, alive after the restart, as a crashed dockerd's sandbox bind mount does (fault 6).
    const holder = execa('nsenter', ['-t', before.pid, '-n', 'sleep', '300'], { reject: false });
    try {
      await eventually(async () => (await markedMv0Mac(holder.pid!)) === MAC, 'the holder is in the namespace with the marked mv0', 5_000);
      expect((await hostExec(lab.hosts[0], ['docker', '-H', lab.hosts[0].dockerHost, 'restart', '-t', '0', 'web'])).exitCode).toBe(0);
      const inNew = (x: Seen) => x.pid !== before.pid && x.pid !== '0';
      const wrongMac: string[] = [];
      const s = await eventually(async () => {
        const x = await seen();
        if (inNew(x) && x.up && x.mac !== MAC) wrongMac.push(x.mac ?? '?');
        return inNew(x) && whole(x) && x;
      }, 'mv0 with its declared MAC, up, with its address in the new namespace', HEAL_WAIT_MS * 3);
      expect(s).toMatchObject({ mac: MAC, up: true });
      expect(wrongMac, 'mv0 was never up on another MAC (no fallback)').toEqual([]);
      await eventually(async () => (await pingFromPeer()).includes('1 packets received'), 'a ping from the other host answered', HEAL_WAIT_MS);
      await eventually(async () => (await readyStatus()) === 'True', 'Ready True', HEAL_WAIT_MS);
      expect((await lab.store.get('ContainerNic', NIC))?.status).toMatchObject({ mac: MAC });
      // the old namespace is still alive (our process is in it), without the marked mv0
      expect(holder.exitCode).toBeNull();
      expect(await markedMv0Mac(holder.pid!)).toBeUndefined();
    } finally {
      holder.kill('SIGKILL');
      await holder;
    }
  }, 200_000);

  it('an agent restarted after the container was finds the old mv0 in a namespace still alive and deletes it (stale-nic search)', async () => {
    const before = await seen();
    const holder = execa('nsenter', ['-t', before.pid, '-n', 'sleep', '300'], { reject: false });
    try {
      await eventually(async () => (await markedMv0Mac(holder.pid!)) === MAC, 'the holder is in the namespace with the marked mv0', 5_000);
      // The agent is away while the container restarts: no watcher of the old namespace
      // deletes its mv0, so only the search of reachable namespaces can free the MAC.
      await lab.stopAgent(lab.hosts[0]);
      expect((await hostExec(lab.hosts[0], ['docker', '-H', lab.hosts[0].dockerHost, 'restart', '-t', '0', 'web'])).exitCode).toBe(0);
      const restarted = await eventually(async () => { const x = await seen(); return x.pid !== before.pid && x.pid !== '0' && x; }, 'web restarted', 60_000);
      expect(restarted.mac, 'no mv0 in the new namespace while the agent is away').toBeUndefined();
      expect(await markedMv0Mac(holder.pid!), 'the old mv0 still holds the MAC').toBe(MAC);
      await lab.startAgent(lab.hosts[0]);
      const s = await eventually(async () => { const x = await seen(); return x.pid === restarted.pid && whole(x) && x; }, 'mv0 with its declared MAC in the new namespace', HEAL_WAIT_MS * 3);
      expect(s).toMatchObject({ mac: MAC, up: true });
      expect(holder.exitCode).toBeNull();
      expect(await markedMv0Mac(holder.pid!)).toBeUndefined();
      await eventually(async () => (await readyStatus()) === 'True', 'Ready True', HEAL_WAIT_MS);
      await eventually(async () => (await pingFromPeer()).includes('1 packets received'), 'a ping from the other host answered', HEAL_WAIT_MS);
    } finally {
      holder.kill('SIGKILL');
      await holder;
      if (!lab.agents.has(lab.hosts[0].name)) await lab.startAgent(lab.hosts[0]).catch(() => undefined);
    }
  }, 200_000);

  it('comes back whole after its process is killed and its restart policy starts it again', async () => {
    const before = await seen();
    process.kill(Number(before.pid), 'SIGKILL');
    await expectHealed(before.pid, 'killed, restarted by policy');
  }, 200_000);

  it('comes back whole after its host\'s dockerd is SIGKILLed and started again (chaos fault 6)', async () => {
    const before = await seen();
    await crashAndRestartDockerd(lab.hosts[0]);
    await expectHealed(before.pid, 'dockerd crash', CRASH_MAC_WAIT_MS);
    // and nothing else on the host differs from what etcd declares (`xctl lab verify`)
    const h = lab.hosts[0];
    const diffs = () => verifyHost({ node: h.name, store: lab.store, netns: h.netns, dockerHost: h.dockerHost, ipamPlugin: labIpamPlugin(h) });
    await eventually(async () => (await diffs()).length === 0, 'verify: no difference on host-1', HEAL_WAIT_MS);
  }, 250_000);
});
