// `xctl delete -f` of a manifest holding a MacvlanNet and two ContainerNics on it, each Ready in
// its running container: the user deletes all three in one command, so `xctl get events` must
// hold no Warning about the departing NICs, and their interfaces go. A trial on code from before
// `leftSinceRead` (pkg/agent/reconcilers/nics.ts) saw `Warning MacvlanNetNotOnNode` on them,
// whose message also said the interface "is left as it is" while the agent took it out. And a
// NIC that stays while its MacvlanNet is deleted (`--force`) is told what does become of its
// interface. The MacvlanNet's parent is a veth end this file makes in host-1's namespace (its
// peer up, so a macvlan on it has carrier).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getCondition, isReady, type Condition, type ContainerNic } from '../../pkg/api/index.js';
import { Keys } from '../../pkg/store/keys.js';
import { listEvents } from '../../pkg/events/read.js';
import { hostExec } from '../../pkg/lab/index.js';
import { useBuilt } from '../harness/built.js';
import { Controller } from '../../pkg/controller/controller.js';
import { createLogger } from '../../pkg/log.js';
import { agentLabWithController, downWithController, eventually, inContainer, labXctl, runContainer } from './agent-harness.js';

const CONTAINERS = ['mc1', 'mc2'];
const NICS = CONTAINERS.map((c) => `${c}-eth1`);

const MANIFEST = `apiVersion: xnet.io/v1alpha1
kind: MacvlanNet
metadata:
  name: lan
spec:
  subnet: 192.168.230.0/24
  ipRange: 192.168.230.128/25
  parent: xdm0
  dockerIPAM: blocks
  hostShim: false
${CONTAINERS.map((c) => `---
apiVersion: xnet.io/v1alpha1
kind: ContainerNic
metadata:
  name: ${c}-eth1
spec:
  node: host-1
  container: ${c}
  ifName: eth1
  network:
    macvlanNet: lan
`).join('')}`;

/** the controller running now: the lab's, or the one a test started in its place */
let controller: Controller | undefined;
const built = useBuilt(async () => {
  const { lab, controller } = await agentLabWithController(1);
  try {
    const h = lab.hosts[0];
    await hostExec(h, ['ip', 'link', 'add', 'xdm0', 'type', 'veth', 'peer', 'name', 'xdm1'], { check: true });
    await hostExec(h, ['ip', 'link', 'set', 'xdm1', 'up'], { check: true });
    await lab.startAgent(h);
    for (const c of CONTAINERS) await runContainer(h, c);
  } catch (e) {
    await downWithController(lab, controller);
    throw e;
  }
  return { lab, controller };
}, (b) => downWithController(b.lab, controller ?? b.controller), { buildMs: 240_000, downMs: 120_000 }, 'the lab');

const lab = () => built().lab;

