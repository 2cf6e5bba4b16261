// The agent with the real controller, declared the way a user would: only a ClusterNetwork,
// a MacvlanNet and a ContainerNic. The controller allocates; the agents make it real; the
// statuses both write meet in the merged view.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReady, type ContainerNic, type HostSubnet, type MacvlanNet } from '../../pkg/api/index.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { agentLabWithController, eventually, inContainer, obj, routes, runContainer, sh, downWithController, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
let controller: Controller | undefined;

beforeAll(async () => {
  ({ lab, controller } = await agentLabWithController(2));
  // The networks exist before any agent registers (issue 10 part 4: late joiners get their part).
  await lab.store.applyAll([
    obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24, reserved: ['10.76.0.0/24'], dockerNetwork: 'net1' }),
    obj('MacvlanNet', 'macvlan200', { subnet: '192.168.200.0/24', ipRange: '192.168.200.128/25', blockPrefix: 28, dockerIPAM: 'blocks' }),
  ]);
  for (const h of lab.hosts) await lab.startAgent(h);
  await runContainer(lab.hosts[0], 'test');
  await lab.store.applyAll([
    obj('ContainerNic', 'test-eth1', { node: 'host-1', container: 'test', ifName: 'eth1', network: { clusterNetwork: 'default' } }),
    obj('ContainerNic', 'test-eth2', { node: 'host-1', container: 'test', ifName: 'eth2', network: { macvlanNet: 'macvlan200' } }),
  ]);
}, 240_000);

afterAll(() => downWithController(lab, controller), 120_000);

describe('agent + controller', () => {
  it('every HostSubnet the controller made is Ready through its node\'s agent, and peers route to it', async () => {
    const list = await eventually(async () => {
      const l = (await lab.store.list('HostSubnet')).items as HostSubnet[];
      return l.length === 2 && l.every(isReady) ? l : undefined;
    }, 'two Ready HostSubnets', 60_000);
    const h2 = list.find((h) => h.spec.node === 'host-2')!;
    await eventually(async () => (await routes(lab.hosts[0])).some((r) => r.dst === h2.status!.subnet && r.gateway === '198.18.0.12' && r.protocol === '76'), 'route to host-2');
  });

  it('the NICs get the addresses the controller allocated, and the MacvlanNet is Ready on all nodes', async () => {
    const nics = await eventually(async () => {
      const l = (await lab.store.list('ContainerNic')).items as ContainerNic[];
      return l.length === 2 && l.every(isReady) ? l : undefined;
    }, 'NICs Ready', 60_000);
    for (const n of nics) {
      const out = (await inContainer(lab.hosts[0], 'test', ['ip', '-o', '-4', 'addr', 'show', 'dev', n.spec.ifName])).stdout;
      expect(out).toContain(`${n.status!.ip}/${n.status!.prefixLength}`);
    }
    const m = await eventually(async () => {
      const x = (await lab.store.get('MacvlanNet', 'macvlan200')) as MacvlanNet | undefined;
      return x && isReady(x) ? x : undefined;
    }, 'MacvlanNet Ready', 60_000);
    expect(m.status?.nodes?.map((n) => n.name).sort()).toEqual(['host-1', 'host-2']);
    const mv = nics.find((n) => n.spec.ifName === 'eth2')!;
    expect(await sh(lab.hosts[0], ['ping', '-c', '1', '-W', '2', mv.status!.ip as string])).toContain('1 packets received');
  });
});
