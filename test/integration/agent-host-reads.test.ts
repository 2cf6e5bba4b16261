// The agent keeps what it read of the host between passes while its kernel monitor is subscribed
// (pkg/agent/host-reads.ts): passes that change nothing on the host spawn no `ip` to read it, and
// a change by hand still heals at once, because the monitor's event drops what was kept.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostExec } from '../../pkg/lab/index.js';
import { Dataplane } from '../../pkg/agent/dataplane.js';
import { netnsTarget } from '../../pkg/netlink/target.js';
import { rtnlSubscribed } from '../../pkg/netlink/subscribed.js';
import { breakAndCheck, breakVerified } from '../harness/heal.js';
import { agentLab, createDefaultNetwork, eventually, routes, type AgentLab } from './agent-harness.js';

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
    await eventually(async () => { await lab.store.update(await relabelled('0')); return dp.ip.counts.kept > 0; }, 'a read kept');
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
async function relabelled(v: string) {
  const hs = (await lab.store.get('HostSubnet', 'default-host-2'))!;
  return { ...hs, metadata: { ...hs.metadata, labels: { ...hs.metadata.labels, pass: v } } };
}

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
