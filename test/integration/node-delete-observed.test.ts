// A Node's delete takes its agent's observed-state report (what `xctl verify` reads for the
// host) with it, as it takes the agent's report about itself (docs/design.md, "Joining").
// Left behind, the report of a stopped agent outlived the Node by its lease's TTL: a Node made
// again meanwhile (an admin pinning its address) showed "reports it holds what etcd declares"
// for a host whose agent was not running. An agent still running (its Node deleted, made again:
// a re-registration) writes its report again at its next check, though what it found did not
// change, instead of `verify` saying "its agent is not running" until something changes.
// Real etcd with TLS and auth: the delete is xctl's, as the admin; the report the node's own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import type { Identity } from '../../pkg/auth/pki.js';
import { createLogger } from '../../pkg/log.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { Keys } from '../../pkg/store/keys.js';
import { ObservedReporter } from '../../pkg/verify/report.js';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { xctlAsAdmin } from '../harness/xctl-in-process.js';
import { obj } from './helpers.js';

let etcd: TestEtcd;
let root: Etcd3;
let hostId: Identity;
const key = new Keys().nodeObserved('host-1');
beforeAll(async () => {
  etcd = await startEtcd({ auth: true });
  root = etcd.auth!.clientAs(etcd.auth!.ids.root);
  hostId = await etcd.auth!.addNode('host-1');
}, 60_000);
afterAll(async () => { await etcd?.stop(); });

/** xctl as the admin (xnet-admin's certificate), in-process */
const xctl = (...args: string[]) => xctlAsAdmin(etcd, ...args);

const admin = () => createEtcdStore(etcd.auth!.clientAs(etcd.auth!.ids.admin));
/** the agent's reporter, as node-host-1; a TTL far beyond the test: the lease never ends the report here */
const reporter = () => new ObservedReporter({ client: etcd.auth!.clientAs(hostId), node: 'host-1', ttlSeconds: 300, log: createLogger('test') });

describe("a Node's delete and its agent's observed-state report", () => {
  it('goes with the Node: a Node made again before the lease ran out is not reported clean by a stopped agent', async () => {
    await admin().applyAll([obj('Node', 'host-1', {})]);
    const r = reporter();
    await r.publish([]);
    r.close(); // the agent stops: its lease (and report) would outlive it by the TTL
    expect(await root.get(key).string()).not.toBeNull();
    const del = await xctl('delete', 'node', 'host-1');
    expect(del, del.err).toMatchObject({ code: 0 });
    expect(await root.get(key).string()).toBeNull();
    await admin().applyAll([obj('Node', 'host-1', { address: '198.18.0.11' })]);
    const v = await xctl('verify', '--node', 'host-1');
    expect(v.code).toBe(1);
    expect(v.out).toMatch(/host-1\s+agent report\s+.*none: its agent is not running/);
  });

  it('a running agent writes its report again at its next check, its findings unchanged', async () => {
    await admin().applyAll([obj('Node', 'host-1', {})]);
    const r = reporter();
    try {
      await r.publish([]);
      const { since } = JSON.parse((await root.get(key).string())!);
      const del = await xctl('delete', 'node', 'host-1');
      expect(del, del.err).toMatchObject({ code: 0 });
      expect(await root.get(key).string()).toBeNull();
      await r.publish([]); // the next check: the same (no) differences
      // the same result, first seen when it was
      expect(JSON.parse((await root.get(key).string())!)).toEqual({ node: 'host-1', since, differences: [], total: 0 });
    } finally {
      r.close();
    }
  });
});
