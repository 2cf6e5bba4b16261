// dockerIPAM xnet: an address a host outside xnet answered for is marked `external`, and the
// mark is no longer for good. A laptop that was on the segment for a while took the address
// away for as long as the Node existed; now the agent whose probe made the mark probes it again
// after a quarantine (here 2 s: `externalQuarantineMs`, the agent's --external-quarantine),
// keeps it while someone answers and frees it once nobody does, as a DHCP server does with a
// declined address. Real etcd (TLS, auth), the real controller and agent, a real dockerd, and
// the kernel's own ARP: the outsider is a lab namespace on the segment holding the address.
import { beforeAll, describe, expect, it } from 'vitest';
import type { MacvlanNet } from '../../pkg/api/index.js';
import { listEvents } from '../../pkg/events/read.js';
import { createHost, hostExec, openLab, type LabHost } from '../../pkg/lab/index.js';
import { registry } from '../../pkg/metrics/metrics.js';
import { useBuilt } from '../harness/built.js';
import { agentLabWithController, downWithController, eventually, obj, labXctl, docker, runContainer } from './agent-harness.js';

const NET = 'outsider';
// on the lab's underlay (host-1's eth0): the outsider's kernel answers ARP there for X
const SPEC = { subnet: '192.168.214.0/24', gateway: '192.168.214.1', ipRange: '192.168.214.128/28', parent: 'eth0', promiscuous: true, hostShim: true };
// among the 9 lowest of the range (a shim and 8 at hand): pre-claimed for host-1 at once
const X = '192.168.214.133';
const QUARANTINE_MS = 2000;

/** The lab: one host whose agent re-probes after QUARANTINE_MS, and the outsider answering for X before the MacvlanNet exists. */
async function build() {
  const { lab, controller } = await agentLabWithController(1);
  try {
    const outsider = await createHost(openLab(lab.dir)!, 9);
    await answer(outsider, true);
    await lab.store.applyAll([obj('MacvlanNet', NET, SPEC)]);
    await lab.startAgent(lab.hosts[0], { externalQuarantineMs: QUARANTINE_MS });
    return { lab, controller, outsider };
  } catch (e) {
    await downWithController(lab, controller);
    throw e;
  }
}

const built = useBuilt(build, async ({ lab, controller }) => downWithController(lab, controller), { buildMs: 300_000, downMs: 180_000 }, 'the lab');

/** Gives the outsider X (it answers ARP for it) or takes it away; checked by reading its addresses back. */
async function answer(outsider: LabHost, on: boolean): Promise<void> {
  const r = await hostExec(outsider, ['ip', 'addr', on ? 'add' : 'del', `${X}/24`, 'dev', outsider.iface]);
  expect(r.exitCode, r.stderr).toBe(0);
  const now = (await hostExec(outsider, ['ip', '-o', '-4', 'addr', 'show', 'dev', outsider.iface])).stdout;
  expect(now.includes(`${X}/24`)).toBe(on);
}

async function mvnStatus(): Promise<{ external?: string[]; nodes?: Array<{ name: string; external?: string[]; addresses?: string[] }> }> {
  return ((await built().lab.store.get('MacvlanNet', NET)) as MacvlanNet | undefined)?.status ?? {};
}

/** X as the status shows it: marked (in status.external and host-1's part), or not. */
async function marked(): Promise<boolean> {
  const s = await mvnStatus();
  const mine = s.nodes?.find((n) => n.name === 'host-1')?.external ?? [];
  return !!s.external?.includes(X) || mine.includes(X);
}

/** xnet_external_reprobes_total{result} of this process (the agent runs in it). */
async function reprobes(result: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'xnet_external_reprobes_total');
  return (m?.values ?? []).filter((v) => v.labels.result === result).reduce((s, v) => s + v.value, 0);
}

async function events(reason: string) {
  return (await listEvents(built().lab.client, '/xnet', { kind: 'MacvlanNet', name: NET })).items.filter((e) => e.reason === reason);
}

describe('an address marked external because a host outside xnet answered for it', () => {
  // the counter is one per process: a file before this one in the same worker may have counted
  let freeAtStart = 0;
  beforeAll(async () => { freeAtStart = await reprobes('free'); });

  it('is marked, and stays marked while the outsider still answers the probes made after each quarantine', async () => {
    await eventually(async () => (await mvnStatus()).external?.includes(X), `${X} marked external by host-1's probe`, 60_000);
    await eventually(async () => (await events('AddressInUseOutside')).length > 0, 'the Warning AddressInUseOutside', 30_000);
    const before = await reprobes('answered');
    // two probes after two quarantines, both answered: the quarantine starts again after each
    await eventually(async () => (await reprobes('answered')) >= before + 2, 'two re-probes of X answered', 30_000);
    const s = await mvnStatus();
    expect(s.external).toContain(X);
    expect(s.nodes?.find((n) => n.name === 'host-1')?.external).toContain(X);
    expect(await reprobes('free')).toBe(freeAtStart);
  }, 120_000);

  it('is freed after the quarantine once the outsider is gone, told in a Normal event, and a container gets it', async () => {
    expect(await marked()).toBe(true);
    await answer(built().outsider, false);
    await eventually(async () => !(await marked()), `${X}'s mark cleared`, 30_000);
    expect(await reprobes('free')).toBeGreaterThanOrEqual(freeAtStart + 1);
    const [ev] = await eventually(async () => { const e = await events('AddressFreeAgain'); return e.length ? e : undefined; }, 'the Normal event AddressFreeAgain', 30_000);
    expect(ev.type).toBe('Normal');
    expect(ev.message).toContain(`${X} no longer answers ARP probes of node host-1`);
    // the address is the pool's again: asked for by name, host-1's plugin gets it and hands it out
    const h = built().lab.hosts[0];
    await runContainer(h, 'back', ['--net', NET, '--ip', X]);
    expect(await docker(h, ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'back'])).toBe(X);
    const check = await labXctl(built().lab, ['ipam', 'check']);
    expect(check.code, check.out + check.err).toBe(0);
  }, 120_000);
});
