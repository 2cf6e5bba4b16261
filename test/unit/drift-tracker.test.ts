// pkg/agent/heal.ts: a reconcile that a drift event marked and that runs ops is a heal; the op
// count is kept per reconcile also when several run at once; reconciles nothing marked are
// not measured, and no measuring context stays enabled once none is in flight.
import { describe, expect, it } from 'vitest';
import { countOps, DriftTracker, leavingFormerContainer, measuringOps, opsApplied, wasInPlace, withoutCounting } from '../../pkg/agent/heal.js';
import { onlyJumpMoves } from '../../pkg/agent/reconcilers/nat.js';
import { declaresMore } from '../../pkg/agent/events.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('DriftTracker', () => {
  it('records a heal only for a marked reconcile that ran ops, each reconcile with its own count', async () => {
    const heals: string[] = [];
    const t = new DriftTracker((key, kind, trigger) => heals.push(`${key} ${kind} ${trigger}`));
    t.enabled = true;
    t.mark(['routes', 'nat', 'nic/a'], 'kernel');
    // three at once: routes runs ops, nat runs none, nic/a runs ops after the others began
    await Promise.all([
      t.reconcile('routes', async () => { await tick(); countOps(2); }),
      t.reconcile('nat', async () => { await tick(); await tick(); }),
      t.reconcile('nic/a', async () => { await tick(); countOps(1); await tick(); }),
      // not marked: its ops are nobody's heal and count towards no other reconcile
      t.reconcile('gc', async () => { countOps(5); await tick(); }),
    ]);
    expect(heals.sort()).toEqual(['nic/a ContainerNic kernel', 'routes Route kernel']);
    expect(measuringOps()).toBe(false);
    // the mark is used up: the next reconcile of routes is not a heal
    await t.reconcile('routes', async () => { countOps(1); });
    expect(heals).toHaveLength(2);
  });

  it('times a heal from the event that showed the drift to its last ops in place, not to the reconcile\'s end', async () => {
    const ms: number[] = [];
    const t = new DriftTracker((_key, _kind, _trigger, took) => ms.push(took));
    t.enabled = true;
    t.mark(['nic/a'], 'kernel', 1_000);
    // repaired at 1,300 (the clock passed explicitly), then the reconcile goes on (its report)
    await t.reconcile('nic/a', async () => { countOps(2); opsApplied(1_200); countOps(1); opsApplied(1_300); await tick(); });
    expect(ms).toEqual([300]);
    // ops run uncounted (a follow-up of the agent's own act) do not move the end
    t.mark(['nic/a'], 'kernel', 2_000);
    await t.reconcile('nic/a', async () => { countOps(1); opsApplied(2_050); await withoutCounting(async () => { countOps(1); opsApplied(2_900); }); });
    expect(ms).toEqual([300, 50]);
    // a dataplane that never says when (a test double): the reconcile's end, as before
    t.mark(['routes'], 'kernel', Date.now() - 5);
    await t.reconcile('routes', async () => { countOps(1); });
    expect(ms[2]).toBeGreaterThanOrEqual(5);
  });

  it('measures nothing before the start-up pass is done, and nothing while no marked reconcile runs', async () => {
    const heals: string[] = [];
    const t = new DriftTracker((key) => heals.push(key));
    t.mark(['routes'], 'resync');
    await t.reconcile('routes', async () => { expect(measuringOps()).toBe(false); countOps(3); });
    t.enabled = true;
    t.mark(['routes'], 'resync');
    await t.reconcile('routes', async () => { expect(measuringOps()).toBe(true); countOps(3); });
    expect(heals).toEqual(['routes']);
    expect(measuringOps()).toBe(false);
  });

  it('does not count the ops of a NIC that was never in place (its first attach), and counts them once it was', async () => {
    const heals: string[] = [];
    const readyOnce = new Set<string>();
    const nics = { get: (name: string) => (name === 'gone' ? undefined : { metadata: { name } }) as never };
    const status = { wasReady: (_: string, o: { metadata: { name: string } }) => readyOnce.has(o.metadata.name) };
    const t = new DriftTracker((key) => heals.push(key), (key) => wasInPlace(key, nics, status));
    t.enabled = true;
    t.mark(['nic/late', 'routes', 'nic/gone'], 'docker');
    await t.reconcile('nic/late', async () => { countOps(4); readyOnce.add('late'); });
    await t.reconcile('routes', async () => { countOps(1); });
    // a NIC no longer declared: its links removed after a host event are a repair
    await t.reconcile('nic/gone', async () => { countOps(1); });
    expect(heals).toEqual(['routes', 'nic/gone']);
    t.mark(['nic/late'], 'docker');
    await t.reconcile('nic/late', async () => { countOps(4); });
    expect(heals).toEqual(['routes', 'nic/gone', 'nic/late']);
  });

  it('does not count the ops of a reconcile whose key the store changed too, in either order', async () => {
    const heals: string[] = [];
    const t = new DriftTracker((key) => heals.push(key));
    t.enabled = true;
    // Docker's event of a container marks the MacvlanNet, and its pool grew in etcd meanwhile
    t.mark(['mvn/a'], 'docker');
    t.declare(['mvn/a']);
    await t.reconcile('mvn/a', async () => { countOps(5); });
    t.declare(['mvn/b']);
    t.mark(['mvn/b'], 'docker');
    await t.reconcile('mvn/b', async () => { countOps(5); });
    expect(heals).toEqual([]);
    // used up by that reconcile: a drift after it is a heal again
    t.mark(['mvn/a'], 'kernel');
    await t.reconcile('mvn/a', async () => { countOps(1); });
    expect(heals).toEqual(['mvn/a']);
  });

  it('does not count a NIC taken out of a container its spec no longer names (renamed away), and counts what else its reconcile repairs', async () => {
    const heals: string[] = [];
    const t = new DriftTracker((key) => heals.push(key));
    t.enabled = true;
    // Docker's rename event marks the NIC, which was in place: its links leave the renamed container
    t.mark(['nic/a'], 'docker');
    await t.reconcile('nic/a', async () => { await leavingFormerContainer(async () => { countOps(1); }); });
    expect(heals).toEqual([]);
    // the same, and the NIC's address put back in the container of its name: that is a heal
    t.mark(['nic/a'], 'kernel');
    await t.reconcile('nic/a', async () => { await leavingFormerContainer(async () => { countOps(1); }); countOps(1); });
    expect(heals).toEqual(['nic/a']);
    expect(measuringOps()).toBe(false);
  });

  it('keeps what a failed reconcile was for: its retry is the same change carried out, or the same drift healed', async () => {
    const heals: string[] = [];
    const t = new DriftTracker((key, _kind, trigger) => heals.push(`${key} ${trigger}`));
    t.enabled = true;
    const fails = async () => { countOps(2); throw new Error('iptables-restore: Index of deletion too big'); };
    // a ClusterNetwork made: the NAT pass fails halfway, a kernel event marks the key meanwhile
    t.declare(['nat']);
    await expect(t.reconcile('nat', fails)).rejects.toThrow(/deletion/);
    t.mark(['nat'], 'kernel');
    await t.reconcile('nat', async () => { countOps(4); });
    expect(heals).toEqual([]);
    // a drift whose repair fails is healed by the retry, triggered as the drift was
    t.mark(['routes'], 'kernel');
    await expect(t.reconcile('routes', fails)).rejects.toThrow();
    await t.reconcile('routes', async () => { countOps(1); });
    expect(heals).toEqual(['routes kernel']);
  });

  it('tells a reconciler for a moment after the agent\'s own act that it may run that act\'s follow-up uncounted', async () => {
    const heals: string[] = [];
    const t = new DriftTracker((key) => heals.push(key));
    t.enabled = true;
    expect(t.followingUp('nat')).toBe(false);
    // xnet made a Docker network in its start-up pass: Docker's rewrites, each a kernel event, go on after it
    t.enabled = false;
    t.expectFollowUps(['nat'], 60);
    t.enabled = true;
    expect(t.followingUp('nat')).toBe(true);
    t.mark(['nat'], 'kernel');
    await t.reconcile('nat', async () => { await withoutCounting(async () => { countOps(2); }); });
    expect(heals).toEqual([]);
    // what the reconciler repairs besides, in that same moment, is a heal
    t.mark(['nat'], 'kernel');
    await t.reconcile('nat', async () => { countOps(1); });
    expect(heals).toEqual(['nat']);
    await new Promise((r) => setTimeout(r, 80));
    expect(t.followingUp('nat')).toBe(false);
  });
});

