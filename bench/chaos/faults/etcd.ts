// Faults 1 and 2: etcd members lost. The data plane must not notice; the control plane must
// carry on through the surviving quorum (fault 1) or resume where it stopped (fault 2).
import { isAlive } from '../../../pkg/lab/proc.js';
import { etcdLeader, startMember, waitClusterHealthy, type Member } from '../etcd-cluster.js';
import { nodesReady, sleep, waitFor } from '../workload.js';
import type { ChaosLab } from '../lab.js';
import type { Fault } from './types.js';

const MEMBER_DOWN_MS = 5000;

async function killVerified(m: Member, signal: NodeJS.Signals): Promise<void> {
  const pid = m.pid!;
  try { process.kill(pid, signal); } catch { /* gone already */ }
  await waitFor(`etcd ${m.name} (pid ${pid}) gone`, async () => !isAlive(pid), 15_000, 50);
}

/** All three members answer and the Nodes are Ready again. */
const clusterSettled = (c: ChaosLab) => async () => {
  for (const m of c.etcd.members) if (!m.pid || !isAlive(m.pid)) return `etcd ${m.name} not running`;
  return nodesReady(c);
};

export const etcdMembersKilled: Fault = {
  id: 1,
  title: 'etcd leader SIGKILLed and restarted, then a second member',
  exercises: 'the etcd3 client\'s failover between endpoints (controllers to the members, agents through their proxies), '
    + 'watches resumed from their last revision (Store.watch, pkg/store), node leases kept across a raft leader change (Store.nodeLease), '
    + 'the controller\'s leader lease and the leader guard of every TxnPlan (pkg/controller/txn-plan.ts)',
  async inject({ c, say }) {
    const first = await waitFor('an etcd leader', () => etcdLeader(c.lab, c.etcd), 30_000);
    await killVerified(first, 'SIGKILL');
    say(`etcd leader ${first.name} SIGKILLed; restarting it after ${MEMBER_DOWN_MS / 1000} s`);
    await sleep(MEMBER_DOWN_MS);
    await startMember(c.lab, first);
    await waitClusterHealthy(c.etcd);
    const leader = await waitFor('an etcd leader', () => etcdLeader(c.lab, c.etcd), 30_000);
    const second = leader !== first ? leader : c.etcd.members.find((m) => m !== first)!;
    await killVerified(second, 'SIGKILL');
    say(`etcd ${second.name}${second === leader ? ' (the new leader)' : ''} SIGKILLed; restarting it after ${MEMBER_DOWN_MS / 1000} s`);
    await sleep(MEMBER_DOWN_MS);
    await startMember(c.lab, second);
    await waitClusterHealthy(c.etcd);
    return { end: Date.now(), settled: clusterSettled(c) };
  },
};

export const etcdOutage: Fault = {
  id: 2,
  title: 'all of etcd stopped, then restarted',
  exercises: 'every etcd call\'s deadline and bounded retry (pkg/etcd/client.ts callDeadlines), the agents working from their caches '
    + 'while etcd is away (informers, pkg/store/informer.ts), watches re-established after the outage with a relist when compacted, '
    + 'node leases surviving an etcd restart (etcd extends them on a new leader), the controller re-acquiring leadership',
  async inject({ c, say, opts }) {
    await Promise.all(c.etcd.members.map((m) => killVerified(m, 'SIGTERM')));
    say(`all ${c.etcd.members.length} etcd members stopped (SIGTERM); restarting them after ${opts.etcdOutageMs / 1000} s`);
    await sleep(opts.etcdOutageMs);
    await Promise.all(c.etcd.members.map((m) => startMember(c.lab, m)));
    await waitClusterHealthy(c.etcd, 60_000);
    return { end: Date.now(), settled: clusterSettled(c), notes: [`etcd down for ${opts.etcdOutageMs / 1000} s`] };
  },
};
