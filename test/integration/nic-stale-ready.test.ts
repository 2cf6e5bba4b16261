// A NIC whose address the controller released while its node's agent was down keeps that
// agent's last report, Ready True about the old address: found in a new-user trial (host-3's
// agent killed, then `xctl delete node host-3 --force`), where `xctl get` showed READY True for
// a NIC with no address and `xctl wait` returned 0 for it. The merged view shows the controller's
// Ready instead, saying why (store/stale-report.ts), in get, describe and wait alike. The
// "agent's report" is host-3's status key of the NIC, written here by the test: no agent runs.
import { describe, it, expect } from 'vitest';
import { obj, eventually, statusOf, useControllerFixture } from './controller-helpers.js';
import { xctlInTest } from '../harness/xctl-in-process.js';
import { DEFAULT_PREFIX } from '../../pkg/store/keys.js';

const fx = useControllerFixture(DEFAULT_PREFIX);
const xctl = (...args: string[]) => xctlInTest(args, { env: { XCTL_ENDPOINTS: fx.etcd.endpoints.join(',') }, timeoutMs: 20_000 });
const status = async () => statusOf(await fx.store.get('ContainerNic', 'h3-web-eth1'));
const cond = async (type: string) => (await status()).conditions?.find((c) => c.type === type);

describe('a NIC whose node is deleted while its agent is down', () => {
  it('is not shown Ready on its agent\'s last report once the controller released its address', async () => {
    await fx.store.applyAll([
      obj('ClusterNetwork', 'apps', { cidr: '10.80.0.0/16', hostPrefix: 24 }),
      obj('Node', 'host-1', { address: '198.18.0.11' }),
      obj('Node', 'host-3', { address: '198.18.0.13' }),
      obj('ContainerNic', 'h3-web-eth1', { node: 'host-3', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'apps' } }),
    ]);
    const ip = await eventually(async () => (await status()).ip as string | undefined, 'an address');
    const uid = (await fx.store.get('ContainerNic', 'h3-web-eth1'))!.metadata.uid;
    // host-3's agent put it into its container and said so, then was killed
    await fx.store.writeStatus('ContainerNic', 'h3-web-eth1', { node: 'host-3' }, {
      objectUid: uid, observedIp: ip, containerId: 'id-web', observedGeneration: 1,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Converged', message: `eth1 is in container web with ${ip}/24`, lastTransitionTime: new Date().toISOString() }],
    });
    await eventually(async () => (await cond('Ready'))?.status === 'True' || undefined, 'the agent\'s Ready True shown');
    expect((await xctl('wait', 'containernic', 'h3-web-eth1', '--timeout', '2s')).exitCode).toBe(0);

    expect((await xctl('delete', 'node', 'host-3', '--force')).exitCode).toBe(0);
    await eventually(async () => (await cond('Allocated'))?.reason === 'WaitingForHostSubnet' || undefined, 'the address released', 15_000);
    expect((await status()).ip).toBeUndefined();
    const shown = await cond('Ready');
    expect(shown).toMatchObject({ status: 'False', reason: 'WaitingForHostSubnet' });
    expect(shown?.message).toContain('no Node "host-3" exists');
    expect(shown?.message).toContain(`the node's last report, Ready True Converged ("eth1 is in container web with ${ip}/24"), is about an address the controller has released`);

    const wide = await xctl('get', 'containernic', 'h3-web-eth1', '-o', 'wide');
    expect(wide.stdout).toMatch(/h3-web-eth1\s.*\bFalse\b.*WaitingForHostSubnet/);
    const wait = await xctl('wait', 'containernic', 'h3-web-eth1', '--timeout', '2s');
    expect(wait.exitCode).not.toBe(0);
    expect(wait.stdout + wait.stderr).toContain('WaitingForHostSubnet');
    // describe shows what host-3 last said, in a row of its own
    expect((await xctl('describe', 'containernic', 'h3-web-eth1')).stdout).toMatch(/Ready \(node host-3\)\s+True\s+Converged/);
  });
});