/** Stops the running controller; `start` then starts another under the controller identity. */
async function stopController(): Promise<{ start(): Promise<void> }> {
  await (controller ?? built().controller).stop();
  controller = undefined;
  const log = createLogger('controller');
  log.level = process.env.XNET_LOG_LEVEL ?? 'warn';
  const next = new Controller({ client: lab().controllerClient(), log, leaseTtlSeconds: 5 });
  return { async start() { controller = next; await next.start(); } };
}
const xctl = (args: string[]) => labXctl(lab(), args);
const nic = async (name: string) => (await lab().store.get('ContainerNic', name)) as ContainerNic | undefined;
const eth1In = async (c: string) => /: eth1@/.test((await inContainer(lab().hosts[0], c, ['ip', '-o', 'link'])).stdout);
/** TYPE/REASON of this NIC incarnation's events, as `xctl get events` lists them */
const events = async (name: string, uid: string) => (await listEvents(lab().client, '/xnet', { kind: 'ContainerNic', name, uid })).items.map((e) => `${e.type}/${e.reason}`);
/** `xctl get events` lines of a Warning about the file's NICs */
const nicWarningLines = async () => {
  const r = await xctl(['get', 'events']);
  expect(r.code, r.err).toBe(0);
  return r.out.split('\n').filter((l) => /\sWarning\s/.test(l) && /containernic\/mc\d-eth1/.test(l));
};
/** host-1's own report of the NIC's Ready (the merged view may show the controller's over it) */
const nodeReady = async (name: string) => {
  const v = (await lab().client.get(new Keys('/xnet').status('ContainerNic', name, { node: 'host-1' })).json()) as { conditions?: Condition[] } | null;
  return getCondition(v?.conditions, 'Ready');
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The manifest applied with xctl, every NIC Ready in its container; their uids. */
async function applyReady(file: string): Promise<string[]> {
  const r = await xctl(['apply', '-f', file]);
  expect(r.code, r.err).toBe(0);
  const uids: string[] = [];
  for (const [i, name] of NICS.entries()) {
    const n = await eventually(async () => { const x = await nic(name); return x && isReady(x) ? x : undefined; }, `${name} Ready`, 60_000);
    expect(await eth1In(CONTAINERS[i]), `eth1 in ${CONTAINERS[i]}`).toBe(true);
    expect(await events(name, n.metadata.uid!)).toContain('Normal/Attached');
    uids.push(n.metadata.uid!);
  }
  return uids;
}

describe('xctl delete -f of a MacvlanNet with NICs on it', () => {
  // a race (a reconcile of a NIC in flight when the delete lands): several rounds
  it.each([1, 2])('removes all, takes the interfaces out, and the departing NICs get no Warning event (round %i)', async () => {
    const file = join(lab().dir, 'mvn-and-nics.yaml');
    writeFileSync(file, MANIFEST);
    const uids = await applyReady(file);
    const warnedBefore = await nicWarningLines();
    const del = await xctl(['delete', '-f', file]);
    expect(del.code, del.err).toBe(0);
    expect(del.out).toContain('macvlannet/lan deleted');
    for (const name of NICS) expect(del.out).toContain(`containernic/${name} deleted`);
    for (const name of NICS) await eventually(async () => !(await nic(name)) || undefined, `${name} gone`, 60_000);
    for (const c of CONTAINERS) await eventually(async () => !(await eth1In(c)) || undefined, `eth1 out of ${c}`, 30_000);
    await eventually(async () => !(await lab().store.get('MacvlanNet', 'lan')) || undefined, 'the MacvlanNet gone', 60_000);
    // events are written a moment after the status that caused them
    await sleep(1_500);
    const seen = (await Promise.all(NICS.map(async (n, i) => (await events(n, uids[i])).map((e) => `${n}:${e}`)))).flat();
    expect(seen.filter((e) => e.includes(':Warning/')), seen.join(', ')).toEqual([]);
    // as the user reads them: none more than before this round (`xctl get events` names no uid)
    const warned = await nicWarningLines();
    expect(warned.length, warned.join('\n')).toBe(warnedBefore.length);
  }, 180_000);

  // `xctl delete mvn --force` leaves the NICs. The controller releases their addresses (it hands
  // out none on a MacvlanNet being deleted), and the agent then takes the interfaces out; until
  // it does (here: no controller runs) the interfaces stay. What the NIC is told must say so, not
  // that its interface is left as it is. Last in the file: it replaces the lab's controller.
  it('a NIC that stays while its MacvlanNet is deleted is told that its interface goes once its address is released, and it goes', async () => {
    const file = join(lab().dir, 'mvn-and-nics.yaml');
    writeFileSync(file, MANIFEST);
    const uids = await applyReady(file);
    const next = await stopController();
    const del = await xctl(['delete', 'macvlannet', 'lan', '--force']);
    expect(del.code, del.err).toBe(0);
    for (const name of NICS) {
      const r = await eventually(async () => { const c = await nodeReady(name); return c?.reason === 'MacvlanNetNotOnNode' ? c : undefined; }, `${name} MacvlanNetNotOnNode`, 30_000);
      expect(r.message).toContain('taken out once the controller releases its address');
    }
    for (const c of CONTAINERS) expect(await eth1In(c), `eth1 still in ${c} while no controller released its address`).toBe(true);
    await next.start();
    for (const c of CONTAINERS) await eventually(async () => !(await eth1In(c)) || undefined, `eth1 out of ${c}`, 30_000);
    for (const [i, name] of NICS.entries()) {
      await eventually(async () => (await nodeReady(name))?.reason === 'NoAddress' || undefined, `${name} NoAddress`, 30_000);
      // told, Warnings as it was Ready: first what waits for the controller, then what it did; never that the interface stays
      const told = await eventually(async () => {
        const w = (await listEvents(lab().client, '/xnet', { kind: 'ContainerNic', name, uid: uids[i] })).items.filter((e) => e.type === 'Warning');
        return w.some((e) => e.reason === 'NoAddress') ? w.map((e) => `${e.reason}: ${e.message}`) : undefined;
      }, `a NoAddress Warning for ${name}`, 10_000);
      expect(told.some((m) => m.startsWith('NoAddress') && m.includes('its interface was taken out of the container')), told.join('\n')).toBe(true);
      expect(told.filter((m) => /left as it is/.test(m)), told.join('\n')).toEqual([]);
    }
    const rm = await xctl(['delete', '-f', file, '--ignore-not-found']);
    expect(rm.code, rm.err).toBe(0);
    for (const name of NICS) await eventually(async () => !(await nic(name)) || undefined, `${name} gone`, 60_000);
    await eventually(async () => !(await lab().store.get('MacvlanNet', 'lan')) || undefined, 'the MacvlanNet gone', 60_000);
  }, 180_000);
});
