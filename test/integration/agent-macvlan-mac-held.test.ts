// A macvlan ContainerNic whose declared MAC another macvlan on the same parent holds (chaos
// fault 6: the restarted container's old namespace, which the kernel destroys in the
// background and nobody can enter). The NIC must work on the kernel's MAC meanwhile; retrying
// the declared MAC must never interrupt it (the link changes its MAC live, it is never taken
// down); and the declared MAC must be taken within seconds of being freed, without a lost ping.
// The holder here is a macvlan of this test's own in a namespace of its own, unmarked, so the
// agent's search for its own stale links (stale-nic.ts) rightly leaves it alone.
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { macFromIp } from '../../pkg/agent/desired.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { agentLab, twoHostMacvlanNet, docker, eventually, inContainer, inContainerNetns, obj, readyCondition, runContainer, type AgentLab } from './agent-harness.js';
import { hostExec } from '../../pkg/lab/index.js';

let lab: AgentLab;
let holder: ResultPromise<{ reject: false }>;
const NIC = 'web-mvh';
const IP = '192.168.221.200';
const MAC = macFromIp(IP);
/** Less than any periodic resync (the agents' is an hour away) and than the queue's 10 s backoff cap. */
const MAC_TAKEN_WITHIN_MS = 6_000;

const holderNs = (argv: string[]) => execa('nsenter', ['-t', String(holder.pid), '-n', ...argv], { reject: false, timeout: 10_000 });

interface Mv0 { mac?: string; up: boolean; cidrs: string[] }

