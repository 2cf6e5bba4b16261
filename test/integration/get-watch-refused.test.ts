// `xctl get <kind> -w` whose identity loses its grants while it watches: when its connection
// breaks and comes back, etcd refuses the restart of its watch ("permission denied"). The watch
// ends with that refusal (exit 1, `etcd refused the request`), as `get events -w` does
// (events-watch-refused.test.ts); its cache retried the refusal for ever, and the command
// printed nothing and never ended. etcd with auth (TLS client certificates, xnet's roles);
// xctl in-process as the admin identity, through a TCP proxy cut and healed.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { runXctl } from '../../pkg/cli/program.js';
import { obj, pollUntil, revokeAdminAcrossCut } from './helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd({ auth: true }); }, 60_000);
afterAll(async () => { await etcd?.stop(); });

describe('get -w whose identity loses its grants while it watches', () => {
  it('ends with exit 1 and etcd\'s refusal once its watch is restarted, not retrying it unseen', async () => {
    const auth = etcd.auth!;
    const root = etcd.client();
    const store = createEtcdStore(root);
    const proxy = await startTcpProxy(etcd.endpoints[0]);
    const c = auth.connection(auth.ids.admin);
    const ac = new AbortController();
    onTestFinished(async () => { ac.abort(); await proxy.close(); });
    await store.create(obj('ClusterNetwork', 'before', { cidr: '10.77.0.0/16', hostPrefix: 24 }));

    const r = { code: -1, out: '', err: '' };
    let ended = false;
    void runXctl(['get', 'cn', '-w', '--cacert', c.cacert!, '--cert', c.cert!, '--key', c.key!], {
      out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => '', signal: ac.signal,
      env: { XCTL_ENDPOINTS: proxy.endpoint.replace('http:', 'https:') },
    }).then((code) => { r.code = code; ended = true; });
    expect(await pollUntil(() => r.out.includes('before') || ended, 20_000), `stdout: ${r.out}; stderr: ${r.err}`).toBe(true);
    await store.create(obj('ClusterNetwork', 'watched', { cidr: '10.78.0.0/16', hostPrefix: 24 }));
    expect(await pollUntil(() => r.out.includes('watched') || ended, 20_000), `stdout: ${r.out}; stderr: ${r.err}`).toBe(true);
    expect(ended, `ended early; stderr: ${r.err}`).toBe(false);

    expect(await revokeAdminAcrossCut(root, proxy), 'the watch tried to reach etcd while cut off').toBe(true);

    expect(await pollUntil(() => ended, 25_000), `the watch ended; stderr: ${r.err}`).toBe(true);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: etcd refused the request: permission denied/m);
  }, 90_000);
});
