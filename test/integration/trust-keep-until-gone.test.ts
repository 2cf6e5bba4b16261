// Keep-until-gone (issue 8 part 5) with a real etcd, the real controller and a real namespace
// host with its own dockerd: a macvlan NIC deleted while its agent is stopped keeps its
// address (still in the container) out of every other NIC's reach until the agent comes back
// and removes the interface; only then is the address released (and, after the cooldown,
// handed out again). Also from the first moment: an agent stopped right after it put the
// address into the container, before any report that it did, leaves the address claimed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerNic } from '../../pkg/api/index.js';
import { Dataplane, type Executed } from '../../pkg/agent/dataplane.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { Keys } from '../../pkg/store/keys.js';
import { netnsTarget } from '../../pkg/netlink/target.js';
import type { LabHost } from '../../pkg/lab/index.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { agentLab, eventually, inContainerNetns, obj, readyCondition, runContainer, downWithController, type AgentLab } from './agent-harness.js';
import { startController, statusOf } from './controller-helpers.js';

const COOLDOWN_MS = 1000;
let lab: AgentLab;
let controller: Controller | undefined;

beforeAll(async () => {
  lab = await agentLab(1);
  controller = await startController(lab.controllerClient(), '/xnet', { addressCooldownMs: COOLDOWN_MS });
  // Eight addresses: the node's Docker block takes .12/30, NICs get .8-.11.
  await lab.store.applyAll([
    obj('Node', 'host-1', { address: '198.18.0.11' }),
    obj('MacvlanNet', 'mv', { subnet: '192.168.60.0/24', ipRange: '192.168.60.8/29', blockPrefix: 30, dockerIPAM: 'blocks', hostShim: false }),
  ]);
  await lab.startAgent(lab.hosts[0]);
  await runContainer(lab.hosts[0], 'c1');
}, 240_000);

afterAll(() => downWithController(lab, controller), 120_000);

const nic = (name: string, extra: Record<string, unknown> = {}) =>
  obj('ContainerNic', name, { node: 'host-1', container: 'c1', ifName: 'eth1', network: { macvlanNet: 'mv' }, ...extra });
const ipOf = async (name: string) => statusOf(await lab.store.get('ContainerNic', name)).ip as string | undefined;
const addrsInC1 = async () => (await inContainerNetns(lab.hosts[0], 'c1', ['ip', '-4', '-o', 'addr', 'show'])).stdout;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The agent's real dataplane (real `ip` in the real namespaces), which stops its caller right
 * after the first batch that put an address into a container, until resumed: the agent is
 * stopped between making the NIC and reporting it, at exactly that point.
 */
class StoppingDataplane extends Dataplane {
  stopped?: { cidr: string; resume: () => void };
  private armed = true;
  constructor(h: LabHost) { super(netnsTarget(h.netns), h.dockerHost); }
  override async execute(ops: Op[], opts?: { independent?: boolean }): Promise<Executed> {
    const done = await super.execute(ops, opts);
    const add = ops.find((o) => o.op === 'addr.add' && o.netns !== undefined);
    if (!this.armed || !add || add.op !== 'addr.add') return done;
    this.armed = false;
    await new Promise<void>((resume) => { this.stopped = { cidr: add.cidr, resume }; });
    return done;
  }
}

/** The NIC address claims in etcd owned by this NIC. */
async function claimsOf(name: string): Promise<string[]> {
  const all = await lab.client.getAll().prefix('/xnet/ipam/macvlannets/mv/').strings();
  return Object.entries(all).filter(([, v]) => { const c = JSON.parse(v); return c.owner?.name === name && c.role === 'nic'; }).map(([, v]) => JSON.parse(v).ip as string);
}

