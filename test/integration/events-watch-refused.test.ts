// `get events -w` (watchEvents) whose identity loses its grants while it watches: when its
// connection breaks and comes back, etcd refuses the restart of its watch ("permission denied").
// The watch ends with that refusal (xctl: exit 1, `etcd refused the request`), as it did on
// etcd3's own watcher; its cache retried the refusal for ever, and the command printed nothing
// and never ended. etcd with auth (TLS client certificates, xnet's roles); xctl's admin
// identity through a TCP proxy, cut and healed.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { EventRecorder } from '../../pkg/events/recorder.js';
import { watchEvents } from '../../pkg/events/read.js';
import { EtcdPermissionError } from '../../pkg/errors.js';
import { pollUntil, revokeAdminAcrossCut } from './helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd({ auth: true }); }, 60_000);
afterAll(async () => { await etcd?.stop(); });

describe('get events -w whose identity loses its grants while it watches', () => {
  it('ends with etcd\'s refusal once its watch is restarted, not retrying it unseen', async () => {
    const auth = etcd.auth!;
    const root = etcd.client();
    const proxy = await startTcpProxy(etcd.endpoints[0]);
    const admin = createEtcdClient({ ...auth.connection(auth.ids.admin), endpoints: [proxy.endpoint.replace('http:', 'https:')] });
    const ac = new AbortController();
    onTestFinished(async () => { ac.abort(); admin.close(); await proxy.close(); });
    const rec = new EventRecorder({ client: root, source: { component: 'controller' } });
    const about = { kind: 'Node', name: 'w-1' };
    await rec.record(about, 'Normal', 'Before', 'before the watch');
    const from = Number((await root.get('revision-marker').exec()).header.revision);

    const told: string[] = [];
    let outcome: unknown = 'running';
    void watchEvents(admin, undefined, from, undefined, { onEvent: (e) => told.push(e.reason) }, ac.signal)
      .then(() => { outcome = 'ended'; }, (e: unknown) => { outcome = e; });
    await rec.record(about, 'Normal', 'Watched', 'seen by the watch');
    expect(await pollUntil(() => told.includes('Watched') || outcome !== 'running', 20_000), `told: ${told.join(',')}; outcome: ${String(outcome)}`).toBe(true);

    expect(await revokeAdminAcrossCut(root, proxy), 'the watch tried to reach etcd while cut off').toBe(true);

    expect(await pollUntil(() => outcome !== 'running', 30_000), `the watch ended; told: ${told.join(',')}`).toBe(true);
    expect(outcome).toBeInstanceOf(EtcdPermissionError);
    expect((outcome as Error).message).toMatch(/permission denied/);
  }, 90_000);
});
