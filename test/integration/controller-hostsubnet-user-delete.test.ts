// A user's `xctl delete hs` of a HostSubnet whose node's network still has containers on it.
// Found by a new-user trial: the delete went at once, its block claims never named the node and
// the agent's report went with the object, so the block was freed while host-2's Docker network
// still held the subnet; the HostSubnet made again got another block and the next node to join
// got host-2's: two hosts, one subnet. Now every HostSubnet carries `xnet.io/block-in-use`, the
// delete only marks it, and the controller deletes it by its own path, which keeps the block for
// the node while its report does (controller/hostsubnet-finalizer.ts). Real etcd, in-process
// controller; the node's agent is its status key, written by the test. The store's delete is
// the one `xctl delete` runs (cli/commands/delete.ts), with its status cleanup.
import { beforeAll, describe, expect, it } from 'vitest';
import { HS_FINALIZER, type HostSubnet } from '../../pkg/api/index.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { Keys } from '../../pkg/store/keys.js';
import { parseCidr } from '../../pkg/ip/ipv4.js';
import { obj, eventually, uniquePrefix, useControllerFixture } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);

const getHs = async (name: string) => (await fx.store.get('HostSubnet', name)) as HostSubnet | undefined;
const allocated = (name: string, other?: string) => eventually(async () => {
  const h = await getHs(name);
  return h?.status?.subnet && h.metadata.uid !== other ? h : undefined;
}, `${name} allocated${other ? ' again' : ''}`, 10_000);
const claimOf = async (subnet: string) => {
  const v = await fx.etcd.client().get(new IpamKeys(prefix).claim('clusternetworks', 'apps', 'blocks', parseCidr(subnet).base));
  return v === null ? undefined : JSON.parse(v) as { owner: { uid: string }; node?: string };
};
const reported = async (node: string, name: string) => (await fx.etcd.client().get(new Keys(prefix).status('HostSubnet', name, { node }))) !== null;
const check = async () => { const r = await ipamCheck(fx.etcd.client(), prefix); expect(r.problems, r.text).toBe(0); };

/** What host-2's agent writes while its network of the HostSubnet is on the host (marked: it removes the report itself). */
async function reportNetworkHeld(hs: HostSubnet): Promise<void> {
  const ready = { type: 'Ready', status: 'False' as const, reason: 'NetworkInUse', message: 'web2 still attached', lastTransitionTime: new Date().toISOString(), observedGeneration: 1 };
  await fx.store.writeStatus('HostSubnet', hs.metadata.name, { node: hs.spec.node }, { keptUntilNetworkGone: true, objectUid: hs.metadata.uid, observedGeneration: 1, conditions: [ready] });
}

describe('xctl delete of a HostSubnet whose node still holds its network', () => {
  beforeAll(async () => {
    await fx.store.applyAll([
      obj('ClusterNetwork', 'apps', { cidr: '10.80.0.0/21', hostPrefix: 24 }),
      obj('Node', 'host-1', { address: '198.18.0.11' }),
      obj('Node', 'host-2', { address: '198.18.0.12' }),
    ]);
  });

  it('keeps the block for the node, gives the HostSubnet made again the same subnet, and a third node another', async () => {
    await allocated('apps-host-1');
    const before = await allocated('apps-host-2');
    const subnet = String(before.status!.subnet);
    await reportNetworkHeld(before);

    expect(await fx.store.delete('HostSubnet', 'apps-host-2')).toBe(true);
    const after = await allocated('apps-host-2', before.metadata.uid);
    expect(after.status?.subnet, 'the HostSubnet made again takes its kept block back').toBe(subnet);
    expect((await claimOf(subnet))?.owner.uid).toBe(after.metadata.uid);
    expect(await reported('host-2', 'apps-host-2'), 'the agent\'s report is left to the agent').toBe(true);

    await fx.store.applyAll([obj('Node', 'host-3', { address: '198.18.0.13' })]);
    const third = await allocated('apps-host-3');
    expect(third.status?.subnet, 'a node joining is not given a block host-2 still uses').not.toBe(subnet);
    await check();
    expect(third.metadata.finalizers, 'the controller makes its HostSubnets with the finalizer').toEqual([HS_FINALIZER]);
  });
});