describe('onlyJumpMoves', () => {
  it('is true for xnet\'s jumps moved back above Docker\'s rules, false for a jump that was gone or any other op', () => {
    const restore = (table: 'nat' | 'filter', lines: string[]) => ({ op: 'iptables.restore' as const, table, lines });
    expect(onlyJumpMoves([restore('nat', ['-D POSTROUTING -j XNET-POSTROUTING', '-I POSTROUTING 1 -j XNET-POSTROUTING']), restore('filter', ['-D FORWARD -j XNET-FORWARD', '-I FORWARD 2 -j XNET-FORWARD'])])).toBe(true);
    // deleted by someone: put back, a heal
    expect(onlyJumpMoves([restore('nat', ['-I POSTROUTING 1 -j XNET-POSTROUTING'])])).toBe(false);
    expect(onlyJumpMoves([restore('nat', [':XNET-POSTROUTING - [0:0]', '-A XNET-POSTROUTING -s 10.76.1.0/24 -d 10.76.0.0/16 -j ACCEPT'])])).toBe(false);
    expect(onlyJumpMoves([{ op: 'sysctl.set', values: { 'net.ipv4.ip_forward': '1' } }])).toBe(false);
  });
});

describe('declaresMore', () => {
  const hs = (status: Record<string, unknown>, rv = '5') => ({
    apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet', metadata: { name: 'h', resourceVersion: rv }, spec: { node: 'n', clusterNetwork: 'c' }, status,
  }) as never;
  it('is false when only conditions (and the resourceVersion) changed: the controller copying an agent\'s Ready is no new declaration', () => {
    const before = hs({ subnet: '10.76.1.0/24', conditions: [{ type: 'Ready', status: 'False' }] });
    const after = hs({ subnet: '10.76.1.0/24', conditions: [{ type: 'Ready', status: 'True' }], observedGeneration: 1 }, '6');
    expect(declaresMore(after, before)).toBe(false);
  });
  it('is true for a changed spec or status value, a new object and a deleted one', () => {
    expect(declaresMore(hs({ subnet: '10.76.2.0/24' }), hs({ subnet: '10.76.1.0/24' }))).toBe(true);
    expect(declaresMore(hs({}), undefined)).toBe(true);
  });
});
