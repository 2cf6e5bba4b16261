// A deleted macvlan ContainerNic whose node's agent cannot take it out of its container, as the
// agent cannot ask the host's Docker for the container's network namespace (a macvlan is
// deleted from inside it): dockerd hangs (SIGSTOP: a dockerd starting up, chaos fault 6 saw
// 28 s) or is down (SIGKILL, fault 6). The controller says Terminating; `xctl describe` shows
// beside it the node's own Ready, which must say why the interface is still there, not the
// agent's report from before the delete. Once dockerd answers again the NIC goes from etcd and
// from the container within seconds. The agent's Docker client waits 3 s, not 30 s, for an
// answer (the same client, a shorter timeout: the test's waits stay short).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearDeadContainerd, hostDocker, startDockerd, type LabHost } from '../../pkg/lab/index.js';
import { Dataplane } from '../../pkg/agent/dataplane.js';
import { DockerClient } from '../../pkg/docker/client.js';
import { netnsTarget } from '../../pkg/netlink/target.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { agentLab, downWithController, eventually, inContainerNetns, obj, readyCondition, runContainer, labXctl, type AgentLab } from './agent-harness.js';
import { startController, statusOf } from './controller-helpers.js';

let lab: AgentLab;
let controller: Controller | undefined;
const DOCKER_WAIT_MS = 3000;

beforeAll(async () => {
  lab = await agentLab(1);
  controller = await startController(lab.controllerClient(), '/xnet');
  await lab.store.applyAll([
    obj('Node', 'host-1', { address: '198.18.0.11' }),
    obj('MacvlanNet', 'mv', { subnet: '192.168.61.0/24', ipRange: '192.168.61.8/29', blockPrefix: 30, dockerIPAM: 'blocks', hostShim: false }),
  ]);
  await lab.startAgent(lab.hosts[0], { dataplane: quickDockerDataplane(lab.hosts[0]) });
  await runContainer(lab.hosts[0], 'web', ['--restart', 'always']);
}, 240_000);

afterAll(async () => {
  // a test that failed with dockerd stopped leaves it so: continued, so that the lab goes down
  const h = lab?.hosts[0];
  const pid = h ? dockerdPid(h) : undefined;
  if (pid && isAlive(pid)) process.kill(pid, 'SIGCONT');
  await downWithController(lab, controller);
}, 120_000);

/** The agent's real dataplane, its Docker client waiting DOCKER_WAIT_MS for an answer. */
function quickDockerDataplane(h: LabHost): Dataplane {
  const dp = new Dataplane(netnsTarget(h.netns), h.dockerHost);
  (dp as { docker: DockerClient }).docker = new DockerClient(h.dockerHost, undefined, DOCKER_WAIT_MS);
  return dp;
}

const dockerdPid = (h: LabHost) => { try { return Number(readFileSync(join(h.dir, 'dockerd.pid'), 'utf8').trim()); } catch { return undefined; } };

const xctl = (args: string[]) => labXctl(lab, args);

/** The addresses of the link marked as this NIC's (xnet:nic:web-mv) in the namespace of process `pid`. */
async function markedAddrs(pid: number, nic: string): Promise<string[] | undefined> {
  const links = JSON.parse(await inContainerNetnsOf(pid, ['ip', '-json', 'link', 'show']) || '[]') as Array<{ ifname: string; ifalias?: string }>;
  const mine = links.find((l) => l.ifalias === `xnet:nic:${nic}`);
  if (!mine) return undefined;
  const [a] = JSON.parse(await inContainerNetnsOf(pid, ['ip', '-json', 'addr', 'show', 'dev', mine.ifname])) as Array<{ addr_info: Array<{ family: string; local: string }> }>;
  return a.addr_info.filter((x) => x.family === 'inet').map((x) => x.local);
}

