// A container Docker attached to a HostSubnet's network with `docker run --ip` in xnet's part
// of the HostSubnet (outside dockerRange) holds an address the controller would hand out: the
// node's agent reports such addresses on its HostSubnet (status.dockerHeld) and the controller
// gives no ContainerNic one of them, and moves a NIC given one before the report came unless
// the NIC is in its container with it. The report is trusted only for the node's own HostSubnet:
// another node's, addresses outside the xnet part, and a value that does not decode change
// nothing. Real etcd, the real controller; the reports are written as the node's agent writes
// them (its status key of the HostSubnet), controller/hostsubnet-docker-held.ts.
import { describe, expect, it } from 'vitest';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';
import { HS, cond, nicOn, reportDockerHeld } from './docker-held-fixture.js';

const prefix = uniquePrefix();
const f = useControllerFixture(prefix, { addressCooldownMs: 0 });

const ipOf = (name: string, not?: string) => eventually(async () => {
  const o = await f.store.get('ContainerNic', name);
  const ip = statusOf(o).ip;
  return cond(o, 'Allocated')?.status === 'True' && typeof ip === 'string' && ip !== not ? ip : undefined;
}, `${name} gets an address${not ? ` other than ${not}` : ''}`, 10_000);
const plus = (ip: string, n: number) => formatIPv4(parseIPv4(ip) + n);
const report = (node: string, dockerHeld: unknown) => reportDockerHeld(f.store, node, dockerHeld);
/** A NIC applied after a report: the controller's watch of objects and statuses sees the report first. */
const settle = async (name: string) => { await f.store.applyAll([nicOn(name)]); return ipOf(name); };

describe('addresses Docker\'s containers hold on a HostSubnet network', () => {
  it('are given to no ContainerNic of that node; what the node may not say changes nothing', async () => {
    await f.store.applyAll([
      obj('ClusterNetwork', 'apps', { cidr: '10.82.0.0/21', hostPrefix: 24 }),
      obj('Node', 'host-1', { address: '198.18.0.11' }),
      obj('Node', 'host-2', { address: '198.18.0.12' }),
      nicOn('first'),
    ]);
    const first = await ipOf('first');
    const st = statusOf(await f.store.get('HostSubnet', HS));

    // garbage, another node's word on host-1's HostSubnet, and addresses outside the xnet part
    // (another block, the gateway, inside dockerRange): next fit goes on as if none were reported
    await report('host-1', [plus(first, 1), 'not-an-address']);
    expect(await settle('after-garbage')).toBe(plus(first, 1));
    await report('host-2', [plus(first, 2), plus(first, 3)]);
    expect(await settle('after-other-node')).toBe(plus(first, 2));
    const dockerRangeBase = String(st.dockerRange).split('/')[0];
    await report('host-1', ['10.82.1.4', String(st.gateway), dockerRangeBase, plus(dockerRangeBase, 1)]);
    expect(await settle('after-outside')).toBe(plus(first, 3));

    // the node's own report of two addresses of its xnet part (with one outside it): both skipped
    await report('host-1', ['10.82.1.9', plus(first, 4), plus(first, 5)]);
    expect(await settle('next')).toBe(plus(first, 6));
    const r = await ipamCheck(f.etcd.client(), prefix);
    expect(r.problems, r.text).toBe(0);
  });

  it('moves a NIC given one before the report came, but not one in its container with it', async () => {
    await report('host-1', []);
    await f.store.applyAll([nicOn('raced'), nicOn('placed')]);
    const raced = await ipOf('raced');
    const placed = await ipOf('placed');
    const placedNic = await f.store.get('ContainerNic', 'placed');
    // the agent put `placed` into its container with its address (its report: Ready True about it)
    await f.store.writeStatus('ContainerNic', 'placed', { node: 'host-1' }, {
      objectUid: placedNic!.metadata.uid, observedIp: placed, observedGeneration: placedNic!.metadata.generation,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Converged', message: 'in place', lastTransitionTime: new Date().toISOString() }],
    });
    await eventually(async () => (cond(await f.store.get('ContainerNic', 'placed'), 'Ready')?.status === 'True' ? true : undefined), 'placed Ready', 10_000);

    await report('host-1', [raced, placed]);
    const moved = await ipOf('raced', raced);
    expect([raced, placed]).not.toContain(moved);
    expect(statusOf(await f.store.get('ContainerNic', 'placed')).ip).toBe(placed);
    const r = await ipamCheck(f.etcd.client(), prefix);
    expect(r.problems, r.text).toBe(0);
    // the address it left is claimed by no one
    expect(r.text).not.toContain(`${raced} `);
  });
});
