// The agent keeps what it read of the host between passes while its kernel monitor is subscribed
// (pkg/agent/host-reads.ts): passes that change nothing on the host spawn no `ip` to read it, and
// a change by hand still heals at once, because the monitor's event drops what was kept. The same
// for its NAT pass's reads (iptables-save, the ip_forward sysctl: pkg/agent/nat-reads.ts), counted
// by the agent's own account of the programs it ran (xnet_command_duration_seconds).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostExec } from '../../pkg/lab/index.js';
import { Dataplane } from '../../pkg/agent/dataplane.js';
import { netnsTarget } from '../../pkg/netlink/target.js';
import { rtnlSubscribed } from '../../pkg/netlink/subscribed.js';
import { breakAndCheck, breakVerified } from '../harness/heal.js';
import { commandDuration, reconcileDuration } from '../../pkg/metrics/metrics.js';
import { agentLab, createDefaultNetwork, eventually, routes, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
let dp: Dataplane;

beforeAll(async () => {
  lab = await agentLab(1);
  const [h] = lab.hosts;
  await createDefaultNetwork(lab.store, 2);
  dp = new Dataplane(netnsTarget(h.netns), h.dockerHost);
  await lab.startAgent(h, { dataplane: dp });
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

const peerRoute = async () => (await routes(lab.hosts[0])).some((r) => r.dst === '10.76.2.0/24' && r.gateway === '198.18.0.12' && r.protocol === '76');

describe('the agent\'s reads of its host', () => {
  it('are kept between passes that change nothing on the host: five routes passes, at most one read', async () => {
    await eventually(peerRoute, 'the peer route');
    // the monitor subscribes within moments of the agent's start; passes after that keep their read
    // a new label each look: the same one again is no change, no event and no pass (the test
    // waited 30 s for a pass that never came when the first one ran before the read could be kept)
    let look = 0;
    await eventually(async () => { await lab.store.update(await relabelled(`0-${look++}`)); return dp.ip.counts.kept > 0; }, 'a read kept')
      .catch((e: Error) => { throw new Error(`${e.message}; reads ${JSON.stringify(dp.ip.counts)}, ${JSON.stringify(keptState(dp))}`); });
    const before = { ...dp.ip.counts };
    for (let i = 1; i <= 5; i++) {
      await lab.store.update(await relabelled(String(i)));
      await eventually(async () => dp.ip.counts.kept + dp.ip.counts.read >= before.kept + before.read + i, `routes pass ${i}`);
    }
    expect(dp.ip.counts.read - before.read, JSON.stringify({ before, after: dp.ip.counts })).toBeLessThanOrEqual(1);
  });

  it('a route deleted by hand while reads are kept is put back: the monitor\'s event drops the kept read', async () => {
    const kept = dp.ip.counts.kept;
    await lab.store.update(await relabelled('x'));
    await eventually(async () => dp.ip.counts.kept > kept, 'a read kept just before the break');
    await breakAndCheck('route deleted', {
      whole: peerRoute,
      breakIt: () => breakVerified((argv) => hostExec(lab.hosts[0], argv), ['ip', 'route', 'del', '10.76.2.0/24'], { argv: ['ip', 'route', 'show'], gone: '10.76.2.0/24' }),
    });
  });
});

/** The peer's HostSubnet with a label changed: the agent runs a routes pass for it, which changes nothing. */
async function relabelled(v: string, name = 'default-host-2') {
  const hs = (await lab.store.get('HostSubnet', name))!;
  return { ...hs, metadata: { ...hs.metadata, labels: { ...hs.metadata.labels, pass: v } } };
}

/** How many times this process ran `program` through pkg/netlink/exec.ts (the agent's metrics). */
async function ran(program: string): Promise<number> {
  return (await commandDuration.get()).values.find((v) => v.metricName === 'xnet_command_duration_seconds_count' && v.labels.command === program)?.value ?? 0;
}
const natReadSpawns = async () => (await ran('iptables-save')) + (await ran('sysctl'));
/** NAT passes this process's agents ran (the agent's metrics). */
const natPasses = async () => (await reconcileDuration.get()).values.find((v) => v.metricName === 'xnet_reconcile_duration_seconds_count' && v.labels.kind === 'NAT')?.value ?? 0;
/** An etcd change that starts a NAT pass on host-1 and changes nothing there: its own HostSubnet relabelled. */
async function natPass(v: string): Promise<void> {
  const passes = await natPasses();
  await lab.store.update(await relabelled(v, 'default-host-1'));
  await eventually(async () => (await natPasses()) > passes, `the NAT pass of label ${v}`);
}
const NAT_RULE = '-A XNET-POSTROUTING -s 10.76.1.0/24 -d 10.76.0.0/16 -j ACCEPT';
const natRule = async () => (await sh(lab.hosts[0], ['iptables', '-t', 'nat', '-S', 'XNET-POSTROUTING'])).split('\n').includes(NAT_RULE);
const forwarding = async () => (await sh(lab.hosts[0], ['sysctl', '-n', 'net.ipv4.ip_forward'])).trim() === '1';

describe('the agent\'s NAT reads', () => {
  it('are kept between NAT passes that etcd changes start and that change nothing: no iptables-save or sysctl again', async () => {
    await eventually(natRule, 'xnet\'s NAT rule');
    await natPass('n0');
    const before = await natReadSpawns();
    for (let i = 1; i <= 5; i++) await natPass(`n${i}`);
    // one read (two iptables-save, one sysctl) at most: a Docker event may have come in between
    expect(await natReadSpawns() - before, 'iptables-save and sysctl run by five NAT passes').toBeLessThanOrEqual(3);
  });

  it('a resync reads iptables and ip_forward anew, whatever was kept', async () => {
    await natPass('s0');
    const [before, passes] = [await natReadSpawns(), await natPasses()];
    lab.agents.get(lab.hosts[0].name)!.resyncAll();
    await eventually(async () => (await natPasses()) > passes, 'the resync\'s NAT pass');
    expect(await natReadSpawns() - before, 'iptables-save and sysctl run by the resync\'s NAT pass').toBeGreaterThanOrEqual(3);
  });

  it('a NAT rule deleted by hand right after a kept read is put back: its nft monitor line drops the kept read', async () => {
    await natPass('r1');
    await breakAndCheck('NAT rule deleted', {
      whole: natRule,
      breakIt: () => breakVerified((argv) => hostExec(lab.hosts[0], argv), ['iptables', '-t', 'nat', '-D', ...NAT_RULE.split(' ').slice(1)],
        { argv: ['iptables', '-t', 'nat', '-S', 'XNET-POSTROUTING'], gone: NAT_RULE }),
    });
  });

  it('forwarding turned off by hand right after a kept read is turned back on: the ip monitor\'s netconf line drops the kept read', async () => {
    await natPass('f1');
    await breakAndCheck('ip_forward=0', {
      whole: forwarding,
      breakIt: () => breakVerified((argv) => hostExec(lab.hosts[0], argv), ['sysctl', '-w', 'net.ipv4.ip_forward=0'], { argv: ['sysctl', '-n', 'net.ipv4.ip_forward'], gone: '1' }),
    });
  });
});

describe('rtnlSubscribed', () => {
  it('sees a real `ip monitor` subscribed, and a process without a netlink socket not (within its bound)', async () => {
    const mon = spawn('ip', ['-n', lab.hosts[0].netns, 'monitor', 'label', 'link', 'address', 'route'], { stdio: 'ignore' });
    const idle = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      expect(await rtnlSubscribed(mon.pid!, 5000)).toBe(true);
      expect(await rtnlSubscribed(idle.pid!, 300)).toBe(false);
    } finally {
      mon.kill('SIGKILL');
      idle.kill('SIGKILL');
    }
  });
});

/** What the host's kept read stands on, for a failure's message: its watchers subscribed, a read kept. */
function keptState(d: Dataplane): object {
  const r = (d.ip as unknown as { read: { subscribed: Set<string>; kept?: unknown; generation: number } }).read;
  return { subscribed: [...r.subscribed], kept: r.kept !== undefined, generation: r.generation };
}
