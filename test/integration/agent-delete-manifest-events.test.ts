// `xctl delete -f` of a manifest holding a ClusterNetwork and a ContainerNic on it, the NIC Ready
// in its running container: the user deletes both in one command, so the NIC's dependency going
// with it is no news to them, and `xctl get events` must hold no Warning about the departing NIC
// (kubectl tells nobody deleting a namespace's objects that their dependencies vanished). A NIC
// that stays while its ClusterNetwork is deleted is still told, with a Warning (it was Ready).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isReady, type ContainerNic } from '../../pkg/api/index.js';
import { listEvents } from '../../pkg/events/read.js';
import { useBuilt } from '../harness/built.js';
import { agentLabWithController, downWithController, eventually, inContainer, labXctl, runContainer } from './agent-harness.js';

const MANIFEST = `apiVersion: xnet.io/v1alpha1
kind: ClusterNetwork
metadata:
  name: default
spec:
  cidr: 10.76.0.0/16
  hostPrefix: 24
  reserved: [10.76.0.0/24]
  dockerNetwork: net1
---
apiVersion: xnet.io/v1alpha1
kind: ContainerNic
metadata:
  name: test-eth1
spec:
  node: host-1
  container: test
  ifName: eth1
  network:
    clusterNetwork: default
`;

const built = useBuilt(async () => {
  const { lab, controller } = await agentLabWithController(1);
  try {
    await lab.startAgent(lab.hosts[0]);
    await runContainer(lab.hosts[0], 'test');
  } catch (e) {
    await downWithController(lab, controller);
    throw e;
  }
  return { lab, controller };
}, ({ lab, controller }) => downWithController(lab, controller), { buildMs: 240_000, downMs: 120_000 }, 'the lab');

const lab = () => built().lab;
const xctl = (args: string[]) => labXctl(lab(), args);
const nic = async () => (await lab().store.get('ContainerNic', 'test-eth1')) as ContainerNic | undefined;
const eth1 = async () => (await inContainer(lab().hosts[0], 'test', ['ip', '-o', 'link'])).stdout;
/** TYPE/REASON of this NIC incarnation's events, as `xctl get events` lists them */
const events = async (uid: string, obj = { kind: 'ContainerNic', name: 'test-eth1' }) => (await listEvents(lab().client, '/xnet', { ...obj, uid })).items.map((e) => `${e.type}/${e.reason}`);
const HS = { kind: 'HostSubnet', name: 'default-host-1' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The manifest applied with xctl, the NIC Ready in its container; the NIC as it is then. */
async function applyReady(file: string): Promise<ContainerNic> {
  const r = await xctl(['apply', '-f', file]);
  expect(r.code, r.err).toBe(0);
  const n = await eventually(async () => { const x = await nic(); return x && isReady(x) ? x : undefined; }, 'NIC Ready', 60_000);
  expect(await eth1()).toMatch(/: eth1@/);
  expect(await events(n.metadata.uid!)).toContain('Normal/Attached');
  return n;
}

describe('xctl delete -f of a ClusterNetwork with a NIC on it', () => {
  // The Warning came from a reconcile of the NIC in flight when the delete landed (one the
  // network's delete woke): a race, lost in most rounds before the fix, so three rounds.
  it.each([1, 2, 3])('removes both, and the departing NIC gets no Warning event (round %i)', async () => {
    const file = join(lab().dir, 'cn-and-nic.yaml');
    writeFileSync(file, MANIFEST);
    const before = await applyReady(file);
    const hs = await lab().store.get('HostSubnet', HS.name);
    expect(hs && isReady(hs), 'the HostSubnet Ready').toBe(true);
    const del = await xctl(['delete', '-f', file]);
    expect(del.code, del.err).toBe(0);
    expect(del.out).toContain('clusternetwork/default deleted');
    expect(del.out).toContain('containernic/test-eth1 deleted');
    await eventually(async () => !(await nic()) || undefined, 'the NIC gone', 60_000);
    await eventually(async () => !(await lab().store.get('ClusterNetwork', 'default')) || undefined, 'the ClusterNetwork gone', 60_000);
    await eventually(async () => !/: eth1@/.test(await eth1()) || undefined, 'eth1 out of the container', 30_000);
    // events are written a moment after the status that caused them
    await sleep(2_000);
    const seen = await events(before.metadata.uid!);
    expect(seen.filter((e) => e.startsWith('Warning')), seen.join(', ')).toEqual([]);
    // its HostSubnet, which the controller removes with the ClusterNetwork, is no news either
    await eventually(async () => !(await lab().store.get('HostSubnet', HS.name)) || undefined, 'the HostSubnet gone', 60_000);
    const hsSeen = await events(hs!.metadata.uid!, HS);
    expect(hsSeen.filter((e) => e.startsWith('Warning')), hsSeen.join(', ')).toEqual([]);
    const all = await xctl(['get', 'events']);
    expect(all.code, all.err).toBe(0);
    const nicWarnings = all.out.split('\n').filter((l) => /\sWarning\s/.test(l) && /containernic\/test-eth1|hostsubnet\/default-host-1/.test(l));
    expect(nicWarnings).toEqual([]);
  }, 180_000);

  it('a NIC that stays while its ClusterNetwork is deleted is still told, with a Warning', async () => {
    const file = join(lab().dir, 'cn-and-nic.yaml');
    writeFileSync(file, MANIFEST);
    const before = await applyReady(file);
    const del = await xctl(['delete', 'clusternetwork', 'default', '--force']);
    expect(del.code, del.err).toBe(0);
    await eventually(async () => { const x = await nic(); return x && !isReady(x) ? x : undefined; }, 'the NIC not Ready', 60_000);
    const warned = await eventually(async () => { const s = (await events(before.metadata.uid!)).filter((e) => e.startsWith('Warning/')); return s.length ? s : undefined; }, 'a Warning for the NIC', 30_000);
    expect(warned.some((w) => w === 'Warning/ClusterNetworkMissing' || w === 'Warning/NoAddress'), warned.join(', ')).toBe(true);
    const rm = await xctl(['delete', 'nic', 'test-eth1']);
    expect(rm.code, rm.err).toBe(0);
    await eventually(async () => !(await nic()) || undefined, 'the NIC gone', 60_000);
  }, 180_000);
});
