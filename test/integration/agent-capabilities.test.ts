// The kernel's capabilities are probed again under a running agent (an admin loads 8021q): a
// VLAN MacvlanNet refused as VlanUnsupported is tried again at once (the agent's resync is an
// hour away here), and the Node reports the new capabilities. The lab kernels cannot gain a module, so
// the probe's answer is the stand-in here: the dataplane is the real one of a real namespace
// host, except that capabilities() answers what the test says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../../pkg/api/index.js';
import { Dataplane, type AgentDataplane } from '../../pkg/agent/dataplane.js';
import { netnsTarget } from '../../pkg/netlink/target.js';
import { Keys } from '../../pkg/store/keys.js';
import { HEAL_TEST_RESYNC_S, HEAL_WAIT_MS } from '../harness/heal.js';
import { eventually, obj, oneHostAgentLab, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
let vlan = false;
const probedOn: Array<string | undefined> = [];

function withCapabilities(real: Dataplane): AgentDataplane {
  return new Proxy(real, {
    get(t, p) {
      if (p === 'capabilities') return async (iface: string | undefined) => { probedOn.push(iface); return { macvlan: true, vlan }; };
      const v = Reflect.get(t, p) as unknown;
      return typeof v === 'function' ? v.bind(t) : v;
    },
  }) as AgentDataplane;
}

const nodeCaps = async () => ((await lab.store.get('Node', 'host-1')) as Node | undefined)?.status?.capabilities;
const vlanReady = async () => {
  const v = await lab.client.get(new Keys('/xnet').status('MacvlanNet', 'vlan310', { node: 'host-1' })).string();
  return (v ? JSON.parse(v) as { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } : undefined)?.conditions?.find((c) => c.type === 'Ready');
};

beforeAll(async () => {
  lab = await oneHostAgentLab((h) => ({
    dataplane: withCapabilities(new Dataplane(netnsTarget(h.netns), h.dockerHost)),
    // the resync out of reach (an hour): what retries the MacvlanNet in time is the new probe
    heartbeatMs: 300, capabilityReprobeMs: 500, resyncMs: HEAL_TEST_RESYNC_S * 1000,
  }));
}, 240_000);
afterAll(async () => { await lab?.down(); }, 120_000);

describe('capabilities probed again', () => {
  it('reports VLAN support that appeared and retries the VLAN MacvlanNet at once', async () => {
    await eventually(async () => (await nodeCaps())?.vlan === false, 'Node reports vlan: false');
    await lab.store.create(obj('MacvlanNet', 'vlan310', { subnet: '192.168.31.0/24', vlan: 310, dockerIPAM: 'blocks', parent: 'eth0' }));
    await lab.store.writeStatus('MacvlanNet', 'vlan310', { controller: true }, { nodes: [{ name: 'host-1', dockerRange: '192.168.31.128/28' }] });
    const refused = await eventually(async () => { const c = await vlanReady(); return c?.reason === 'VlanUnsupported' ? c : undefined; }, 'VlanUnsupported');
    expect(refused.status).toBe('False');
    // refused on the probe's word, before any link was tried
    expect(refused.message).toMatch(/but this node's kernel has no 802\.1Q support/);
    const probes = probedOn.length;
    await eventually(async () => probedOn.length >= probes + 2 || undefined, 'probed again while VLAN is missing', HEAL_WAIT_MS);
    expect(probedOn.every((i) => i === 'eth0'), `probed on ${probedOn.join(', ')}`).toBe(true);

    vlan = true;
    await eventually(async () => (await nodeCaps())?.vlan === true, 'Node reports vlan: true', HEAL_WAIT_MS);
    // tried again: what the kernel then says (Ready where it has 802.1Q; on these lab kernels
    // its own refusal of the VLAN link), no longer the refusal made on the probe's word
    // within HEAL_WAIT_MS while the resync is an hour away: the new capability retried it
    const after = await eventually(async () => { const c = await vlanReady(); return c && !/but this node's kernel has no 802\.1Q support/.test(c.message) ? c : undefined; }, 'retried', HEAL_WAIT_MS);
    expect(after.status === 'True' || /the kernel cannot make VLAN interface eth0\.310/.test(after.message), after.message).toBe(true);
  }, 90_000);

  it('stops probing once every capability is there', async () => {
    const probes = probedOn.length;
    await new Promise((r) => setTimeout(r, 2000)); // four reprobe intervals, six heartbeats
    expect(probedOn.length).toBe(probes);
  });
});
