// A client given one etcd endpoint (one etcd, or one VIP or load balancer in front of a cluster)
// has no other member to go to: a circuit opened on that endpoint refused every call for 5 s
// after etcd was back, the lease keep-alives and the leader's transactions among them
// (pkg/etcd/client.ts etcdFaultHandling). Here a client made as the programs make theirs
// reaches etcd through a TCP proxy; its connections are dropped and new ones refused until
// calls have failed more than HOST_BREAKER_FAILURES times in a row, then the proxy is healthy.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { HOST_BREAKER_FAILURES } from '../../pkg/etcd/lease-watchdog.js';

let etcd: TestEtcd;
let proxy: TcpProxy;
let client: Etcd3;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });
// each test has a proxy and a client of its own: no circuit state carries over
beforeEach(async () => {
  proxy = await startTcpProxy(etcd.endpoints[0]);
  client = createEtcdClient({ endpoints: [proxy.endpoint] });
});
afterEach(async () => {
  client?.close();
  await proxy?.close();
});

/** `call`'s outcome: undefined when it answered, else its error's message. */
async function failure(call: () => unknown): Promise<string | undefined> {
  try { await call(); return undefined; } catch (e) { return (e as Error).message; }
}

describe('a client with a single etcd endpoint', () => {
  it('answers the first call made after a dropped connection heals, though calls failed many times in a row', async () => {
    expect(await failure(() => client.put('/single/before').value('1'))).toBeUndefined();
    proxy.cut();
    const failed: string[] = [];
    for (let i = 0; i < HOST_BREAKER_FAILURES + 2; i++) {
      const err = await failure(() => client.put(`/single/cut-${i}`).value('x'));
      if (err !== undefined) failed.push(err);
    }
    // the break is real: every call made while the proxy refused connections failed
    expect(failed).toHaveLength(HOST_BREAKER_FAILURES + 2);
    proxy.heal();
    // the next call made reaches etcd; with the circuit open it was refused for 5 s
    expect(await failure(() => client.put('/single/after').value('2'))).toBeUndefined();
    expect(await failure(() => client.get('/single/after').string())).toBeUndefined();
    expect(await client.get('/single/after').string()).toBe('2');
  });

  it('counts one endpoint given twice as one: its first call after the heal answers too', async () => {
    const twice = createEtcdClient({ endpoints: [proxy.endpoint, proxy.endpoint] });
    try {
      expect(await failure(() => twice.put('/single/twice-before').value('1'))).toBeUndefined();
      proxy.cut();
      for (let i = 0; i < HOST_BREAKER_FAILURES + 2; i++) expect(await failure(() => twice.put(`/single/twice-cut-${i}`).value('x'))).toBeDefined();
      proxy.heal();
      // one etcd behind both: a circuit per copy locked the client out of it for 5 s
      expect(await failure(() => twice.put('/single/twice-after').value('2'))).toBeUndefined();
      expect(await twice.get('/single/twice-after').string()).toBe('2');
    } finally {
      twice.close();
    }
  });

  it('renews a lease at once after a dropped connection heals', async () => {
    const lease = client.lease(30, { autoKeepAlive: false });
    try {
      await lease.grant();
      proxy.cut();
      // the daemon's other calls fail meanwhile, HOST_BREAKER_FAILURES in a row
      for (let i = 0; i < HOST_BREAKER_FAILURES; i++) expect(await failure(() => client.put(`/single/lease-cut-${i}`).value('x'))).toBeDefined();
      proxy.heal();
      // a keep-alive sent at once, as a daemon's lease loop does after an error, renews the lease
      const renewed = await lease.keepaliveOnce();
      expect(Number(renewed.TTL)).toBeGreaterThan(0);
    } finally {
      await lease.revoke().catch(() => undefined);
    }
  });
});
