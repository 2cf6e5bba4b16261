// A node taken out of a ClusterNetwork (its label removed) while a container is still on its
// Docker network: the agent cannot remove that network until the container goes, so its
// subnet stays live on the host. Its HostSubnet goes, but the block claim is kept until the
// agent's report on it goes (once the network is off the host), so a node that joins meanwhile
// gets another block, not one a container here still uses. Real etcd, the controller, an
// agent and a dockerd on host-1; host-2 is only a Node the admin applies.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { isReady, type HostSubnet } from '../../pkg/api/index.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { parseCidr } from '../../pkg/ip/ipv4.js';
import { Keys } from '../../pkg/store/keys.js';
import { Dataplane, type AgentDataplane } from '../../pkg/agent/dataplane.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { netnsTarget } from '../../pkg/netlink/target.js';
import type { LabHost } from '../../pkg/lab/index.js';
import { agentJoined, agentLabWithController, docker, downWithController, eventually, obj, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
let controller: Controller | undefined;
// exactly two /24 blocks: with host-1's freed, host-2 would get it (the lowest free one)
const cnDoc = obj('ClusterNetwork', 'lv', { cidr: '10.79.0.0/23', hostPrefix: 24, dockerNetwork: 'lvnet', nodeSelector: { matchLabels: { lv: 'yes' } } });

beforeAll(async () => {
  ({ lab, controller } = await agentLabWithController(1));
  await lab.store.applyAll([cnDoc]);
  await agentJoined(lab);
}, 240_000);

afterAll(() => downWithController(lab, controller), 120_000);

const hs = async (node: string) => (await lab.store.get('HostSubnet', `lv-${node}`)) as HostSubnet | undefined;
const label = async (node: string, labels: Record<string, string>) => {
  const n = await lab.store.get('Node', node);
  await lab.store.update({ ...n!, metadata: { ...n!.metadata, labels } });
};
const networks = async () => (await docker(lab.hosts[0], ['network', 'ls', '--format', '{{.Name}}'])).split('\n');
const claimed = async (subnet: string) => (await lab.client.get(new IpamKeys('/xnet').claim('clusternetworks', 'lv', 'blocks', parseCidr(subnet).base))) !== null;
const reported = async (name: string) => (await lab.client.get(new Keys('/xnet').status('HostSubnet', name, { node: 'host-1' }))) !== null;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** host-1 labelled into lv: its HostSubnet's subnet once Ready. */
async function joinLv(): Promise<string> {
  await label('host-1', { lv: 'yes' });
  const mine = await eventually(async () => { const h = await hs('host-1'); return h && isReady(h) && h.status?.subnet ? h : undefined; }, 'lv-host-1 Ready', 30_000);
  return String(mine.status!.subnet);
}

describe('a node taken out of a ClusterNetwork with a container still on its network', () => {
  it('keeps its block claimed until the network is off the host: a node joining meanwhile gets another block; the claim goes within seconds of the container', async () => {
    const subnet = await joinLv();
    await runContainer(lab.hosts[0], 'lv1', ['--net', 'lvnet']);
    await label('host-1', {});
    await eventually(async () => !(await hs('host-1')) || undefined, 'HostSubnet lv-host-1 deleted', 10_000);
    // the container keeps the network (and the subnet) on host-1, so the block stays claimed
    await sleep(2_000);
    expect(await networks()).toContain('lvnet');
    expect(await claimed(subnet), `the claim of ${subnet} is kept`).toBe(true);
    expect(await reported('lv-host-1'), 'host-1 still reports on lv-host-1').toBe(true);
    const kept = await ipamCheck(lab.client, '/xnet');
    expect(kept.problems, kept.text).toBe(0);
    // a node joining now gets the other block
    await lab.store.create(obj('Node', 'host-2', {}, { lv: 'yes' }));
    const theirs = await eventually(async () => { const h = await hs('host-2'); return h?.status?.subnet ? h : undefined; }, 'lv-host-2 allocated', 15_000);
    expect(theirs.status!.subnet).not.toBe(subnet);
    await eventually(async () => ((await lab.store.get('ClusterNetwork', 'lv'))?.status as { allocated?: number } | undefined)?.allocated === 2 || undefined, 'ClusterNetwork lv counts the kept block', 10_000);
    // the container goes: the network, the report and the claim follow within seconds
    await docker(lab.hosts[0], ['rm', '-f', 'lv1']);
    // within seconds: each wait is the bound (the agent's resync is an hour away); a clock read
    // of 15 s over two waits of 10 s each could fail with both inside their bounds
    await eventually(async () => !(await networks()).includes('lvnet') || undefined, 'lvnet removed from host-1', 10_000);
    await eventually(async () => !(await claimed(subnet)) || undefined, `the claim of ${subnet} freed`, 10_000);
    expect(await reported('lv-host-1')).toBe(false);
    // what `xctl get clusternetwork` shows follows: the kept block counted while kept, not after
    const counted = async () => ((await lab.store.get('ClusterNetwork', 'lv'))?.status as { allocated?: number } | undefined)?.allocated;
    await eventually(async () => (await counted()) === 1 || undefined, 'ClusterNetwork lv counts 1 block allocated', 10_000);
    const after = await ipamCheck(lab.client, '/xnet');
    expect(after.problems, after.text).toBe(0);
  }, 120_000);
});

/**
 * host-1's real dataplane, except that its first `docker network create` of `network` waits
 * for the test: `reached` resolves when the agent asks for it, `release(during)` lets it run,
 * then runs `during` (what happens on the host right after Docker made the network) before the
 * agent goes on.
 */
function gatedCreate(h: LabHost, network: string) {
  const real = new Dataplane(netnsTarget(h.netns), h.dockerHost);
  let reach!: () => void;
  let open!: (during: () => Promise<void>) => void;
  const reached = new Promise<void>((r) => { reach = r; });
  const released = new Promise<() => Promise<void>>((r) => { open = r; });
  let gated = false;
  const execute = async (ops: Op[], opts?: { independent?: boolean }) => {
    if (gated || !ops.some((o) => o.op === 'docker.network.create' && o.spec.name === network)) return real.execute(ops, opts);
    gated = true;
    reach();
    const during = await released;
    await real.execute(ops, opts);
    await during();
  };
  const dataplane = new Proxy(real, {
    get: (t, p) => (p === 'execute' ? execute : typeof Reflect.get(t, p) === 'function' ? Reflect.get(t, p).bind(t) : Reflect.get(t, p)),
  }) as AgentDataplane;
  return { dataplane, reached, release: (during: () => Promise<void>) => open(during) };
}

describe('a HostSubnet deleted while the agent makes its Docker network', () => {
  it('keeps the block claimed (the report was written before the network was made) while a container attached meanwhile keeps the network', async () => {
    await lab.stopAgent(lab.hosts[0]);
    const gate = gatedCreate(lab.hosts[0], 'lvnet');
    // let go also when the test fails before its own release: a worker held at the gate would
    // keep the agent's stop (lab.down in afterAll) waiting, and the lab and etcd would never go
    onTestFinished(() => gate.release(async () => undefined));
    await lab.startAgent(lab.hosts[0], { dataplane: gate.dataplane });
    await label('host-1', { lv: 'yes' });
    await Promise.race([gate.reached, sleep(30_000).then(() => { throw new Error('the agent never asked Docker for lvnet'); })]);
    const subnet = String((await hs('host-1'))!.status!.subnet);
    expect(await networks(), 'lvnet is not made yet').not.toContain('lvnet');
    // the HostSubnet goes while Docker makes its network, and a container attaches to it
    await label('host-1', {});
    await eventually(async () => !(await hs('host-1')) || undefined, 'HostSubnet lv-host-1 deleted', 10_000);
    gate.release(async () => { await runContainer(lab.hosts[0], 'lv2', ['--net', 'lvnet']); });
    await eventually(async () => (await docker(lab.hosts[0], ['ps', '--filter', 'name=lv2', '--format', '{{.Names}}'])) === 'lv2' || undefined, 'container lv2 running on lvnet', 30_000);
    await sleep(2_000);
    expect(await networks()).toContain('lvnet');
    expect(await claimed(subnet), `the claim of ${subnet}, live on host-1, is kept`).toBe(true);
    expect(await reported('lv-host-1'), 'host-1 reports on lv-host-1').toBe(true);
    const kept = await ipamCheck(lab.client, '/xnet');
    expect(kept.problems, kept.text).toBe(0);
    // the container goes: the network, the report and the claim follow
    await docker(lab.hosts[0], ['rm', '-f', 'lv2']);
    await eventually(async () => !(await networks()).includes('lvnet') || undefined, 'lvnet removed from host-1', 10_000);
    await eventually(async () => !(await claimed(subnet)) || undefined, `the claim of ${subnet} freed`, 10_000);
    expect(await reported('lv-host-1')).toBe(false);
  }, 120_000);
});

// Docker's inspect lists only running containers, and `docker network rm` goes through with
// stopped ones on the network: a stopped container counts as attached all the same (its
// `docker start` asks for the network by id), so the network, and the block, stay for it.
describe('a node taken out of a ClusterNetwork with only a stopped container on its network', () => {
  it('keeps the network, so the container starts again; it goes once the container is removed', async () => {
    const subnet = await joinLv();
    await runContainer(lab.hosts[0], 'lv3', ['--net', 'lvnet']);
    await docker(lab.hosts[0], ['stop', '-t', '1', 'lv3']);
    await label('host-1', {});
    await eventually(async () => !(await hs('host-1')) || undefined, 'HostSubnet lv-host-1 deleted', 10_000);
    await sleep(4_000);
    expect(await networks(), 'lvnet kept for the stopped lv3').toContain('lvnet');
    expect(await claimed(subnet), `the claim of ${subnet} is kept`).toBe(true);
    await docker(lab.hosts[0], ['start', 'lv3']);
    expect(await docker(lab.hosts[0], ['inspect', '-f', '{{.State.Running}}', 'lv3'])).toBe('true');
    // stopped again and removed: its removal alone (no network event) lets the network go
    await docker(lab.hosts[0], ['stop', '-t', '1', 'lv3']);
    await sleep(2_000);
    expect(await networks()).toContain('lvnet');
    await docker(lab.hosts[0], ['rm', 'lv3']);
    await eventually(async () => !(await networks()).includes('lvnet') || undefined, 'lvnet removed from host-1', 10_000);
    await eventually(async () => !(await claimed(subnet)) || undefined, `the claim of ${subnet} freed`, 10_000);
  }, 120_000);
});
