// A MacvlanNet's release on one host: nothing left behind, and nothing taken away too early,
// when a MacvlanNet goes, stops selecting the node, or stops asking for promiscuous mode. Each
// parent is a veth end this file makes in host-1's namespace, down and not promiscuous, so what
// the agent changed on it shows (its peer is up, so that a parent up has carrier).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../pkg/store/keys.js';
import { hostExec } from '../../pkg/lab/index.js';
import { HEAL_WAIT_MS } from '../harness/heal.js';
import { agentLab, docker, eventually, inContainerNetns, obj, readyCondition, runContainer, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];
const flags = async (dev: string) => (await sh(h1(), ['ip', '-d', 'link', 'show', 'dev', dev])).match(/<([^>]*)>/)?.[1].split(',') ?? [];
// etcd3 answers null for a missing key
const nodeStatus = async (name: string) => (await lab.client.get(new Keys('/xnet').status('MacvlanNet', name, { node: 'host-1' })).string()) ?? undefined;
const readyOf = async (name: string) => {
  const v = await nodeStatus(name);
  return v ? (JSON.parse(v) as { conditions?: Array<{ type: string; status: string; reason: string }> }).conditions?.find((c) => c.type === 'Ready') : undefined;
};
const networks = async () => (await docker(h1(), ['network', 'ls', '--format', '{{.Name}}'])).split('\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A MacvlanNet on `parent` (blocks, no shim) selecting nodes labelled review=yes, Ready on host-1. */
async function apply(name: string, parent: string, octet: number, extra: Record<string, unknown> = {}): Promise<void> {
  await lab.store.create(obj('MacvlanNet', name, { subnet: `192.168.${octet}.0/24`, parent, dockerIPAM: 'blocks', hostShim: false, nodeSelector: { matchLabels: { review: 'yes' } }, ...extra }));
  await lab.store.writeStatus('MacvlanNet', name, { controller: true }, { nodes: [{ name: 'host-1', dockerRange: `192.168.${octet}.128/28` }] });
  await eventually(async () => (await readyOf(name))?.status === 'True', `${name} Ready on host-1`);
}

beforeAll(async () => {
  lab = await agentLab(1);
  for (const [a, b] of [['xra0', 'xra1'], ['xrb0', 'xrb1'], ['xrc0', 'xrc1']]) {
    await hostExec(lab.hosts[0], ['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b], { check: true });
    // the peer up: a parent the agent brings up has carrier, so a macvlan on it is not LOWERLAYERDOWN
    await hostExec(lab.hosts[0], ['ip', 'link', 'set', b, 'up'], { check: true });
  }
  await lab.admitNode('host-1');
  const n = (await lab.store.get('Node', 'host-1'))!;
  await lab.store.update({ ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, review: 'yes' } } });
  await lab.startAgent(lab.hosts[0]);
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('a MacvlanNet\'s part on a host when it goes', () => {
  // The deleted MacvlanNet is in no cache: its network, refused while rvc1 is on it, is found
  // again from Docker's side (the network labelled as its own) when the container goes.
  it('removes the Docker network of a deleted MacvlanNet once its last container leaves, and gives the parent back', async () => {
    await apply('rvdel', 'xra0', 81);
    await runContainer(h1(), 'rvc1', ['--net', 'rvdel']);
    await lab.store.delete('MacvlanNet', 'rvdel');
    // the network waits for rvc1: the removal happened and was refused (NetworkInUse), parent kept
    await sleep(3_000);
    expect(await networks()).toContain('rvdel');
    expect(await flags('xra0')).toEqual(expect.arrayContaining(['UP', 'PROMISC']));
    await docker(h1(), ['rm', '-f', 'rvc1']);
    await eventually(async () => !(await networks()).includes('rvdel'), 'rvdel\'s Docker network gone once rvc1 left', 15_000);
    await eventually(async () => { const f = await flags('xra0'); return !f.includes('UP') && !f.includes('PROMISC'); }, 'xra0 given back', 10_000);
    await eventually(async () => (await nodeStatus('rvdel')) === undefined, 'host-1\'s report on rvdel gone', HEAL_WAIT_MS);
  });

  // The macvlan NIC in the container is a use of its parent whatever its MacvlanNet selects; the
  // NIC itself is no longer what is declared, and says so.
  it('does not take a parent down under a macvlan ContainerNic when the MacvlanNet stops selecting the node', async () => {
    await apply('rvsel', 'xrb0', 82);
    await runContainer(h1(), 'rvc2');
    await lab.store.create(obj('ContainerNic', 'rvnic', { node: 'host-1', container: 'rvc2', ifName: 'eth1', network: { macvlanNet: 'rvsel' } }));
    await lab.store.writeStatus('ContainerNic', 'rvnic', { controller: true }, { ip: '192.168.82.20', prefixLength: 24 });
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', 'rvnic'))?.status === 'True', 'rvnic Ready');
    expect(await flags('xrb0')).toContain('UP');
    const m = (await lab.store.get('MacvlanNet', 'rvsel'))!;
    await lab.store.update({ ...m, spec: { ...m.spec, nodeSelector: { matchLabels: { review: 'elsewhere' } } } } as typeof m);
    // the node's part is taken off (network without containers, report) ...
    await eventually(async () => !(await networks()).includes('rvsel'), 'rvsel\'s Docker network gone', 10_000);
    await sleep(2_000);
    const nicReady = await readyCondition(lab.store, 'ContainerNic', 'rvnic');
    const inside = (await inContainerNetns(h1(), 'rvc2', ['ip', '-o', 'link', 'show', 'dev', 'eth1'])).stdout;
    // ... the NIC says why it is not Ready, and its link in the container still works on its parent
    expect(nicReady).toMatchObject({ status: 'False', reason: 'MacvlanNetNotOnNode' });
    expect(nicReady?.message).toContain('does not select node host-1');
    // (a macvlan whose parent goes down is set down with it, or is LOWERLAYERDOWN)
    expect(inside.match(/<([^>]*)>/)?.[1].split(',')).toEqual(expect.arrayContaining(['UP', 'LOWER_UP']));
    expect(inside).not.toContain('LOWERLAYERDOWN');
    expect(await flags('xrb0')).toContain('UP');
  });

  // Docker's inspect lists only running containers, and `docker network rm` goes through with
  // stopped ones on the network; a stopped container would never start again without it.
  it('keeps the Docker network of a MacvlanNet that stops selecting the node while a stopped container is on it', async () => {
    await hostExec(h1(), ['ip', 'link', 'add', 'xrf0', 'type', 'veth', 'peer', 'name', 'xrf1'], { check: true });
    await hostExec(h1(), ['ip', 'link', 'set', 'xrf1', 'up'], { check: true });
    await apply('rvstop', 'xrf0', 86);
    await runContainer(h1(), 'rvc3', ['--net', 'rvstop']);
    await docker(h1(), ['stop', '-t', '1', 'rvc3']);
    const m = (await lab.store.get('MacvlanNet', 'rvstop'))!;
    await lab.store.update({ ...m, spec: { ...m.spec, nodeSelector: { matchLabels: { review: 'elsewhere' } } } } as typeof m);
    await sleep(4_000);
    expect(await networks(), 'rvstop kept for the stopped rvc3').toContain('rvstop');
    expect(await nodeStatus('rvstop'), 'host-1 still reports on rvstop').toBeDefined();
    await docker(h1(), ['start', 'rvc3']);
    expect(await docker(h1(), ['inspect', '-f', '{{.State.Running}}', 'rvc3'])).toBe('true');
    await docker(h1(), ['stop', '-t', '1', 'rvc3']);
    await docker(h1(), ['rm', 'rvc3']);
    await eventually(async () => !(await networks()).includes('rvstop'), 'rvstop\'s Docker network gone once rvc3 was removed', 15_000);
    await eventually(async () => (await nodeStatus('rvstop')) === undefined, 'host-1\'s report on rvstop gone', HEAL_WAIT_MS);
  });

  // The parent stays in use (rvpro's network is on it): only the promiscuous mode xnet set goes.
  it('turns promiscuous mode off again when spec.promiscuous is set to false', async () => {
    await apply('rvpro', 'xrc0', 83);
    expect(await flags('xrc0')).toEqual(expect.arrayContaining(['UP', 'PROMISC']));
    const m = (await lab.store.get('MacvlanNet', 'rvpro'))!;
    await lab.store.update({ ...m, spec: { ...m.spec, promiscuous: false } } as typeof m);
    await sleep(1_000);
    await eventually(async () => (await readyOf('rvpro'))?.status === 'True', 'rvpro Ready after the edit');
    await eventually(async () => !(await flags('xrc0')).includes('PROMISC'), 'xrc0 no longer promiscuous', 10_000);
    // still rvpro's parent: up, its network on it, Ready
    expect(await flags('xrc0')).toContain('UP');
    expect(await networks()).toContain('rvpro');
    expect((await readyOf('rvpro'))?.status).toBe('True');
  });

  // A label is anyone's to write: a gone MacvlanNet's network goes only when this node's network
  // record (pkg/agent/network-record.ts) holds it; a user's macvlan network labelled for a
  // MacvlanNet that could exist stays.
  it('of the networks labelled for MacvlanNets gone while the agent was down, only the one this node recorded making goes', async () => {
    const id = async (name: string) => (await docker(h1(), ['network', 'ls', '--filter', `name=^${name}$`, '--format', '{{.ID}}'])).trim();
    for (const [a, b] of [['xrd0', 'xrd1'], ['xre0', 'xre1']]) await hostExec(h1(), ['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b], { check: true });
    try {
      await apply('rvrec', 'xrd0', 84);
      expect(await id('rvrec')).not.toBe('');
      await lab.stopAgent(h1());
      await lab.store.delete('MacvlanNet', 'rvrec');
      await docker(h1(), ['network', 'create', '-d', 'macvlan', '-o', 'parent=xre0', '--subnet', '192.168.85.0/24', '--label', 'io.xnet.owner=MacvlanNet/rvghost', 'ghostmv']);
      const users = await id('ghostmv');
      expect(users).not.toBe('');
      await lab.startAgent(h1());
      await eventually(async () => (await id('rvrec')) === '', 'rvrec (xnet\'s leftover) removed', 15_000);
      // the pass that removed xnet's leftover left the user's network as it was
      expect(await id('ghostmv')).toBe(users);
    } finally {
      await lab.store.delete('MacvlanNet', 'rvrec').catch(() => undefined);
      await docker(h1(), ['network', 'rm', 'ghostmv']).catch(() => undefined);
      for (const a of ['xrd0', 'xre0']) await hostExec(h1(), ['ip', 'link', 'del', a]).catch(() => undefined);
    }
  }, 120_000);
});