async function mv0(): Promise<Mv0> {
  const r = await inContainerNetns(lab.hosts[0], 'web', ['ip', '-json', 'addr', 'show', 'dev', 'mv0']);
  const [l] = r.exitCode === 0 ? JSON.parse(r.stdout) as Array<{ address: string; flags: string[]; addr_info: Array<{ family: string; local: string; prefixlen: number }> }> : [];
  if (!l) return { up: false, cidrs: [] };
  return { mac: l.address, up: l.flags.includes('UP'), cidrs: l.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`) };
}

/** `count` pings from the other host's container, 50 ms apart: "N packets transmitted, M packets received". */
async function pings(count: number): Promise<{ sent: number; received: number }> {
  const out = (await inContainer(lab.hosts[1], 'peer', ['ping', '-q', '-i', '0.05', '-W', '2', '-c', String(count), IP])).stdout;
  const m = /(\d+) packets transmitted, (\d+) packets received/.exec(out);
  if (!m) throw new Error(`ping said: ${out}`);
  return { sent: Number(m[1]), received: Number(m[2]) };
}

/** Every `ip monitor link` line about mv0 in container web's namespace while f runs. */
async function mv0LinkEvents<T>(f: () => Promise<T>): Promise<{ result: T; events: string[] }> {
  const pid = await docker(lab.hosts[0], ['inspect', '-f', '{{.State.Pid}}', 'web']);
  const mon = execa('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-o', 'monitor', 'link'], { reject: false, timeout: 120_000 });
  let out = '';
  mon.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
  await new Promise((r) => setTimeout(r, 300));
  try {
    const result = await f();
    await new Promise((r) => setTimeout(r, 300));
    return { result, events: out.split('\n').filter((l) => /\bmv0\b/.test(l)) };
  } finally {
    mon.kill('SIGTERM');
    await mon;
  }
}

/** MAC changes the agent attempts on mv0, counted at its dataplane. */
function countMacAttempts(): { count: () => number } {
  const dp = lab.agents.get('host-1')!.ctx.dp;
  const execute = dp.execute.bind(dp);
  let n = 0;
  dp.execute = async (ops: Op[], opts?: { independent?: boolean }) => {
    n += ops.filter((o) => o.op === 'link.set.mac' && o.name === 'mv0').length;
    return execute(ops, opts);
  };
  return { count: () => n };
}

beforeAll(async () => {
  lab = await agentLab(2);
  await twoHostMacvlanNet(lab.store, 'mv221', 221);
  await Promise.all(lab.hosts.map((h) => lab.startAgent(h)));
  await runContainer(lab.hosts[0], 'web');
  await eventually(async () => (await docker(lab.hosts[1], ['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes('mv221'), 'mv221 on host-2', 60_000);
  await runContainer(lab.hosts[1], 'peer', ['--net', 'mv221']);
  // The holder: a macvlan on host-1's eth0 (the NIC's parent) with the NIC's MAC, up, in a namespace of ours.
  holder = execa('unshare', ['--net', 'sleep', '900'], { reject: false });
  await eventually(async () => (await execa('readlink', [`/proc/${holder.pid}/ns/net`], { reject: false })).stdout !== (await execa('readlink', ['/proc/self/ns/net'])).stdout, 'the holder has a namespace of its own', 5_000);
  for (const argv of [['ip', 'link', 'add', 'hold0', 'link', 'eth0', 'type', 'macvlan', 'mode', 'bridge'], ['ip', 'link', 'set', 'hold0', 'netns', String(holder.pid)]]) {
    const r = await hostExec(lab.hosts[0], argv);
    if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  }
  const r = await holderNs(['ip', 'link', 'set', 'hold0', 'address', MAC, 'up']);
  if (r.exitCode !== 0) throw new Error(`holding ${MAC}: ${r.stderr}`);
}, 240_000);

afterAll(async () => {
  holder?.kill('SIGKILL');
  await holder;
  await lab?.down();
}, 120_000);

describe('agent: a macvlan NIC whose declared MAC another macvlan of the parent holds', () => {
  it('works on the kernel\'s MAC meanwhile: up, addressed, answering pings, Ready False MacAddressInUse', async () => {
    expect(JSON.parse((await holderNs(['ip', '-json', 'link', 'show', 'hold0'])).stdout)[0]).toMatchObject({ address: MAC, operstate: expect.anything() });
    await lab.store.create(obj('ContainerNic', NIC, { node: 'host-1', container: 'web', ifName: 'mv0', network: { macvlanNet: 'mv221' } }));
    await lab.store.writeStatus('ContainerNic', NIC, { controller: true }, { ip: IP, prefixLength: 24 });
    const c = await eventually(async () => { const x = await readyCondition(lab.store, 'ContainerNic', NIC); return x?.reason === 'MacAddressInUse' && x; }, 'Ready False MacAddressInUse', 30_000);
    expect(c).toMatchObject({ status: 'False', message: expect.stringContaining(MAC) });
    const s = await mv0();
    expect(s.up).toBe(true);
    expect(s.cidrs).toContain(`${IP}/24`);
    expect(s.mac).not.toBe(MAC);
    expect((await lab.store.get('ContainerNic', NIC))?.status).toMatchObject({ mac: s.mac });
    expect((await pings(5)).received).toBeGreaterThan(0);
  }, 120_000);

  it('keeps retrying the declared MAC without taking mv0 down: no link event, no ping lost', async () => {
    const attempts = countMacAttempts();
    // the link is watched for as long as the agent takes to try three times (its retries back
    // off to 2 s, and each try takes longer on a loaded machine than the 8 s of pings)
    const { result, events } = await mv0LinkEvents(async () => {
      const r = await pings(160);
      await eventually(async () => attempts.count() >= 3, 'three tries of the declared MAC', 15_000).catch(() => undefined);
      return r;
    });
    expect(attempts.count(), 'the agent tried the declared MAC again and again during the pings').toBeGreaterThanOrEqual(3);
    expect(result).toEqual({ sent: 160, received: 160 });
    expect(events).toEqual([]);
    expect((await mv0()).mac).not.toBe(MAC);
    expect((await readyCondition(lab.store, 'ContainerNic', NIC))?.reason).toBe('MacAddressInUse');
  }, 60_000);

  it('takes the declared MAC within seconds of it being freed, losing at most the ping in flight at the switch', async () => {
    const during = pings(120);
    await new Promise((r) => setTimeout(r, 500));
    expect((await holderNs(['ip', 'link', 'del', 'hold0'])).exitCode).toBe(0);
    const freedAt = Date.now();
    await eventually(async () => (await mv0()).mac === MAC, 'mv0 with its declared MAC', MAC_TAKEN_WITHIN_MS);
    const tookMs = Date.now() - freedAt;
    console.log(`mv0 took its declared MAC ${tookMs} ms after it was freed`);
    // A request the peer sent to the old MAC in the instant before the kernel's gratuitous ARP
    // (arp_notify) reached it is dropped: one in a full-suite run. Taking the link down to
    // change it, as the agent once did, lost 75-109 of these.
    const across = await during;
    expect(across.sent).toBe(120);
    expect(across.received, 'pings answered across the switch').toBeGreaterThanOrEqual(119);
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', NIC))?.status === 'True', 'Ready True', 10_000);
    expect((await lab.store.get('ContainerNic', NIC))?.status).toMatchObject({ mac: MAC });
    expect(await mv0()).toMatchObject({ mac: MAC, up: true, cidrs: [`${IP}/24`] });
  }, 60_000);
});
