// A network the agent judged to be its leftover (its id in the network record, its HostSubnet
// gone) is removed by that id: when, between the list of Docker's networks and the removal, the
// network is replaced by another under the same name (a user's), the replacement stays, and
// the removal of a network no longer there is done, not tried again and again; a HostSubnet
// here that wants the name is not given it by that removal: it says NetworkConflict in that
// pass, without asking Docker to make a network over the user's. Real etcd, an agent and a
// dockerd on host-1; the dataplane is the real one, with a hook before a removal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataplane, type AgentDataplane } from '../../pkg/agent/dataplane.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { netnsTarget } from '../../pkg/netlink/target.js';
import type { LabHost } from '../../pkg/lab/index.js';
import { docker, eventually, obj, oneHostAgentLab, readyCondition, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const hook = removalHook('othernet');

beforeAll(async () => {
  lab = await oneHostAgentLab((h) => ({ dataplane: hook.dataplane(h) }));
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('agent: a leftover network replaced under its name before the removal', () => {
  it('removes only the network it judged: the same-named replacement stays, and the removal is not repeated', async () => {
    const h = lab.hosts[0];
    const id = async () => (await docker(h, ['network', 'ls', '--filter', 'name=^othernet$', '--format', '{{.ID}}'])).trim();
    try {
      await lab.store.create(obj('ClusterNetwork', 'other', { cidr: '10.78.0.0/16', hostPrefix: 24, dockerNetwork: 'othernet' }));
      await lab.store.create(obj('HostSubnet', 'other-host-1', { node: 'host-1', clusterNetwork: 'other', subnet: '10.78.1.0/24', bridge: 'br78', dockerRange: '10.78.1.128/25' }));
      await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', 'other-host-1'))?.status === 'True', 'other-host-1 Ready', 15_000);
      const xnets = await id();
      expect(xnets).not.toBe('');
      // right before Docker is asked to remove xnet's network, a user puts one of their own in its place
      let users = '';
      hook.before = async () => {
        await docker(h, ['network', 'rm', 'othernet']);
        users = await docker(h, ['network', 'create', '--subnet', '10.79.98.0/24', 'othernet']);
      };
      await lab.store.delete('HostSubnet', 'other-host-1');
      await eventually(async () => hook.ran > 0 || undefined, 'the agent removes othernet', 15_000);
      expect(users).not.toBe('');
      // passes that follow (Docker's destroy and create events wake them) leave it as well
      await sleep(3_000);
      expect((await docker(h, ['network', 'inspect', 'othernet', '--format', '{{.Id}}'])).trim()).toBe(users);
      expect(hook.removals).toEqual([{ op: 'docker.network.remove', name: 'othernet', id: expect.stringMatching(new RegExp(`^${xnets}`)) }]);
    } finally {
      hook.before = undefined;
      await lab.store.delete('HostSubnet', 'other-host-1').catch(() => undefined);
      await lab.store.delete('ClusterNetwork', 'other').catch(() => undefined);
      await docker(h, ['network', 'rm', 'othernet']).catch(() => undefined);
    }
  }, 90_000);

  it('frees the name only when the judged network was removed: a HostSubnet that wants it says NetworkConflict in that pass, with no failed create', async () => {
    const h = lab.hosts[0];
    try {
      await lab.store.create(obj('ClusterNetwork', 'other', { cidr: '10.78.0.0/16', hostPrefix: 24, dockerNetwork: 'othernet' }));
      await lab.store.create(obj('HostSubnet', 'other-host-1', { node: 'host-1', clusterNetwork: 'other', subnet: '10.78.1.0/24', bridge: 'br78', dockerRange: '10.78.1.128/25' }));
      await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', 'other-host-1'))?.status === 'True', 'other-host-1 Ready', 15_000);
      // its successor on this node, written around xctl: it waits (the ClusterNetwork's network is the older one's)
      await lab.store.create(obj('HostSubnet', 'other-b-host-1', { node: 'host-1', clusterNetwork: 'other', subnet: '10.78.2.0/24', bridge: 'br77', dockerRange: '10.78.2.128/25' }));
      await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', 'other-b-host-1'))?.reason === 'DockerNetworkConflict', 'other-b-host-1 waits', 15_000);
      const ran = hook.ran;
      hook.creates = [];
      hook.before = async () => {
        await docker(h, ['network', 'rm', 'othernet']);
        await docker(h, ['network', 'create', '--subnet', '10.79.97.0/24', 'othernet']);
      };
      // the pass that removes other-host-1's network is the one that would make other-b-host-1's
      await lab.store.delete('HostSubnet', 'other-host-1');
      await eventually(async () => hook.ran > ran || undefined, 'the agent removes othernet', 15_000);
      await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', 'other-b-host-1'))?.reason === 'NetworkConflict', 'other-b-host-1 NetworkConflict', 15_000);
      expect(hook.creates).toEqual([]);
      expect((await docker(h, ['network', 'inspect', 'othernet', '--format', '{{.IPAM.Config}}'])).trim()).toContain('10.79.97.0/24');
    } finally {
      hook.before = undefined;
      for (const hs of ['other-host-1', 'other-b-host-1']) await lab.store.delete('HostSubnet', hs).catch(() => undefined);
      await lab.store.delete('ClusterNetwork', 'other').catch(() => undefined);
      await docker(h, ['network', 'rm', 'othernet']).catch(() => undefined);
    }
  }, 90_000);
});

/**
 * host-1's real dataplane, except that before each run of ops that removes Docker network
 * `network`, `before` (when set) runs once; `removals` are those removal ops.
 */
function removalHook(network: string) {
  const hook = {
    before: undefined as (() => Promise<void>) | undefined,
    removals: [] as Op[],
    /** the creates of Docker network `network` asked for */
    creates: [] as Op[],
    /** runs of ops with such a removal that are over (done or failed) */
    ran: 0,
    dataplane(h: LabHost): AgentDataplane {
      const real = new Dataplane(netnsTarget(h.netns), h.dockerHost);
      const execute = async (ops: Op[], opts?: { independent?: boolean }) => {
        const mine = ops.filter((o) => o.op === 'docker.network.remove' && o.name === network);
        hook.removals.push(...mine);
        hook.creates.push(...ops.filter((o) => o.op === 'docker.network.create' && o.spec.name === network));
        const before = mine.length ? hook.before : undefined;
        if (before) { hook.before = undefined; await before(); }
        try { return await real.execute(ops, opts); } finally { if (mine.length) hook.ran++; }
      };
      return new Proxy(real, {
        get: (t, p) => (p === 'execute' ? execute : typeof Reflect.get(t, p) === 'function' ? Reflect.get(t, p).bind(t) : Reflect.get(t, p)),
      }) as AgentDataplane;
    },
  };
  return hook;
}
