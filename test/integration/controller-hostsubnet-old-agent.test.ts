// A rolling upgrade: this controller with agents of the version before the mark. Such an agent
// never removes its report on a HostSubnet (the controller's delete did), so a report without
// `keptUntilNetworkGone` keeps nothing: the node deselected, its block is freed at once and the
// report removed with the HostSubnet, as before. Found by review: every HostSubnet deleted for
// such a node kept its block until the agent was upgraded or its Node deleted. A marked report
// (what the agent writes now) still keeps the block until it goes. Real etcd, in-process
// controller; the node's agent is its status key, written by the test.
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostSubnet } from '../../pkg/api/index.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { Keys } from '../../pkg/store/keys.js';
import { parseCidr } from '../../pkg/ip/ipv4.js';
import { obj, eventually, uniquePrefix, useControllerFixture } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);

const claimed = async (subnet: string) => (await fx.etcd.client().get(new IpamKeys(prefix).claim('clusternetworks', 'up', 'blocks', parseCidr(subnet).base))) !== null;
const reported = async (node: string) => (await fx.etcd.client().get(new Keys(prefix).status('HostSubnet', `up-${node}`, { node }))) !== null;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const check = async () => { const r = await ipamCheck(fx.etcd.client(), prefix); expect(r.problems, r.text).toBe(0); };

/** Node `node` selected, its HostSubnet allocated and reported on (`mark`: by an agent that removes its report), then deselected. */
async function selectReportDeselect(node: string, mark: boolean): Promise<string> {
  await fx.store.applyAll([obj('Node', node, { interface: 'eth0' }, { up: 'yes' })]);
  const hs = await eventually(async () => { const h = (await fx.store.get('HostSubnet', `up-${node}`)) as HostSubnet | undefined; return h?.status?.subnet ? h : undefined; }, `up-${node} allocated`, 10_000);
  const ready = { type: 'Ready', status: 'True' as const, reason: 'Converged', message: '', lastTransitionTime: new Date().toISOString(), observedGeneration: 1 };
  await fx.store.writeStatus('HostSubnet', `up-${node}`, { node }, { ...(mark ? { keptUntilNetworkGone: true } : {}), objectUid: hs.metadata.uid, observedGeneration: 1, conditions: [ready] });
  await fx.store.applyAll([obj('Node', node, { interface: 'eth0' }, { up: 'no' })]);
  await eventually(async () => !(await fx.store.get('HostSubnet', `up-${node}`)) || undefined, `HostSubnet up-${node} deleted`, 10_000);
  return String(hs.status!.subnet);
}

describe('a node deselected while its agent reports on its HostSubnet', () => {
  beforeAll(async () => { await fx.store.applyAll([obj('ClusterNetwork', 'up', { cidr: '10.81.0.0/22', hostPrefix: 24, nodeSelector: { matchLabels: { up: 'yes' } } })]); });

  it('an agent before the mark (its report unmarked): the block is freed and the report removed within seconds', async () => {
    const subnet = await selectReportDeselect('old-1', false);
    await eventually(async () => !(await claimed(subnet)) || undefined, `the claim of ${subnet} freed`, 10_000);
    expect(await reported('old-1'), 'the old agent\'s report removed with the HostSubnet').toBe(false);
    await check();
  });

  it('an agent that removes its report (marked): the block stays until the report goes', async () => {
    const subnet = await selectReportDeselect('new-1', true);
    await sleep(1_500);
    expect(await claimed(subnet), `the claim of ${subnet} is kept`).toBe(true);
    await check();
    await fx.store.deleteStatus('HostSubnet', 'up-new-1', { node: 'new-1' });
    await eventually(async () => !(await claimed(subnet)) || undefined, `the claim of ${subnet} freed`, 10_000);
    await check();
  });
});