describe('an address is free only when it is gone', () => {
  it('an agent stopped between putting the address into the container and its first report leaves the address claimed', async () => {
    const h = lab.hosts[0];
    // a NIC allocated while its agent is down: no agent has ever reported on it
    await lab.stopAgent(h);
    await lab.store.applyAll([nic('early')]);
    const ip = await eventually(() => ipOf('early'), 'early allocated');
    expect(await lab.store.hasStatus('ContainerNic', 'early', { node: 'host-1' })).toBe(false);
    const dp = new StoppingDataplane(h);
    // the agent's first pass stops inside this NIC's reconcile: not awaited until resumed
    const started = lab.startAgent(h, { dataplane: dp });
    try {
      await eventually(async () => dp.stopped, 'the agent to put the address into c1', 60_000);
      const cidr = dp.stopped!.cidr;
      expect(cidr.split('/')[0]).toBe(ip);
      expect(await addrsInC1()).toContain(cidr);

      await lab.store.delete('ContainerNic', 'early');
      await sleep(COOLDOWN_MS * 4);
      expect(await claimsOf('early')).toEqual([ip]);
      expect(await addrsInC1()).toContain(cidr);
      const marked = await lab.store.get('ContainerNic', 'early');
      expect(marked?.metadata.deletionTimestamp).toBeDefined();
      // what held it: the agent's own status key of the NIC, written before it made the interface
      const report = JSON.parse((await lab.client.get(new Keys('/xnet').status('ContainerNic', 'early', { node: 'host-1' })).string())!);
      expect(report.conditions.find((c: { type: string }) => c.type === 'Ready')?.reason).toBe('Attaching');
      // and the NIC says so (over that report, from before the delete)
      expect(statusOf(marked).conditions?.find((c) => c.type === 'Ready')).toMatchObject({
        status: 'False', reason: 'Terminating', message: 'node "host-1" has not reported eth1 removed from container "c1" yet',
      });
    } finally {
      dp.stopped?.resume();
    }
    // the agent goes on: it removes the interface, and only then is the address released
    await started;
    await eventually(async () => (await lab.store.get('ContainerNic', 'early')) === undefined, 'early gone once its agent removed it', 20_000);
    expect(await claimsOf('early')).toEqual([]);
    expect(await addrsInC1()).not.toContain(`${ip}/`);
    await lab.stopAgent(h);
    await lab.startAgent(h);
  }, 180_000);

  it('a macvlan NIC deleted while its agent is stopped keeps its address until the agent removes it', async () => {
    await lab.store.applyAll([nic('first')]);
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', 'first'))?.status === 'True', 'first Ready', 60_000);
    const held = (await ipOf('first'))!;
    expect(await addrsInC1()).toContain(`${held}/24`);
    // the other three NIC addresses taken, by NICs whose container does not exist
    const others = ['192.168.60.8', '192.168.60.9', '192.168.60.10', '192.168.60.11'].filter((a) => a !== held);
    await lab.store.applyAll(others.map((ip, i) => obj('ContainerNic', `pin${i}`, { node: 'host-1', container: 'ghost', ifName: 'eth1', network: { macvlanNet: 'mv' }, ip })));
    for (let i = 0; i < others.length; i++) await eventually(async () => (await ipOf(`pin${i}`)) === others[i], `pin${i} allocated`);

    await lab.stopAgent(lab.hosts[0]);
    await lab.store.delete('ContainerNic', 'first');
    await lab.store.applyAll([nic('next', { container: 'ghost', ifName: 'eth2' })]);
    // Well past the cooldown: the deleted NIC is still marked, its address still in the
    // container, and the new NIC gets nothing (the pool's one candidate is held).
    await sleep(COOLDOWN_MS * 4);
    const marked = (await lab.store.get('ContainerNic', 'first')) as ContainerNic | undefined;
    expect(marked?.metadata.deletionTimestamp).toBeDefined();
    expect(marked?.metadata.finalizers).toContain('xnet.io/address-in-use');
    expect(await addrsInC1()).toContain(`${held}/24`);
    expect(await ipOf('next')).toBeUndefined();
    expect(statusOf(await lab.store.get('ContainerNic', 'next')).conditions?.find((c) => c.type === 'Allocated')?.reason).toBe('PoolExhausted');

    await lab.startAgent(lab.hosts[0]);
    await eventually(async () => (await lab.store.get('ContainerNic', 'first')) === undefined, 'first gone once its agent removed it', 20_000);
    expect(await addrsInC1()).not.toContain(held);
    await eventually(async () => (await ipOf('next')) === held, 'next gets the released address after the cooldown', 20_000);
  }, 180_000);

  it('a deleted NIC whose Node is deleted too releases its address', async () => {
    await lab.stopAgent(lab.hosts[0]);
    await lab.store.delete('ContainerNic', 'pin0');
    await sleep(COOLDOWN_MS * 2);
    expect((await lab.store.get('ContainerNic', 'pin0'))?.metadata.deletionTimestamp).toBeDefined();
    // pin0's container never existed: its agent reported ContainerNotFound, so the node holds a report
    await lab.store.delete('Node', 'host-1');
    await eventually(async () => (await lab.store.get('ContainerNic', 'pin0')) === undefined, 'pin0 gone with its Node', 20_000);
  }, 60_000);
});
