// A MacvlanNet's controller status naming, as a node's shim address, one the controller never
// gives a shim (a hand edit, a write with the admin's credentials, a controller bug): the
// subnet's gateway, or an address outside the subnet. The agent put it on the shim as a /32:
// a local address of the host, which took the host's own traffic for it (were it the etcd
// endpoint, the agent's too) and, the gateway, answered ARP for the LAN's router. Now the
// MacvlanNet stops on that node (Ready=False InvalidStatus naming the field) and no link holds it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../pkg/store/keys.js';
import { shimName } from '../../pkg/agent/planner/names.js';
import { agentLab, eventually, oneHostMacvlanNet, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];
const SHIM = shimName('mv232');

/** The host links holding `address` as a /32. */
const holders = async (address: string) => (await sh(h1(), ['ip', '-o', '-4', 'addr', 'show'])).split('\n').filter((l) => l.includes(` ${address}/32 `)).map((l) => l.split(/\s+/)[1]);
const ready = async () => {
  const v = await lab.client.get(new Keys('/xnet').status('MacvlanNet', 'mv232', { node: 'host-1' })).string();
  return v ? (JSON.parse(v) as { conditions?: Array<{ type: string; status: string; reason: string; message: string }> }).conditions?.find((c) => c.type === 'Ready') : undefined;
};
const shimAt = (shimAddress: string) => lab.store.writeStatus('MacvlanNet', 'mv232', { controller: true }, { nodes: [{ name: 'host-1', dockerRange: '192.168.232.128/28', shimAddress }] });

beforeAll(async () => {
  lab = await agentLab(1);
  // 192.168.232.0/24 with no spec.gateway: .1 is the gateway, never a shim's (api/rules.ts macvlanRange)
  await oneHostMacvlanNet(lab.store, 'mv232', 232, '192.168.232.1');
  await lab.startAgent(h1());
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: a shim address the controller never gives', () => {
  it('the gateway, or outside the subnet: InvalidStatus and no link holds it; an address of the range is the shim\'s', async () => {
    // whichever comes first: the refusal, or (before) the gateway's address on the shim
    await eventually(async () => (await ready())?.reason === 'InvalidStatus' || (await holders('192.168.232.1')).length > 0 || undefined, 'mv232 refused, or its shim made', 60_000);
    expect(await holders('192.168.232.1'), 'links holding the gateway\'s address').toEqual([]);
    expect((await ready())?.message).toContain('status.nodes[0].shimAddress 192.168.232.1 is the gateway of 192.168.232.0/24');
    await shimAt('203.0.113.7');
    await eventually(async () => (await ready())?.message.includes('203.0.113.7') || (await holders('203.0.113.7')).length > 0 || undefined, 'mv232 refused, or its shim moved', 30_000);
    expect(await holders('203.0.113.7'), 'links holding an address outside the subnet').toEqual([]);
    expect(await ready()).toMatchObject({ status: 'False', reason: 'InvalidStatus', message: expect.stringContaining('is outside spec.subnet 192.168.232.0/24') });
    await shimAt('192.168.232.250');
    await eventually(async () => ((await holders('192.168.232.250')).join() === SHIM ? true : undefined), 'the shim holding 192.168.232.250', 30_000);
    expect(await holders('203.0.113.7')).toEqual([]);
    expect(await holders('192.168.232.1')).toEqual([]);
  }, 180_000);
});
