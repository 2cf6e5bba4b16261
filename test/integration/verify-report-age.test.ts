// `xctl verify` over agents' reports says how old a report is when its agent no longer renews
// it. Found in a new user's trial: right after host-1's agent was killed and a route deleted,
// verify printed "no differences: host-1, host-2 report they hold what etcd declares" from the
// dead agent's last report, which lives until its lease's TTL runs out. Exit codes stay as
// they were: an old report is no difference found. Real etcd with TLS and auth: verify is
// xctl's, as the admin (the lease's age is etcd's LeaseTimeToLive, which etcd checks against
// the admin's read of the report key); the reports the nodes' own, as their agents write them.
// The stopped agent's report lease is short (9 s, renewed every 3 s while it ran), so that it
// turns stale (past 4 s) well before it is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../pkg/log.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { ObservedReporter } from '../../pkg/verify/report.js';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { xctlAsAdmin } from '../harness/xctl-in-process.js';
import { eventually, obj } from './helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd({ auth: true }); }, 60_000);
afterAll(async () => { await etcd?.stop(); });

/** xctl as the admin (xnet-admin's certificate), in-process */
const xctl = (...args: string[]) => xctlAsAdmin(etcd, ...args);

/** an agent's reporter, as its node's own identity */
const reporter = async (node: string, ttlSeconds: number) =>
  new ObservedReporter({ client: etcd.auth!.clientAs(await etcd.auth!.addNode(node)), node, ttlSeconds, log: createLogger('test') });

const route = { host: 'host-3', what: 'route', expected: '10.76.1.0/24 via 198.18.0.11 proto 76', found: 'missing or different' };

describe('xctl verify of a report its agent no longer renews', () => {
  it('says how old it is, in the no-differences line and on stderr; the exit codes stay', async () => {
    await createEtcdStore(etcd.auth!.clientAs(etcd.auth!.ids.admin)).applyAll(['host-1', 'host-2', 'host-3'].map((n) => obj('Node', n, {})));
    const [r1, r2, r3] = [await reporter('host-1', 9), await reporter('host-2', 300), await reporter('host-3', 9)];
    try {
      await r1.publish([]);
      await r2.publish([]);
      await r3.publish([route]);
      // every agent running: as before
      expect(await xctl('verify', '--node', 'host-1')).toEqual({ code: 0, out: 'no differences: host-1 reports it holds what etcd declares\n', err: '' });
      // host-1's and host-3's agents stop (killed: their reports stay until their leases run out)
      r1.close();
      r3.close();
      const clean = await eventually(async () => {
        const v = await xctl('verify', '--node', 'host-1');
        return v.out.includes('old)') && v;
      }, 'verify to say how old host-1\'s report is', 8_000);
      expect(clean.code).toBe(0);
      const age = Number(/^no differences: host-1 \(report (\d+) s old\) reports it holds what etcd declares\n$/.exec(clean.out)?.[1]);
      expect(age).toBeGreaterThan(4);
      expect(clean.err).toBe(`warning: the report of host-1 is ${age} s old: its agent has not renewed it since (a running agent does every 3 s) and may have stopped, ` +
        'so what it says may be out of date; a stopped agent\'s report is gone 9 s after its last renewal\n');
      // a report with a difference: exit 1 as before, the table as before, the warning on stderr
      const differs = await xctl('verify', '--node', 'host-3');
      expect(differs.code).toBe(1);
      expect(differs.out).toMatch(/^HOST +WHAT +EXPECTED +FOUND\nhost-3 +route +10\.76\.1\.0\/24 via 198\.18\.0\.11 proto 76 +missing or different\n$/);
      expect(differs.err).toMatch(/^warning: the report of host-3 is \d+ s old: its agent has not renewed it since .*\n1 difference\(s\)\n$/);
      // the running agent's report is fresh; the whole cluster names only the stale ones
      const all = await xctl('verify');
      expect(all.code).toBe(1);
      expect(all.err).not.toContain('host-2');
      expect(all.err).toMatch(/^warning: the report of host-1 is \d+ s old: .*\nwarning: the report of host-3 is \d+ s old: /);
    } finally {
      for (const r of [r1, r2, r3]) r.close();
    }
  }, 30_000);
});
