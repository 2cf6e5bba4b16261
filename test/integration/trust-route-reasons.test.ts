// What a real agent says on its Node's RoutesReady when it does not install a peer route
// (docs/security.md "What the agent checks before it acts", docs/api.md "Condition reasons"):
// a refused route is `UnsafeRoute` and a foreign route in the way `RouteConflict`, each named
// in the message, and the kernel keeps what it had. Both once showed as `RoutesFailed`, the
// reason of a change the kernel refused, so an admin could not tell a refusal from a failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCondition } from '../../pkg/api/index.js';
import { eventually, oneHostAgentLab, obj, routes, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;

beforeAll(async () => { lab = await oneHostAgentLab(); }, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

const routesReady = async () => getCondition((await lab.store.get('Node', 'host-1'))?.status?.conditions, 'RoutesReady');

async function waitRoutesReady(reason: string, text: string) {
  return eventually(async () => {
    const c = await routesReady();
    return c?.status === 'False' && c.reason === reason && (c.message ?? '').includes(text) ? c : undefined;
  }, `RoutesReady=False ${reason} naming ${text}`, 20_000);
}

async function peer(name: string, address: string, subnet: string): Promise<void> {
  await lab.store.applyAll([
    obj('Node', name, { address }),
    obj('HostSubnet', `default-${name}`, { node: name, clusterNetwork: 'default', subnet, bridge: 'brx' }),
  ]);
}

async function dropPeer(name: string): Promise<void> {
  await lab.store.delete('HostSubnet', `default-${name}`);
  await lab.store.delete('Node', name);
  await eventually(async () => (await routesReady())?.status === 'True', 'RoutesReady True again');
}

describe('agent: why a peer route is not installed', () => {
  it('a peer whose next hop is this host\'s own address is refused as UnsafeRoute', async () => {
    const [h1] = lab.hosts;
    await peer('liar', '198.18.0.11', '10.76.40.0/24');
    const c = await waitRoutesReady('UnsafeRoute', 'HostSubnet default-liar');
    expect(c.message).toContain('10.76.40.0/24');
    expect((await routes(h1)).some((r) => r.dst === '10.76.40.0/24')).toBe(false);
    await dropPeer('liar');
  });

  it('a route xnet did not make for a peer subnet is RouteConflict, and left alone', async () => {
    const [h1] = lab.hosts;
    await sh(h1, ['ip', 'route', 'add', '10.76.41.0/24', 'via', '198.18.0.1']);
    try {
      await peer('other', '198.18.0.41', '10.76.41.0/24');
      await waitRoutesReady('RouteConflict', '10.76.41.0/24');
      const mine = (await routes(h1)).find((r) => r.dst === '10.76.41.0/24');
      expect(mine).toMatchObject({ gateway: '198.18.0.1' });
      expect(mine?.protocol).not.toBe('76');
    } finally {
      await sh(h1, ['ip', 'route', 'del', '10.76.41.0/24']).catch(() => undefined);
    }
    await dropPeer('other');
  });

  it('a more specific route xnet did not make inside a peer subnet is RouteConflict too, until it goes', async () => {
    const [h1] = lab.hosts;
    await peer('half', '198.18.0.42', '10.76.42.0/24');
    await eventually(async () => (await routes(h1)).some((r) => r.dst === '10.76.42.0/24' && r.protocol === '76') || undefined, 'the peer route in place');
    // an admin's /25 through the router: the kernel sends half the peer's containers there
    await sh(h1, ['ip', 'route', 'add', '10.76.42.0/25', 'via', '198.18.0.1']);
    try {
      expect((await routes(h1)).some((r) => r.dst === '10.76.42.0/25')).toBe(true);
      const c = await waitRoutesReady('RouteConflict', '10.76.42.0/25');
      expect(c.message).toContain('takes part of 10.76.42.0/24 elsewhere');
      // left alone, and xnet's own route too
      expect((await routes(h1)).filter((r) => r.dst.startsWith('10.76.42.0/')).map((r) => r.dst).sort()).toEqual(['10.76.42.0/24', '10.76.42.0/25']);
    } finally {
      await sh(h1, ['ip', 'route', 'del', '10.76.42.0/25']).catch(() => undefined);
    }
    await eventually(async () => (await routesReady())?.status === 'True' || undefined, 'RoutesReady True once the /25 is gone');
    await dropPeer('half');
  });

  it('two peers naming one subnet: one keeps the route, the other is UnsafeRoute, and the route stays put', async () => {
    const [h1] = lab.hosts;
    const via = async () => (await routes(h1)).find((r) => r.dst === '10.76.50.0/24')?.gateway;
    // what the kernel's route says over a second: it flapped between the two next hops for good
    const sampled = async () => { const seen = new Set<string | undefined>(); for (let i = 0; i < 20; i++) { seen.add(await via()); await new Promise((r) => setTimeout(r, 50)); } return [...seen]; };
    await peer('dup-b', '198.18.0.52', '10.76.50.0/24');
    await peer('dup-a', '198.18.0.51', '10.76.50.0/24');
    await eventually(async () => (await via()) === '198.18.0.51' || undefined, 'the route via dup-a');
    expect(await sampled()).toEqual(['198.18.0.51']);
    const c = await waitRoutesReady('UnsafeRoute', 'HostSubnet default-dup-b');
    expect(c.message).toContain('no route for 10.76.50.0/24 via 198.18.0.52: HostSubnet default-dup-a (node dup-a) has that subnet, routed via 198.18.0.51');
    // the one the controller allocated it to keeps it (its status names the subnet)
    await lab.store.writeStatus('HostSubnet', 'default-dup-b', { controller: true }, { subnet: '10.76.50.0/24' });
    await waitRoutesReady('UnsafeRoute', 'HostSubnet default-dup-a');
    await eventually(async () => (await via()) === '198.18.0.52' || undefined, 'the route via dup-b');
    expect(await sampled()).toEqual(['198.18.0.52']);
    await lab.store.delete('HostSubnet', 'default-dup-a');
    await lab.store.delete('Node', 'dup-a');
    await dropPeer('dup-b');
  });

  it('a peer pinned to a subnet the controller refused it (SubnetConflict) gets no route for it', async () => {
    const [h1] = lab.hosts;
    const now = new Date().toISOString();
    const allocated = (status: 'True' | 'False', reason: string) => [{ type: 'Allocated', status, reason, message: reason, lastTransitionTime: now }];
    await peer('whole', '198.18.0.53', '10.76.51.0/24');
    await lab.store.writeStatus('HostSubnet', 'default-whole', { controller: true }, { subnet: '10.76.51.0/24', nodeAddress: '198.18.0.53', conditions: allocated('True', 'Allocated') });
    // half of it pinned by another: the controller refuses it, as it writes such a status
    await peer('part', '198.18.0.54', '10.76.51.0/25');
    await lab.store.writeStatus('HostSubnet', 'default-part', { controller: true }, { nodeAddress: '198.18.0.54', conditions: allocated('False', 'SubnetConflict') });
    const mine = (dst: string) => routes(h1).then((rs) => rs.find((r) => r.dst === dst)?.gateway);
    await eventually(async () => (await mine('10.76.51.0/24')) === '198.18.0.53' && (await mine('10.76.51.0/25')) === undefined || undefined, 'the /24 via whole and no /25 via part', 10_000);
    await lab.store.delete('HostSubnet', 'default-part');
    await lab.store.delete('Node', 'part');
    await dropPeer('whole');
  });
});
