// A ContainerNic that was Ready and then loses its address to a refusal (its ClusterNetwork
// deleted with --force) shows the controller's Ready False InvalidSpec over its node's
// NoAddress (store/merge.ts). That Ready's lastTransitionTime is when the NIC turned False,
// not when it was made: the controller's own Ready had been False (WaitingForAgent) all along,
// hidden under the node's True (nic-shown-ready.ts). The "node's report" is the agent's status
// key, written here by the test: no agent runs.
import { describe, it, expect } from 'vitest';
import { obj, eventually, statusOf, useControllerFixture } from './controller-helpers.js';
import { DEFAULT_PREFIX } from '../../pkg/store/keys.js';

const fx = useControllerFixture(DEFAULT_PREFIX);
const node = { node: 'host-1' };
const ready = async (name: string) => statusOf(await fx.store.get('ContainerNic', name)).conditions?.find((c) => c.type === 'Ready');

describe('a Ready NIC whose address is refused', () => {
  it('turns Ready False with the time of the refusal, not of its creation', async () => {
    await fx.store.applyAll([
      obj('ClusterNetwork', 'apps', { cidr: '10.80.0.0/16', hostPrefix: 24 }),
      obj('Node', 'host-1', { address: '198.18.0.11' }),
      obj('ContainerNic', 'web-eth1', { node: 'host-1', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'apps' } }),
    ]);
    await eventually(async () => statusOf(await fx.store.get('ContainerNic', 'web-eth1')).ip || undefined, 'an address');
    const created = (await fx.store.get('ContainerNic', 'web-eth1'))!.metadata.creationTimestamp!;
    // the agent attached it: Ready True, as users see it
    const attached = { type: 'Ready', status: 'True' as const, reason: 'Converged', message: 'eth1 is in container web', lastTransitionTime: new Date().toISOString() };
    await fx.store.writeStatus('ContainerNic', 'web-eth1', node, { containerId: 'id-web', conditions: [attached] });
    await eventually(async () => (await ready('web-eth1'))?.status === 'True' || undefined, 'the node\'s Ready True shown');
    await new Promise((r) => setTimeout(r, 1100)); // so that "since creation" and "since the refusal" differ

    const refusedAt = Date.now();
    await fx.store.delete('ClusterNetwork', 'apps');
    await eventually(async () => statusOf(await fx.store.get('ContainerNic', 'web-eth1'))
      .conditions?.find((c) => c.type === 'Allocated')?.reason === 'InvalidSpec' || undefined, 'the controller\'s refusal', 10_000);
    // the node's Ready True, not yet rewritten, is about the address just released: not shown (store/stale-report.ts)
    expect(await ready('web-eth1')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    // the agent takes the interface out and waits for the controller, as it does
    await fx.store.writeStatus('ContainerNic', 'web-eth1', node, { conditions: [{ type: 'Ready', status: 'False', reason: 'NoAddress', message: 'waiting for the controller to allocate an address', lastTransitionTime: new Date().toISOString() }] });
    const shown = await eventually(async () => { const c = await ready('web-eth1'); return c?.reason === 'InvalidSpec' ? c : undefined; }, 'Ready InvalidSpec shown', 10_000);
    expect(shown).toMatchObject({ status: 'False', message: 'ClusterNetwork "apps" does not exist' });
    expect(Date.parse(shown.lastTransitionTime!)).toBeGreaterThan(Date.parse(created) + 1000);
    expect(Date.parse(shown.lastTransitionTime!)).toBeGreaterThanOrEqual(refusedAt);
  });
});