async function inContainerNetnsOf(pid: number, argv: string[]): Promise<string> {
  const r = await execa('nsenter', [`--net=/proc/${pid}/ns/net`, ...argv], { reject: false, timeout: 10_000 });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} in the namespace of ${pid}: ${r.stderr}`);
  return r.stdout;
}

const isAlive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** The node's own Ready row of `xctl describe containernic`: [status, reason, message]. */
async function nodeReadyRow(nic: string): Promise<[string, string, string] | undefined> {
  const d = await xctl(['describe', 'containernic', nic]);
  const m = /\n +Ready \(node host-1\) +(\S+) +(\S+) +\S+ +(.*)\n/.exec(d.out);
  return m ? [m[1], m[2], m[3]] : undefined;
}

/** A macvlan NIC of container web, Ready, its mv0 in web's namespace: web's PID and the NIC's address. */
async function readyNic(h: LabHost, nic: string): Promise<{ webPid: number; ip: string }> {
  await lab.store.applyAll([obj('ContainerNic', nic, { node: 'host-1', container: 'web', ifName: 'mv0', network: { macvlanNet: 'mv' } })]);
  await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', nic))?.status === 'True' || undefined, `${nic} Ready`, 60_000);
  const ip = statusOf(await lab.store.get('ContainerNic', nic)).ip as string;
  const webPid = Number((await hostDocker(h, ['inspect', '-f', '{{.State.Pid}}', 'web'])).stdout.trim());
  expect(await markedAddrs(webPid, nic)).toEqual([ip]);
  return { webPid, ip };
}

/**
 * `xctl delete`, then the node's own Ready row of describe turning False (within a few
 * seconds): [status, reason, message]; the controller's Terminating stays the merged Ready
 * and the address is kept.
 */
async function deleteAndSeeNodeRow(nic: string, ip: string, withinMs: number): Promise<[string, string, string]> {
  const del = await xctl(['delete', 'containernic', nic]);
  expect(del.code, del.err).toBe(0);
  const row = await eventually(async () => { const r = await nodeReadyRow(nic); return r?.[0] === 'False' && r[2].startsWith('could not remove') ? r : undefined; },
    'describe: the node\'s Ready False, could not remove', withinMs).catch(async (e: Error) => {
    throw new Error(`${e.message}; describe shows:\n${(await xctl(['describe', 'containernic', nic])).out}`);
  });
  const d = await xctl(['describe', 'containernic', nic]);
  expect(d.out).toMatch(new RegExp(`\n +Ready +False +Terminating +\\S+ +node "host-1" has not reported mv0 removed from container "web" yet\n`));
  expect(statusOf(await lab.store.get('ContainerNic', nic)).ip).toBe(ip);
  return row;
}

/** Gone from etcd within seconds of dockerd answering again, and no link of it in web. */
async function expectGone(h: LabHost, nic: string, oldPid: number): Promise<void> {
  const back = Date.now();
  await eventually(async () => (await lab.store.get('ContainerNic', nic)) === undefined || undefined, `${nic} gone from etcd`, 10_000);
  console.log(`${nic} gone from etcd ${Date.now() - back} ms after dockerd answered`);
  const links = await inContainerNetns(h, 'web', ['ip', '-json', 'link', 'show']);
  expect(links.exitCode).toBe(0);
  expect((JSON.parse(links.stdout) as Array<{ ifalias?: string }>).filter((l) => l.ifalias === `xnet:nic:${nic}`)).toEqual([]);
  if (isAlive(oldPid)) expect(await markedAddrs(oldPid, nic)).toBeUndefined();
}

describe('a deleted NIC its agent cannot take out of its container', () => {
  it('dockerd hangs: describe shows the node\'s Ready False DockerTimedOut (not the Converged of before), and the NIC goes once dockerd answers', async () => {
    const h = lab.hosts[0];
    const { webPid, ip } = await readyNic(h, 'hang-mv');
    const dockerd = dockerdPid(h)!;
    process.kill(dockerd, 'SIGSTOP');
    try {
      const r = await hostDocker(h, ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 2000 });
      expect(r.exitCode, 'docker answers no more').not.toBe(0);
      expect((await nodeReadyRow('hang-mv'))).toBeUndefined(); // not deleting: no hidden row yet
      const row = await deleteAndSeeNodeRow('hang-mv', ip, DOCKER_WAIT_MS + 5000);
      expect(row[1]).toBe('DockerTimedOut');
      expect(row[2]).toMatch(/^could not remove mv0 from container web: inspect container \S+: Docker did not answer in time .*; the address is kept until it is removed$/);
      // the agent keeps trying; the NIC stays, mv0 with its address still in web
      await new Promise((res) => setTimeout(res, DOCKER_WAIT_MS + 1000));
      expect((await nodeReadyRow('hang-mv'))?.[1]).toBe('DockerTimedOut');
      expect(await markedAddrs(webPid, 'hang-mv')).toEqual([ip]);
    } finally {
      process.kill(dockerd, 'SIGCONT');
    }
    expect((await hostDocker(h, ['version', '--format', '{{.Server.Version}}'])).exitCode).toBe(0);
    await expectGone(h, 'hang-mv', webPid);
    // taken out by the agent of the very container it was in: web ran on in the same namespace
    expect(isAlive(webPid)).toBe(true);
  }, 120_000);

  it('dockerd is down: describe shows the node\'s Ready False DockerUnavailable saying the NIC could not be removed, and the NIC goes once dockerd is started again', async () => {
    const h = lab.hosts[0];
    const { webPid, ip } = await readyNic(h, 'down-mv');
    // dockerd down: SIGKILL by its PID; the container runs on (its shim outlives the daemon)
    const dockerd = dockerdPid(h)!;
    process.kill(dockerd, 'SIGKILL');
    await eventually(async () => !isAlive(dockerd) || undefined, 'dockerd gone', 15_000);
    expect((await hostDocker(h, ['version', '--format', '{{.Server.Version}}'])).exitCode, 'docker answers no more').not.toBe(0);
    expect(isAlive(webPid), 'web still runs').toBe(true);
    expect(await markedAddrs(webPid, 'down-mv')).toEqual([ip]);

    const row = await deleteAndSeeNodeRow('down-mv', ip, 5000);
    expect(row[1]).toBe('DockerUnavailable');
    expect(row[2]).toMatch(/^could not remove mv0 from container web: inspect container \S+: Docker daemon not reachable \(ECONNREFUSED\); is dockerd running\?; tried again with backoff; the address is kept until it is removed$/);

    // dockerd started again, as a host's init would (its dead pid file and containerd cleared).
    // Without live-restore its restore stops web, whose policy starts it in a new namespace: mv0
    // went with the old one, and the agent, asking Docker again, finds nothing left to take out.
    rmSync(join(h.dir, 'dockerd.pid'), { force: true });
    await clearDeadContainerd(h);
    await startDockerd(h);
    await expectGone(h, 'down-mv', webPid);
  }, 180_000);
});
