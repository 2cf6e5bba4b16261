// A MacvlanNet (dockerIPAM: blocks) whose exclude is edited moves a node's Docker block, but the
// node's Docker network, with a container attached, cannot be made again (agent planner
// docker-networks.ts: NetworkInUse) and goes on handing out the old block: the controller keeps
// that block claimed (status.nodes[].previousDockerRange, controller/macvlan-moving.ts) while the
// node's agent reports its network still has it, so no address of it goes to a ContainerNic or
// another node, and frees it once the agent has made the network on the new block.
// (Found by review: the controller freed the old block at once; bc2 got .145 from it and a
// ContainerNic got .144, which bc1 held.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentLabWithController, docker, downWithController, eventually, obj, runContainer, type AgentLab } from './agent-harness.js';
import type { agentLabWithController as Lab } from './agent-harness.js';
type Controller = Awaited<ReturnType<typeof Lab>>['controller'];

let lab: AgentLab;
let controller: Controller;
type Part = { name: string; dockerRange?: string; previousDockerRange?: string; ready?: boolean };
const part = async () => (((await lab.store.get('MacvlanNet', 'mvmv'))?.status as { nodes?: Part[] } | undefined)?.nodes ?? []).find((p) => p.name === 'host-1');
const ipOf = async (c: string) => (await docker(lab.hosts[0], ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', c])).trim();
const inside = (ip: string, cidr: string) => {
  const n = (a: string) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  const [base, len] = cidr.split('/');
  const size = 2 ** (32 - Number(len));
  return n(ip) >= n(base) && n(ip) < n(base) + size;
};
const spec = { subnet: '192.168.91.0/24', gateway: '192.168.91.1', ipRange: '192.168.91.128/27', dockerIPAM: 'blocks', blockPrefix: 28, hostShim: false, parent: 'eth0' };

beforeAll(async () => {
  ({ lab, controller } = await agentLabWithController(1));
  await lab.store.applyAll([obj('MacvlanNet', 'mvmv', spec)]);
  await lab.startAgent(lab.hosts[0]);
}, 240_000);

afterAll(async () => { await downWithController(lab, controller); }, 120_000);

const ipRangeOnHost = async () => (await docker(lab.hosts[0], ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.IPRange}}{{end}}', 'mvmv'])).trim();

describe('a node\'s Docker block moved while its network is in use', () => {
  it('keeps the old block claimed while Docker hands it out, and frees it once the network is on the new one', async () => {
    const old = await eventually(async () => (await part())?.dockerRange, 'host-1 has a block', 60_000);
    await eventually(async () => (await docker(lab.hosts[0], ['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes('mvmv'), 'network mvmv on host-1', 30_000);
    await runContainer(lab.hosts[0], 'bc1', ['--net', 'mvmv']);
    const ip1 = await ipOf('bc1');
    expect(inside(ip1, old)).toBe(true);
    // a router turns up in the block: the admin excludes its address (not bc1's)
    const router = ip1.replace(/\d+$/, (o) => String(Number(o) + 5));
    await lab.store.applyAll([obj('MacvlanNet', 'mvmv', { ...spec, exclude: [`${router}/32`] })]);
    const now = await eventually(async () => { const r = (await part())?.dockerRange; return r && r !== old ? r : undefined; }, 'host-1 given another block', 30_000);
    // Docker there cannot leave the old block while bc1 is attached: the controller still holds it for host-1
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await ipRangeOnHost()).toBe(old);
    const moving = await part();
    expect.soft(moving?.previousDockerRange, JSON.stringify(moving)).toBe(old);
    expect.soft(moving?.ready).toBe(false);
    // Docker on host-1 hands out only what the controller holds for host-1
    const c2 = await runContainer(lab.hosts[0], 'bc2', ['--net', 'mvmv']).then(() => ipOf('bc2'), (e: Error) => `refused: ${e.message}`);
    console.log('old block', old, 'new block', now, 'bc1', ip1, 'bc2', c2);
    expect(c2.startsWith('refused') || inside(c2, old) || inside(c2, now), `bc2 got ${c2}, outside host-1's blocks ${old} and ${now}`).toBe(true);
    // and a ContainerNic never gets an address of the block Docker hands out: the /27 holds
    // just the two blocks, so it waits (PoolExhausted) rather than take one of bc1's neighbours
    await runContainer(lab.hosts[0], 'bc3');
    await lab.store.create(obj('ContainerNic', 'bcnic', { node: 'host-1', container: 'bc3', ifName: 'eth1', network: { macvlanNet: 'mvmv' } }));
    const nic = await eventually(async () => {
      const st = (await lab.store.get('ContainerNic', 'bcnic'))?.status as { ip?: string; conditions?: Array<{ reason?: string }> } | undefined;
      return st?.ip ?? (st?.conditions?.some((c) => c.reason === 'PoolExhausted') ? 'PoolExhausted' : undefined);
    }, 'bcnic allocated or waiting', 30_000);
    console.log('bcnic', nic);
    expect(nic === 'PoolExhausted' || !inside(nic, old), `bcnic got ${nic}, in ${old} which host-1's Docker still hands out (bc1 ${ip1}, bc2 ${c2})`).toBe(true);

    // the containers go: the agent makes the network on the new block and the old one is freed.
    // Docker's disconnect and destroy events wake the MacvlanNet's reconcile (agent events.ts),
    // so this takes seconds, not the 30 s periodic resync: the waits stay well under it.
    await docker(lab.hosts[0], ['rm', '-f', 'bc1', 'bc2']);
    await eventually(async () => (await ipRangeOnHost()) === now, `Docker network mvmv on ${now}`, 10_000);
    const after = await eventually(async () => { const p = await part(); return p && !p.previousDockerRange ? p : undefined; }, 'old block freed', 10_000);
    expect(after.dockerRange).toBe(now);
    const bc4 = await runContainer(lab.hosts[0], 'bc4', ['--net', 'mvmv']).then(() => ipOf('bc4'));
    expect(inside(bc4, now), `bc4 got ${bc4}`).toBe(true);
    // the freed block's addresses are the pool's again: the waiting NIC gets one
    const nicIp = await eventually(async () => (await lab.store.get('ContainerNic', 'bcnic'))?.status?.ip as string | undefined, 'bcnic allocated', 60_000);
    expect(inside(nicIp, old), `bcnic got ${nicIp}`).toBe(true);
  }, 240_000);
});
