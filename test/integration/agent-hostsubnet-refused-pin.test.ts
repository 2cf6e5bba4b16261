// A HostSubnet whose pinned spec.subnet the controller refused (Allocated=False and no
// status.subnet: it overlaps another's, SubnetConflict; two applied at once pass xctl's check
// side by side). Its node's agent made the bridge and Docker network on that subnet all the
// same (with spec.bridge pinned too), so two hosts held one subnet and Docker's own IPAM gave
// containers on this one addresses of the other's. Now nothing is made for it: its report says
// NotAllocated, naming the controller's refusal. (Peers give it no route either:
// trust-route-reasons.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../pkg/store/keys.js';
import { docker, eventually, obj, oneHostAgentLab, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];

beforeAll(async () => { lab = await oneHostAgentLab(); }, 240_000);
afterAll(async () => { await lab?.down(); }, 120_000);

const report = async (name = 'other-host-1') => {
  const v = await lab.client.get(new Keys('/xnet').status('HostSubnet', name, { node: 'host-1' })).string();
  return v ? (JSON.parse(v) as { conditions?: Array<{ type: string; status: string; reason: string; message: string }> }).conditions?.find((c) => c.type === 'Ready') : undefined;
};
const linkThere = async (name: string) => (await sh(h1(), ['ip', '-o', 'link', 'show'])).split('\n').some((l) => l.includes(` ${name}:`) || l.includes(` ${name}@`));
const bridgeThere = () => linkThere('br77');
const networkThere = async (name: string) => (await docker(h1(), ['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes(name);

describe('agent: a pinned subnet the controller refused', () => {
  it('gets no bridge on its node, which says NotAllocated naming the refusal; once allocated it is made', async () => {
    const now = new Date().toISOString();
    await lab.store.create(obj('ClusterNetwork', 'other', { cidr: '10.77.0.0/16', hostPrefix: 24, dockerNetwork: 'net7' }));
    await lab.store.create(obj('HostSubnet', 'other-host-1', { node: 'host-1', clusterNetwork: 'other', subnet: '10.77.5.0/24', bridge: 'br77' }));
    const refusal = 'subnet 10.77.5.0/24 overlaps HostSubnet "other-host-2" (10.77.5.0/24)';
    await lab.store.writeStatus('HostSubnet', 'other-host-1', { controller: true }, {
      nodeAddress: '198.18.0.11', conditions: [{ type: 'Allocated', status: 'False', reason: 'SubnetConflict', message: refusal, lastTransitionTime: now }],
    });
    // The object comes before its refusal: an agent that sees it first makes the bridge from its
    // spec, as for any HostSubnet no controller has looked at yet (the next test), and takes it
    // away once refused. What must hold: refused, no bridge.
    await eventually(async () => (await report())?.reason === 'NotAllocated' || undefined, 'other-host-1 refused', 30_000);
    await eventually(async () => !(await bridgeThere()) || undefined, 'no br77 on host-1 once refused', 30_000);
    expect((await report())?.message).toContain(refusal);
    // allocated after all (the other HostSubnet went): made
    await lab.store.writeStatus('HostSubnet', 'other-host-1', { controller: true }, {
      subnet: '10.77.5.0/24', nodeAddress: '198.18.0.11', conditions: [{ type: 'Allocated', status: 'True', reason: 'Allocated', message: 'ok', lastTransitionTime: now }],
    });
    await eventually(async () => (await bridgeThere()) || undefined, 'br77 made once allocated', 30_000);
  }, 90_000);
  it('made from its spec before the controller refused it (the agent was first): its bridge and Docker network go', async () => {
    const now = new Date().toISOString();
    await lab.store.create(obj('ClusterNetwork', 'third', { cidr: '10.78.0.0/16', hostPrefix: 24, dockerNetwork: 'net8' }));
    await lab.store.create(obj('HostSubnet', 'third-host-1', { node: 'host-1', clusterNetwork: 'third', subnet: '10.78.5.0/24', bridge: 'br78' }));
    // no controller status yet: taken by its spec, as before
    await eventually(async () => ((await linkThere('br78')) && (await networkThere('net8'))) || undefined, 'br78 and net8 made from the spec', 30_000);
    const refusal = 'subnet 10.78.5.0/24 overlaps HostSubnet "third-host-2" (10.78.5.0/24)';
    await lab.store.writeStatus('HostSubnet', 'third-host-1', { controller: true }, {
      nodeAddress: '198.18.0.11', conditions: [{ type: 'Allocated', status: 'False', reason: 'SubnetConflict', message: refusal, lastTransitionTime: now }],
    });
    await eventually(async () => (await report('third-host-1'))?.reason === 'NotAllocated' || undefined, 'third-host-1 refused', 30_000);
    await eventually(async () => (!(await linkThere('br78')) && !(await networkThere('net8'))) || undefined, 'br78 and net8 gone once refused', 30_000);
    expect((await report('third-host-1'))?.message).toContain(refusal);
  }, 90_000);
});
