// A ContainerNic given another address (its pin edited, or moved to another node on a MacvlanNet)
// while its old node's agent still reports it in its container with the old address keeps that
// address claimed, naming the old node, until the report says otherwise or goes
// (controller/nic-old-address.ts), as a delete waits for it (nic-finalizer.ts). Before, the old
// claim went in the re-addressing transaction: another NIC on another host got the address while
// the old host (its agent down or partitioned) still answered for it on the same segment.
import { describe, it, expect } from 'vitest';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { getCondition } from '../../pkg/api/index.js';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix, { addressCooldownMs: 0 });
const ipam = new IpamKeys(prefix);
const nic = (name: string, node: string, ip?: string) => obj('ContainerNic', name, { node, container: name, ifName: 'eth1', network: { macvlanNet: 'mv' }, ...(ip ? { ip } : {}) });
const claimOf = async (ip: string) => fx.etcd.client().get(ipam.claim('macvlannets', 'mv', 'addresses', parseIPv4(ip))).string();
const ipOf = async (name: string) => statusOf(await fx.store.get('ContainerNic', name)).ip as string | undefined;
const allocated = (name: string) => eventually(async () => (await ipOf(name)) ?? undefined, `${name} allocated`);

/** host-1's agent reports `name` in its container with `ip` (its own status key of the NIC; observedIp as the agent writes it). */
async function reportOnHost1(name: string, ip: string): Promise<string> {
  const key = fx.store.keys.status('ContainerNic', name, { node: 'host-1' });
  const ready = { type: 'Ready', status: 'True', reason: 'Ready', message: 'attached', lastTransitionTime: new Date().toISOString() };
  await fx.etcd.client().put(key).value(JSON.stringify({ observedIp: ip, containerId: 'c1', conditions: [ready] }));
  return key;
}

/** `name`, allocated on host-1 and reported there by its agent, moved to host-2: its old address and the one it got there. */
async function movedToHost2(name: string): Promise<{ ip: string; moved: string; report: string }> {
  await fx.store.applyAll([nic(name, 'host-1')]);
  const ip = await allocated(name);
  const report = await reportOnHost1(name, ip);
  await fx.store.applyAll([nic(name, 'host-2')]);
  const moved = await eventually(async () => { const now = await ipOf(name); return now && now !== ip ? now : undefined; }, `${name} readdressed on host-2`);
  return { ip, moved, report };
}

describe('a re-addressed ContainerNic keeps its old address while its old node reports it', () => {
  it('a pin edited: the old address is held for host-1 until its report moves to the new one, then another NIC gets it', async () => {
    const { store } = fx;
    await store.applyAll([
      obj('MacvlanNet', 'mv', { subnet: '192.168.77.0/24', parent: 'eth0', hostShim: false }),
      obj('Node', 'host-1', { address: '198.18.0.11' }), obj('Node', 'host-2', { address: '198.18.0.12' }),
    ]);
    await store.applyAll([nic('a', 'host-1', '192.168.77.10')]);
    await eventually(async () => (await ipOf('a')) === '192.168.77.10' || undefined, 'a gets .10');
    await reportOnHost1('a', '192.168.77.10');
    await store.applyAll([nic('a', 'host-1', '192.168.77.11')]);
    await eventually(async () => (await ipOf('a')) === '192.168.77.11' || undefined, 'a moved to .11');
    await store.applyAll([nic('b', 'host-2', '192.168.77.10')]);
    const refused = await eventually(async () => getCondition(statusOf(await store.get('ContainerNic', 'b')).conditions, 'Allocated')?.reason === 'IPConflict' || undefined, 'b refused');
    expect(refused).toBe(true);
    expect(await ipOf('b')).toBeUndefined();
    expect(JSON.parse((await claimOf('192.168.77.10'))!)).toMatchObject({ owner: { name: 'a' }, node: 'host-1' });
    const allocatedMsg = getCondition(statusOf(await store.get('ContainerNic', 'a')).conditions, 'Allocated')?.message;
    expect(allocatedMsg).toContain('192.168.77.10 is held until the agent of node "host-1" reports it gone');
    expect((await ipamCheck(fx.etcd.client(), prefix)).problems).toBe(0);
    // host-1's agent re-addressed a: .10 goes, and b (woken by its release) takes it
    await reportOnHost1('a', '192.168.77.11');
    await eventually(async () => (await ipOf('b')) === '192.168.77.10' || undefined, 'b gets .10 once host-1 lets it go');
    expect(getCondition(statusOf(await store.get('ContainerNic', 'a')).conditions, 'Allocated')?.message).toBe('192.168.77.11/24 allocated');
  });

  it('a MacvlanNet NIC moved to host-2 takes another address there; the old one goes with host-1\'s report', async () => {
    const { ip, moved, report } = await movedToHost2('m');
    expect(JSON.parse((await claimOf(ip))!)).toMatchObject({ owner: { name: 'm' }, node: 'host-1' });
    expect(JSON.parse((await claimOf(moved))!)).toMatchObject({ owner: { name: 'm' }, node: 'host-2' });
    expect((await ipamCheck(fx.etcd.client(), prefix)).problems).toBe(0);
    await fx.etcd.client().delete().key(report);
    await eventually(async () => (await claimOf(ip)) === null || undefined, 'the old claim freed');
    expect(await ipOf('m')).toBe(moved);
  });

  it('a delete waits for the old node\'s report too, then frees every address', async () => {
    const { store } = fx;
    const { ip, moved, report } = await movedToHost2('d');
    await store.delete('ContainerNic', 'd');
    const why = await eventually(async () => getCondition(statusOf(await store.get('ContainerNic', 'd')).conditions, 'Ready')?.reason === 'Terminating' || undefined, 'd terminating');
    expect(why).toBe(true);
    expect(await claimOf(ip)).not.toBeNull();
    await fx.etcd.client().delete().key(report);
    await eventually(async () => (await store.get('ContainerNic', 'd')) === undefined || undefined, 'd gone');
    expect(await claimOf(ip)).toBeNull();
    expect(await claimOf(moved)).toBeNull();
  });

  it('the old node deleted: nobody is left to hold the old address, it goes', async () => {
    const { store } = fx;
    const { ip } = await movedToHost2('g');
    expect(await claimOf(ip)).not.toBeNull();
    await store.delete('Node', 'host-1');
    await eventually(async () => (await claimOf(ip)) === null || undefined, 'the old claim freed with its Node');
  });
});
