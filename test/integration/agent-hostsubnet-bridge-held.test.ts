// A ClusterNetwork deleted while a container is still on its Docker network, and a new one made
// in its place: the new HostSubnet may be given the bridge name the old network still holds
// (names follow the prefix, the block and the ClusterNetwork's rank among those of the prefix,
// and the old one no longer ranks). Docker refuses a second network on that bridge; the agent
// used to pass Docker's refusal on ("DockerRequestFailed: ... networks have same bridge
// name"). It now says the new network waits for the old one's containers (NetworkInUse, as a
// Docker network that must change while containers are attached), naming them, and makes it
// once they leave. Real etcd, the controller, an agent and a dockerd on host-1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCondition, isReady, type HostSubnet } from '../../pkg/api/index.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { agentJoined, agentLabWithController, docker, downWithController, eventually, obj, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
let controller: Controller | undefined;
const oldCn = obj('ClusterNetwork', 'bold', { cidr: '10.83.0.0/16', hostPrefix: 24, dockerNetwork: 'boldnet', bridgePrefix: 'bh' });
const newCn = obj('ClusterNetwork', 'bnew', { cidr: '10.84.0.0/16', hostPrefix: 24, dockerNetwork: 'bnewnet', bridgePrefix: 'bh' });

beforeAll(async () => {
  ({ lab, controller } = await agentLabWithController(1));
  await agentJoined(lab);
}, 240_000);

afterAll(() => downWithController(lab, controller), 120_000);

const hs = async (name: string) => (await lab.store.get('HostSubnet', name)) as HostSubnet | undefined;
const networks = async () => (await docker(lab.hosts[0], ['network', 'ls', '--format', '{{.Name}}'])).split('\n');

describe('a ClusterNetwork made in place of one whose network a container still holds', () => {
  it('waits for the old network\'s containers, saying so, when its bridge name is the old one\'s, then is made', async () => {
    await lab.store.applyAll([oldCn]);
    const old = await eventually(async () => { const h = await hs('bold-host-1'); return h && isReady(h) ? h : undefined; }, 'bold-host-1 Ready', 30_000);
    const bridge = String(old.status!.bridge);
    await runContainer(lab.hosts[0], 'bh1', ['--net', 'boldnet']);
    await lab.store.delete('ClusterNetwork', 'bold');
    await eventually(async () => !(await hs('bold-host-1')) || undefined, 'HostSubnet bold-host-1 deleted', 10_000);
    expect(await networks()).toContain('boldnet');

    await lab.store.applyAll([newCn]);
    const waiting = await eventually(async () => {
      const h = await hs('bnew-host-1');
      const r = h && getCondition(h.status?.conditions, 'Ready');
      // the agent's reason, not a passing one (allocation, the controller's own before the agent's report, the agent at work)
      const passing = ['NotAllocated', 'WaitingForAgent', 'CreatingNetwork'];
      return r?.status === 'False' && !passing.includes(r.reason ?? '') ? { h: h!, r } : undefined;
    }, 'bnew-host-1 not Ready, and why', 30_000);
    // the break: the same bridge name as the network the container holds
    expect(waiting.h.status!.bridge).toBe(bridge);
    expect(waiting.r.reason).toBe('NetworkInUse');
    expect(waiting.r.message).toContain(`bridge ${bridge}`);
    expect(waiting.r.message).toContain('boldnet');
    expect(waiting.r.message).not.toContain('same bridge name');
    expect(await networks()).not.toContain('bnewnet');

    // the container goes: the old network with it, and the new one is made on the bridge
    await docker(lab.hosts[0], ['rm', '-f', 'bh1']);
    await eventually(async () => { const h = await hs('bnew-host-1'); return h && isReady(h) ? h : undefined; }, 'bnew-host-1 Ready once bh1 left', 30_000);
    const now = await networks();
    expect(now).toContain('bnewnet');
    expect(now).not.toContain('boldnet');
  }, 120_000);
});
