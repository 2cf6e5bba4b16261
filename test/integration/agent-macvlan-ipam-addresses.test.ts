// dockerIPAM xnet: the addresses a MacvlanNet's controller status gives a node
// (status.nodes[].addresses) were only checked to be IPv4 before the node's IPAM plugin handed
// them to Docker's containers. A status written otherwise (a hand edit, the admin's
// credentials, a controller bug) naming the subnet's network, gateway or broadcast address, or
// one outside it, had a container given it, lowest first. Now the agent leaves those out (the
// shim's rule, api/macvlan-host-address.ts), reports the MacvlanNet InvalidStatus on the node
// naming the first, and hands out the valid ones. A real etcd (TLS, auth), agent and dockerd;
// no controller: the test writes its status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../pkg/store/keys.js';
import { agentLab, docker, eventually, obj, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];
const NET = 'mv233';
const VALID = '192.168.233.140';

const ready = async () => {
  const v = await lab.client.get(new Keys('/xnet').status('MacvlanNet', NET, { node: 'host-1' })).string();
  return v ? (JSON.parse(v) as { conditions?: Array<{ type: string; status: string; reason: string; message: string }> }).conditions?.find((c) => c.type === 'Ready') : undefined;
};

beforeAll(async () => {
  lab = await agentLab(1);
  // no spec.gateway: .1 is the gateway
  await lab.store.create(obj('MacvlanNet', NET, { subnet: '192.168.233.0/24', ipRange: '192.168.233.128/25', parent: 'eth0', hostShim: false }));
  // every one sorts below the valid address but the one outside the subnet: the plugin hands out the lowest free first
  await lab.store.writeStatus('MacvlanNet', NET, { controller: true }, {
    nodes: [{ name: 'host-1', addresses: ['192.168.233.0', '192.168.233.1', '192.168.233.255', '203.0.113.9', VALID] }],
  });
  await lab.startAgent(h1());
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: a MacvlanNet status giving this node addresses no container may hold', () => {
  it('reports InvalidStatus naming the address, and a container gets the valid one', async () => {
    await eventually(async () => (await ready())?.reason === 'InvalidStatus' || (await ready())?.status === 'True' || undefined, 'mv233 reported on host-1', 60_000);
    await runContainer(h1(), 'c1', ['--net', NET]);
    expect(await docker(h1(), ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'c1'])).toBe(VALID);
    expect(await ready()).toMatchObject({
      status: 'False', reason: 'InvalidStatus',
      message: expect.stringContaining('status.nodes[0].addresses[0] 192.168.233.0 is the network address of 192.168.233.0/24 (and 3 more)'),
    });
  }, 120_000);
});
