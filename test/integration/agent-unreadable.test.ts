// Unreadable is not absent (docs/security.md), end to end on a real agent and kernel: a
// ContainerNic's key that stops decoding (here: a spec field this version does not know, as a
// newer xctl would write) leaves the NIC's interface in its container and the node's status key
// in etcd, while the agent runs and after it restarts (no last good value: its garbage pass
// must not take the NIC's host end for garbage). A good value again is followed; only a delete
// of the object removes the NIC.
//
// No Docker: the agent runs against a lab host (a private network namespace) with a dataplane
// whose Docker answers only `inspect` of one container, a `sleep` in a network namespace of its
// own that this test starts; the HostSubnet's bridge is made and marked here as the agent would
// once Docker made it. Nothing runs in, or changes, the root network namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { readlink } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../pkg/agent/agent.js';
import { Dataplane } from '../../pkg/agent/dataplane.js';
import { bridgeAlias, vethHostName } from '../../pkg/agent/planner/names.js';
import { hostExec, type LabHost } from '../../pkg/lab/index.js';
import { netnsTarget } from '../../pkg/netlink/target.js';
import { Keys } from '../../pkg/store/keys.js';
import { agentLab, allocateNic, createDefaultNetwork, eventually, obj, readyCondition, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
let host: LabHost;
let container: ChildProcess | undefined;
const keys = new Keys('/xnet');
const NIC = 'box-eth1';
const objectKey = keys.object('ContainerNic', NIC);
const indexCopy = keys.indexed('host-1', objectKey);
const statusKey = keys.status('ContainerNic', NIC, { node: 'host-1' });

/** A process in a network namespace of its own, standing in for a container's. */
async function startContainer(): Promise<ChildProcess> {
  const p = spawn('unshare', ['--net', '--', 'sleep', '600'], { stdio: 'ignore' });
  try {
    const own = await readlink('/proc/self/ns/net');
    await eventually(async () => (await readlink(`/proc/${p.pid}/ns/net`).catch(() => own)) !== own, 'the container\'s own namespace', 10_000);
  } catch (e) {
    // not yet `container`, which afterAll kills: a start that failed kills its own sleep
    p.kill('SIGKILL');
    throw e;
  }
  return p;
}

/** The host's dataplane, with a Docker that knows only container "box" (by name or id; every other call fails: no daemon). */
function dataplane(): Dataplane {
  const dp = new Dataplane(netnsTarget(host.netns), `unix://${lab.dir}/no-docker.sock`);
  dp.docker.inspectContainer = async (name: string) => (name === 'box' || name === 'b0x'
    ? { id: 'b0x', name: 'box', running: true, pid: container!.pid!, startedAt: '2026-03-01T10:00:00Z', networkMode: 'none' } : undefined);
  return dp;
}

const startAgent = (): Promise<Agent> => lab.startAgent(host, { dataplane: dataplane(), ipamPlugin: undefined, events: { docker: false } });
const eth1 = async () => (await hostExec(host, ['nsenter', `--net=/proc/${container!.pid}/ns/net`, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'])).stdout;
const inPlace = async () => (await eth1()).includes('10.76.1.84/24');
const reported = async () => (await lab.client.get(statusKey).string()) !== null;

/** The NIC's object key and its copy in host-1's index, as a newer xctl would write them. */
async function putObject(f: (o: { spec: Record<string, unknown> }) => void): Promise<void> {
  const o = JSON.parse((await lab.client.get(objectKey).string())!) as { spec: Record<string, unknown> };
  f(o);
  for (const k of [objectKey, indexCopy]) await lab.client.put(k).value(JSON.stringify(o));
}

/** For `ms`, the NIC stays in its container and its report in etcd. */
async function staysFor(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    expect(await inPlace(), 'eth1 in the container').toBe(true);
    expect(await reported(), "the node's status key of the NIC").toBe(true);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  lab = await agentLab(1, { docker: false });
  host = lab.hosts[0];
  container = await startContainer();
  await createDefaultNetwork(lab.store, 1);
  // what Docker and the agent make of the HostSubnet's network: the bridge with its gateway, marked as its
  for (const argv of [['link', 'add', 'br01', 'type', 'bridge'], ['link', 'set', 'br01', 'alias', bridgeAlias('default-host-1')], ['addr', 'add', '10.76.1.1/24', 'dev', 'br01'], ['link', 'set', 'br01', 'up']]) {
    await hostExec(host, ['ip', ...argv], { check: true });
  }
  await lab.store.create(obj('ContainerNic', NIC, { node: 'host-1', container: 'box', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
  await allocateNic(lab.store, NIC, '10.76.1.84');
  await startAgent();
}, 120_000);

afterAll(async () => {
  try {
    await lab?.down();
  } finally {
    // killed also when taking the lab down throws
    if (container?.exitCode === null) container.kill('SIGKILL');
  }
}, 120_000);

describe('agent: a ContainerNic whose key does not decode', () => {
  it('is put into its container while readable', async () => {
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', NIC))?.status === 'True', 'Ready', 30_000);
    expect(await inPlace()).toBe(true);
  });

  it('stays in its container while the agent runs', async () => {
    await putObject((o) => { o.spec.comesLater = true; });
    const agent = lab.agents.get(host.name)!;
    await eventually(async () => agent.ctx.unreadable?.('ContainerNic').includes(NIC), 'the agent to see the key refused', 10_000);
    agent.resyncAll();
    await staysFor(3000);
  });

  it('stays in its container after the agent restarts with no last good value of it', async () => {
    await lab.stopAgent(host);
    // startAgent waits for the first pass over every key: the garbage pass among them
    const agent = await startAgent();
    expect(agent.ctx.caches.nics.get(NIC)).toBeUndefined();
    expect(agent.ctx.unreadable?.('ContainerNic')).toEqual([NIC]);
    expect(await inPlace()).toBe(true);
    expect(await hostExec(host, ['ip', '-o', 'link', 'show', vethHostName(NIC)]).then((r) => r.exitCode)).toBe(0);
    agent.resyncAll();
    await staysFor(3000);
  });

  it('is followed again once readable, and removed when the object is deleted', async () => {
    await putObject((o) => { delete o.spec.comesLater; });
    await eventually(async () => lab.agents.get(host.name)!.ctx.caches.nics.get(NIC) !== undefined, 'the NIC back in the caches', 10_000);
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', NIC))?.status === 'True', 'Ready', 30_000);
    expect(await inPlace()).toBe(true);
    await lab.store.delete('ContainerNic', NIC);
    await eventually(async () => !(await eth1()).includes('10.76.1.84'), 'the NIC gone from its container', 30_000);
    await eventually(async () => !(await reported()), 'its status key gone', 30_000);
  });
});
