// xnet's iptables chains live only while something on the node needs them: the last
// ClusterNetwork deleted, or the node's last HostSubnet gone, takes XNET-POSTROUTING and
// XNET-FORWARD and the jumps into them off the host (as Calico's cali- chains and flannel's
// rules go), in seconds, well inside the resync; the admin's rules stay as they are. A
// ClusterNetwork again makes them again. A ClusterNetwork whose key does not decode is not
// absent: an agent that starts with it so keeps the chains (docs/security.md).
// Everything is read inside the lab host's namespace, never the root one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../pkg/store/keys.js';
import { listEvents } from '../../pkg/events/read.js';
import { HEAL_WAIT_MS } from '../harness/heal.js';
import { addAdminRules } from './admin-iptables.js';
import { agentLab, createDefaultNetwork, eventually, obj, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];
const rules = async (table: string) => (await sh(h1(), ['iptables', '-t', table, '-S'])).split('\n').filter(Boolean);
const both = async () => [...await rules('nat'), ...await rules('filter')];
/** every line of either table that names one of xnet's chains */
const xnetLines = async () => (await both()).filter((r) => /XNET-/.test(r));
const ADMIN = ['-N USER-NAT', '-A USER-NAT -s 10.98.0.0/16 -j RETURN', '-A POSTROUTING -j USER-NAT', '-A FORWARD -s 10.99.0.0/16 -j ACCEPT'];
const XNET = ['-N XNET-POSTROUTING', '-A POSTROUTING -j XNET-POSTROUTING', '-N XNET-FORWARD', '-A FORWARD -j XNET-FORWARD'];
const cnKey = new Keys('/xnet').object('ClusterNetwork', 'default');
const defaultCn = () => obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24, dockerNetwork: 'net1' });

async function adminRulesStay(): Promise<void> {
  const all = await both();
  for (const l of ADMIN) expect(all.filter((x) => x === l), l).toHaveLength(1);
}

const chainsThere = (what: string) => eventually(async () => {
  const all = await both();
  return XNET.every((l) => all.includes(l)) && all.includes('-A XNET-POSTROUTING -s 10.76.1.0/24 -d 10.76.0.0/16 -j ACCEPT') ? true : undefined;
}, what, 30_000);

/**
 * Gone in seconds: the test's agents resync only after an hour, so this is the event's doing.
 * HEAL_WAIT_MS, not less: the agent also takes the Docker network and bridge down first, which
 * takes seconds on a loaded 2-core machine.
 */
const chainsGone = (what: string) => eventually(async () => ((await xnetLines()).length === 0 ? true : undefined), what, HEAL_WAIT_MS)
  .catch(async (e) => { throw new Error(`${(e as Error).message}; left: ${JSON.stringify(await xnetLines())}`); });

/**
 * Docker rewrites its rules when xnet makes the network (a MASQUERADE above xnet's jump): the
 * NAT pass that puts the jump back is xnet's own follow-up, not a repaired drift. The pass runs
 * within a few hundred ms of Docker's change; two seconds later it has long happened.
 */
/** The Node's Healed events about NAT, their counts summed. */
async function natHeals(): Promise<number> {
  const items = (await listEvents(lab.client, '/xnet', { kind: 'Node', name: 'host-1' })).items;
  return items.filter((e) => e.reason === 'Healed' && e.message.startsWith('repaired NAT drift')).reduce((n, e) => n + e.count, 0);
}

async function noNatHeal(): Promise<void> {
  await new Promise((r) => setTimeout(r, 2_000));
  const heals = (await listEvents(lab.client, '/xnet', { kind: 'Node', name: 'host-1' })).items.filter((e) => e.reason === 'Healed');
  expect(heals.map((e) => e.message)).toEqual([]);
}

beforeAll(async () => {
  lab = await agentLab(1);
  await addAdminRules(h1());
  // Docker's rewrites after xnet made a network are no heal for a minute here (2 s by default),
  // so that a jump deleted by hand after that lands in that moment however the machine is loaded
  await lab.startAgent(h1(), { dockerFollowUpMs: 60_000 });
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: xnet\'s iptables chains go once nothing needs them', () => {
  it('a ClusterNetwork with a HostSubnet on the node: chains and jumps are made, and that is no heal', async () => {
    await createDefaultNetwork(lab.store, 1);
    await chainsThere('XNET chains, jumps and rules');
    await adminRulesStay();
    await noNatHeal();
  });

  it('the ClusterNetwork deleted: no XNET chain and no jump to one is left, the admin\'s rules stay', async () => {
    await lab.store.delete('ClusterNetwork', 'default');
    await chainsGone('no XNET line in nat or filter');
    await adminRulesStay();
  });

  it('the ClusterNetwork again: chains and jumps are made again, and that is no heal', async () => {
    await lab.store.create(defaultCn());
    await chainsThere('XNET chains back');
    await adminRulesStay();
    await noNatHeal();
  });

  it('xnet\'s jump deleted right after xnet made a network is a heal all the same', async () => {
    await lab.store.delete('ClusterNetwork', 'default');
    await chainsGone('no XNET line');
    const before = await natHeals();
    await lab.store.create(defaultCn());
    await chainsThere('XNET chains back');
    // within the moment in which Docker's own rewrites after xnet made the network are no heal
    await sh(h1(), ['iptables', '-t', 'nat', '-D', 'POSTROUTING', '-j', 'XNET-POSTROUTING']);
    await eventually(async () => ((await natHeals()) > before ? true : undefined), 'one more Healed count for the NAT jump', 10_000);
  });

  it('the node\'s last HostSubnet deleted (the node leaves every ClusterNetwork): the chains go', async () => {
    await lab.store.delete('HostSubnet', 'default-host-1');
    await chainsGone('no XNET line after the HostSubnet went');
    await adminRulesStay();
    await createDefaultHostSubnet();
    await chainsThere('XNET chains back with the HostSubnet');
  });

  it('an agent started while the ClusterNetwork does not decode keeps the chains; a real delete takes them', async () => {
    await lab.stopAgent(h1());
    const o = JSON.parse((await lab.client.get(cnKey).string())!) as { spec: Record<string, unknown> };
    o.spec.comesLater = true; // a field a newer xctl would write: this version refuses the key
    await lab.client.put(cnKey).value(JSON.stringify(o));
    const agent = await lab.startAgent(h1());
    expect(agent.ctx.unreadable?.('ClusterNetwork')).toEqual(['default']);
    expect(agent.ctx.caches.clusterNetworks.get('default')).toBeUndefined();
    agent.resyncAll();
    const end = Date.now() + 3000;
    while (Date.now() < end) {
      const all = await both();
      for (const l of XNET) expect(all, l).toContain(l);
      await new Promise((r) => setTimeout(r, 250));
    }
    await lab.client.delete().key(cnKey);
    await chainsGone('no XNET line after the unreadable key was deleted');
    await adminRulesStay();
  });
});

async function createDefaultHostSubnet(): Promise<void> {
  await lab.store.create(obj('HostSubnet', 'default-host-1', { node: 'host-1', clusterNetwork: 'default', subnet: '10.76.1.0/24', bridge: 'br01', dockerRange: '10.76.1.128/25' }));
  await lab.store.writeStatus('HostSubnet', 'default-host-1', { controller: true }, { nodeAddress: '198.18.0.11' });
}
