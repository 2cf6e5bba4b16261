// Fault 3: the controller leader SIGKILLed again and again while many ContainerNics are
// applied. Every NIC must get exactly one address; no claim may leak or be doubled across
// the leader changes. The NICs sit on a Node without an agent ("bulk-1", its own
// ClusterNetwork with a /20 per node) so that the controllers, not the agents, are measured.
import { API_VERSION, type AnyObject, type Kind } from '../../../pkg/api/index.js';
import { controllerLeader, killAndRestartController } from '../control-plane.js';
import { sleep, waitFor } from '../workload.js';
import type { ChaosLab } from '../lab.js';
import type { Fault } from './types.js';
import { killLines, leadershipLogLines, watchElection } from './failover-timeline.js';

const KILLS = 10;
const KILL_EVERY_MS = 2000;
const obj = (kind: Kind, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): AnyObject =>
  ({ apiVersion: API_VERSION, kind, metadata: { name, ...(labels ? { labels } : {}) }, spec }) as AnyObject;

async function prepareBulk(c: ChaosLab): Promise<void> {
  await c.store.applyAll([
    obj('ClusterNetwork', 'bulk', { cidr: '10.80.0.0/16', hostPrefix: 20, nodeSelector: { matchLabels: { chaos: 'bulk' } } }),
    obj('Node', 'bulk-1', { address: '198.18.0.99' }, { chaos: 'bulk' }),
  ]);
  await waitFor('HostSubnet bulk-bulk-1 allocated', async () => !!((await c.store.get('HostSubnet', 'bulk-bulk-1'))?.status as { subnet?: string } | undefined)?.subnet, 60_000);
}

const bulkNics = (n: number) => Array.from({ length: n }, (_, i) =>
  obj('ContainerNic', `bulk-${i}`, { node: 'bulk-1', container: `bulk-${i}`, ifName: 'eth1', network: { clusterNetwork: 'bulk' } }));

/** Kills the leader `kills` times: waits for one to lead, SIGKILLs it, restarts it, 2 s later again. */
async function killLeaders(c: ChaosLab, kills: number, say: (s: string) => void, killedAt: number[]): Promise<string[]> {
  const log: string[] = [];
  for (let i = 1; i <= kills; i++) {
    const t = Date.now();
    const n = await waitFor('a controller leader', () => controllerLeader(c), 60_000, 100);
    killedAt.push(Date.now());
    await killAndRestartController(c, n);
    log.push(`kill ${i}: controller/${n} after ${((Date.now() - t) / 1000).toFixed(1)} s without/with a leader`);
    await sleep(KILL_EVERY_MS);
  }
  say(`controller leader SIGKILLed ${kills} times (${log.map((l) => l.split(': ')[1].split(' ')[0]).join(', ')})`);
  return log;
}

const bulkAddresses = async (c: ChaosLab) => {
  const items = (await c.store.list('ContainerNic')).items.filter((o) => o.metadata.name.startsWith('bulk-'));
  return { items, ips: items.map((o) => (o.status as { ip?: string } | undefined)?.ip).filter(Boolean) };
};

/** undefined when all `n` NICs have an address and no address is held twice. */
async function allAllocated(c: ChaosLab, n: number): Promise<string | undefined> {
  const { items, ips } = await bulkAddresses(c);
  if (items.length < n) return `${items.length} of ${n} NICs stored`;
  if (ips.length < n) return `${ips.length} of ${n} NICs have an address`;
  if (new Set(ips).size !== ips.length) return `${ips.length - new Set(ips).size} address(es) held by two NICs`;
  return undefined;
}

export const controllerLeaderKilled: Fault = {
  id: 3,
  title: `controller leader SIGKILLed ${KILLS} times, ${KILL_EVERY_MS / 1000} s apart, while NICs are applied`,
  exercises: 'leader election on an etcd lease (pkg/controller), the leader guard as first compare of every allocation transaction '
    + '(TxnPlan, pkg/controller/txn-plan.ts), claims and allocation in one transaction per pool (PoolExecutor), the new leader\'s work '
    + 'queue filled from the cache it kept warm as a standby, `xctl ipam check` (pkg/ipam/check.ts) on leaks and duplicates',
  async inject({ c, say, opts }) {
    await prepareBulk(c);
    const election = await watchElection(c);
    const t = Date.now();
    const applying = c.store.applyAll(bulkNics(opts.nics)).then(() => say(`${opts.nics} NICs stored after ${((Date.now() - t) / 1000).toFixed(1)} s`));
    const killedAt: number[] = [];
    void applying.catch(() => undefined); // awaited below; a failed kill loop must not leave it unhandled
    const log = await killLeaders(c, KILLS, say, killedAt);
    await applying;
    const end = Date.now();
    const last = killedAt[killedAt.length - 1];
    const atEnd = (await bulkAddresses(c)).ips.length;
    return {
      end,
      settled: () => allAllocated(c, opts.nics),
      afterSettled: async () => {
        await election.close();
        return [...killLines(election.events, killedAt), `${atEnd} of ${opts.nics} NICs had an address when the fault ended`,
          ...leadershipLogLines(c, killedAt[killedAt.length - 2] ?? last, last).map((l) => `around the last kill: ${l}`)];
      },
      notes: [`${opts.nics} ContainerNics applied in one \`applyAll\` (consecutive transactions under etcd's 128-op limit)`, ...log],
    };
  },
};
