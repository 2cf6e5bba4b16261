// A NIC that is the container's default route (spec.defaultRoute) keeps the container's own
// default route (Docker's, via 172.17.0.1 on eth0) as a fallback at metric 10076 and takes
// metric 0: whenever the NIC's route goes (the NIC deleted, with the agent up or down, or
// defaultRoute set false) the container's traffic leaves by Docker's gateway again. Review revdp
// found the container left with no default route, or with the NIC's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FALLBACK_DEFAULT_METRIC } from '../../pkg/agent/planner/default-route.js';
import { allocateNic, docker, eventually, inContainerNetns, obj, oneHostAgentLab, readyCondition, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;

beforeAll(async () => {
  lab = await oneHostAgentLab();
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

type DefaultRoute = { gateway?: string; dev?: string; metric?: number };
const defaultRoutes = async (c: string) => JSON.parse((await inContainerNetns(lab.hosts[0], c, ['ip', '-json', 'route', 'show', 'default'])).stdout || '[]') as DefaultRoute[];
/** The interface the container's traffic to an outside address leaves by (TEST-NET-3: nothing is sent). */
const outboundDev = async (c: string) => (JSON.parse((await inContainerNetns(lab.hosts[0], c, ['ip', '-json', 'route', 'get', '203.0.113.7'])).stdout || '[]') as DefaultRoute[])[0]?.dev;

const DOCKERS = { dev: 'eth0', gateway: '172.17.0.1' };
const asDefault = [expect.objectContaining({ dev: 'eth1', gateway: '10.76.1.1' }), expect.objectContaining({ ...DOCKERS, metric: FALLBACK_DEFAULT_METRIC })];
const dockersOnly = [expect.objectContaining(DOCKERS)];
const sameAs = (want: unknown) => async (c: string) => { try { expect(await defaultRoutes(c)).toEqual(want); return true; } catch { return false; } };

async function nicAsDefault(container: string, nic: string, ip: string): Promise<void> {
  await runContainer(lab.hosts[0], container);
  const before = await defaultRoutes(container);
  expect(before).toEqual(dockersOnly);
  expect(before[0].metric, 'Docker\'s default route at metric 0 (ip prints none)').toBeUndefined();
  await lab.store.create(obj('ContainerNic', nic, { node: 'host-1', container, ifName: 'eth1', network: { clusterNetwork: 'default' }, defaultRoute: true }));
  await allocateNic(lab.store, nic, ip);
  await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', nic))?.status === 'True', `${nic} Ready`);
  expect(await defaultRoutes(container), 'the NIC\'s default route, Docker\'s kept as the fallback').toEqual(asDefault);
  expect(await outboundDev(container)).toBe('eth1');
}

describe('a default-route NIC gives the container\'s default route back', () => {
  it('deleting the NIC leaves the container its Docker default route', async () => {
    await nicAsDefault('dr1', 'dr1-eth1', '10.76.1.71');
    await lab.store.delete('ContainerNic', 'dr1-eth1');
    await eventually(async () => !(await inContainerNetns(lab.hosts[0], 'dr1', ['ip', 'link', 'show'])).stdout.includes('eth1'), 'eth1 gone');
    expect(await defaultRoutes('dr1'), 'the container\'s default route after its default-route NIC went').toEqual(dockersOnly);
    expect(await outboundDev('dr1')).toBe('eth0');
  }, 60_000);

  it('setting defaultRoute false gives the default route back to Docker\'s eth0', async () => {
    await nicAsDefault('dr2', 'dr2-eth1', '10.76.1.72');
    const nic = await lab.store.get('ContainerNic', 'dr2-eth1');
    await lab.store.update({ ...nic!, spec: { ...nic!.spec, defaultRoute: false } } as never);
    await eventually(() => sameAs(dockersOnly)('dr2'), 'only Docker\'s default route after defaultRoute: false', 15_000);
    expect(await outboundDev('dr2')).toBe('eth0');
    // the NIC itself stays, and Ready
    expect((await inContainerNetns(lab.hosts[0], 'dr2', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'])).stdout).toContain('10.76.1.72/24');
    expect((await readyCondition(lab.store, 'ContainerNic', 'dr2-eth1'))?.status).toBe('True');
  }, 60_000);

  it('a restarted container\'s fresh Docker route is kept aside too, and takes over when the NIC goes while the agent is down', async () => {
    await nicAsDefault('dr3', 'dr3-eth1', '10.76.1.73');
    await docker(lab.hosts[0], ['restart', '-t', '0', 'dr3']);
    await eventually(() => sameAs(asDefault)('dr3'), 'the NIC the default route again in the restarted container, Docker\'s new route kept', 30_000);
    await lab.stopAgent(lab.hosts[0]);
    await lab.store.delete('ContainerNic', 'dr3-eth1');
    await lab.startAgent(lab.hosts[0]);
    // the agent's start-up collects the gone NIC's host end, and the container end goes with it
    await eventually(async () => !(await inContainerNetns(lab.hosts[0], 'dr3', ['ip', 'link', 'show'])).stdout.includes('eth1'), 'eth1 gone', 30_000);
    expect(await defaultRoutes('dr3')).toEqual(dockersOnly);
    expect(await outboundDev('dr3')).toBe('eth0');
  }, 120_000);
});