/** A HostSubnet of `node` pinned to `subnet`, written as a program would, with `finalizers` (or none). */
async function createPinned(name: string, node: string, subnet: string, finalizers?: string[]): Promise<HostSubnet> {
  const o = obj('HostSubnet', name, { node, clusterNetwork: 'apps', subnet });
  if (finalizers) o.metadata.finalizers = finalizers;
  await fx.store.create(o);
  // after its HostSubnet: the controller makes one for a Node that has none on the network
  await fx.store.create(obj('Node', node, { address: `198.18.1.${subnet.split('.')[2]}` }));
  return eventually(async () => {
    const h = await getHs(name);
    return h?.metadata.finalizers?.includes(HS_FINALIZER) && h.status?.subnet ? h : undefined;
  }, `${name} allocated and given the finalizer`, 10_000);
}

/** After `name` (of `node`, pinned to `subnet`) is deleted, the HostSubnet made for the node holds that subnet. */
async function madeAgainOnSameBlock(name: string, node: string, subnet: string): Promise<void> {
  await eventually(async () => !(await getHs(name)) || undefined, `${name} deleted`, 10_000);
  const again = await allocated(`apps-${node}`);
  expect(again.status?.subnet, 'the block kept for the node is taken back').toBe(subnet);
  expect(await reported(node, name), 'the agent\'s report is left to the agent').toBe(true);
  await check();
}

describe('a HostSubnet stored without the finalizer (an older xctl, a raw etcd write)', () => {
  it('gets it from the controller, and its delete is then the controller\'s', async () => {
    const hs = await createPinned('pinned-9', 'host-9', '10.80.6.0/24');
    await reportNetworkHeld(hs);
    expect(await fx.store.delete('HostSubnet', 'pinned-9')).toBe(true);
    await madeAgainOnSameBlock('pinned-9', 'host-9', '10.80.6.0/24');
  });
});

describe('a HostSubnet another program holds too (a finalizer of its own)', () => {
  it('is Terminating until that finalizer goes, then deleted by the controller, its block kept', async () => {
    const hs = await createPinned('held-7', 'host-7', '10.80.7.0/24', ['example.com/hold']);
    await reportNetworkHeld(hs);
    expect(await fx.store.delete('HostSubnet', 'held-7')).toBe(true);
    const marked = await eventually(async () => {
      const h = await getHs('held-7');
      const ready = h?.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.reason === 'Terminating' ? h : undefined;
    }, 'held-7 Terminating', 10_000);
    expect(marked.status?.conditions?.find((c) => c.type === 'Ready')?.message).toContain('example.com/hold');
    expect(marked.metadata.finalizers).toContain(HS_FINALIZER);
    await fx.store.update({ ...marked, metadata: { ...marked.metadata, finalizers: [HS_FINALIZER] } });
    await madeAgainOnSameBlock('held-7', 'host-7', '10.80.7.0/24');
  });
});

describe('a HostSubnet the controller deletes of its own accord (its Node deleted) that another program holds', () => {
  it('is marked deleting and Terminating until that finalizer goes, then deleted', async () => {
    await fx.store.create(obj('Node', 'host-6', { address: '198.18.1.66' }));
    const made = await allocated('apps-host-6');
    expect(made.metadata.finalizers).toEqual([HS_FINALIZER]);
    await fx.store.update({ ...made, metadata: { ...made.metadata, finalizers: [HS_FINALIZER, 'example.com/hold'] } });
    expect(await fx.store.delete('Node', 'host-6')).toBe(true);
    const marked = await eventually(async () => {
      const h = await getHs('apps-host-6');
      const ready = h?.status?.conditions?.find((c) => c.type === 'Ready');
      return h?.metadata.deletionTimestamp && ready?.reason === 'Terminating' ? h : undefined;
    }, 'apps-host-6 marked and Terminating', 10_000);
    expect(marked.status?.conditions?.find((c) => c.type === 'Ready')?.message).toContain('example.com/hold');
    // still there a moment later: the controller waits for the other program
    await new Promise((r) => setTimeout(r, 500));
    expect(await getHs('apps-host-6')).toBeDefined();
    await fx.store.update({ ...marked, metadata: { ...marked.metadata, finalizers: [HS_FINALIZER] } });
    await eventually(async () => !(await getHs('apps-host-6')) || undefined, 'apps-host-6 deleted', 10_000);
    await check();
  });
});
