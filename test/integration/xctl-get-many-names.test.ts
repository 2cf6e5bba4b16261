// `xctl get KIND NAME NAME...` of many NAMEs: all read in a fixed number of requests
// (store/read-named.ts), not a read per NAME (each of which listed every node's report keys),
// with what each NAME shows unchanged: in the order given, each with its own status, each
// missing one said on stderr and the rest still printed. Real etcd; no controller (the test
// writes what the controller and the agents would).
import { describe, expect, it, onTestFinished } from 'vitest';
import { EventRecorder } from '../../pkg/events/recorder.js';
import { xctlInProcess } from '../harness/xctl-in-process.js';
import { nic, obj } from './helpers.js';

const lab = xctlInProcess('xctl-get-many-names');
const NICS = 150;
const NODES = 100;
const READY = { type: 'Ready', status: 'True', reason: 'Up', observedGeneration: 1 };

/** The KV requests (Range, Txn, ...) etcd has answered so far, by its own /metrics. */
async function kvRequests(): Promise<number> {
  const text = await (await fetch(`${lab.etcd.endpoints[0]}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  return text.split('\n').filter((l) => l.startsWith('grpc_server_handled_total{') && l.includes('grpc_service="etcdserverpb.KV"'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

let written_: Promise<string[]> | undefined;

/** ContainerNics nic-000..., each on host-1 with its controller's status and host-1's report; and NODES nodes' own reports. */
async function written(): Promise<string[]> {
  const names = Array.from({ length: NICS }, (_, i) => `nic-${String(i).padStart(3, '0')}`);
  await lab.store.applyAll(names.map((n) => nic(n, 'host-1')));
  const keys = lab.store.keys;
  const put = (key: string, v: unknown) => lab.client.put(key).value(typeof v === 'string' ? v : JSON.stringify(v));
  for (let i = 0; i < NICS; i += 50) {
    await Promise.all(names.slice(i, i + 50).flatMap((n, j) => [
      put(keys.controllerStatus('ContainerNic', n, 'host-1')!, { ip: `10.64.0.${i + j}` }),
      put(keys.status('ContainerNic', n, { node: 'host-1' }), { containerId: `c-${n}`, conditions: [READY] }),
    ]));
  }
  await Promise.all(Array.from({ length: NODES }, (_, i) => put(keys.status('Node', `n-${i}`, { node: `n-${i}` }), { conditions: [] })));
  // one NIC whose own key does not decode, one with a node's report that does not decode
  await put(keys.object('ContainerNic', 'bad'), '{not json');
  await put(keys.status('ContainerNic', 'nic-007', { node: 'host-2' }), '{not json');
  return names;
}

describe(`${NICS} ContainerNics named on one command line`, () => {
  it(`get of them, reversed, with missing NAMEs among them: prints each in the order given with its status, says each missing one, exit 4 (1 with one that does not decode); a handful of requests`, async () => {
    const names = await (written_ ??= written());
    // reversed, with missing NAMEs and the undecodable one among them
    const asked = [...names].reverse().flatMap((n, i) => (i % 30 === 0 ? [`gone-${i}`, n] : [n]));
    asked.splice(5, 0, 'bad');
    const before = await kvRequests();
    const r = await lab.xctl(['get', 'nic', ...asked, '-o', 'json']);
    const requests = await kvRequests() - before;
    expect(r.code).toBe(1);
    const items = JSON.parse(r.out).items as Array<{ metadata: { name: string }; status?: { ip?: string; containerId?: string } }>;
    expect(items.map((o) => o.metadata.name)).toEqual(asked.filter((n) => n.startsWith('nic-')));
    expect(items.find((o) => o.metadata.name === 'nic-042')?.status).toMatchObject({ ip: '10.64.0.42', containerId: 'c-nic-042' });
    const keys = lab.store.keys;
    const said = r.err.split('\n').filter(Boolean);
    expect(said).toEqual(asked.flatMap((n) => {
      if (n.startsWith('gone-')) return [`error: ContainerNic "${n}" not found`];
      if (n === 'bad') return [expect.stringMatching(`^warning: skipped ${keys.object('ContainerNic', 'bad')}: `), `error: ContainerNic "bad" does not decode (above); apply a good one over it or delete it`];
      if (n === 'nic-007') return [expect.stringMatching(`^warning: skipped ${keys.status('ContainerNic', 'nic-007', { node: 'host-2' })}: `)];
      return [];
    }));
    // the objects (2 transactions of at most 128), the reports' key listing, the status keys
    // (3): 6 in all; a read per NAME was 458
    expect(requests, `${requests} KV requests for one get of ${asked.length} NAMEs`).toBeLessThanOrEqual(12);

    const without = await lab.xctl(['get', 'nic', 'gone-a', 'nic-001', 'gone-b', '-o', 'name']);
    expect(without).toEqual({ code: 4, out: 'containernic/nic-001\n', err: 'error: ContainerNic "gone-a" not found\nerror: ContainerNic "gone-b" not found\n' });
  });

  it('get of a NAME given twice: both copies printed whole, each with its nodes\' reports and its own skipped key said', async () => {
    await (written_ ??= written());
    const r = await lab.xctl(['get', 'nic', 'nic-042', 'nic-007', 'nic-042', 'nic-007', '-o', 'json']);
    expect(r.code).toBe(0);
    const items = JSON.parse(r.out).items as Array<{ metadata: { name: string }; status?: { ip?: string; containerId?: string } }>;
    expect(items.map((o) => [o.metadata.name, o.status?.containerId])).toEqual([
      ['nic-042', 'c-nic-042'], ['nic-007', 'c-nic-007'], ['nic-042', 'c-nic-042'], ['nic-007', 'c-nic-007'],
    ]);
    const skipped = lab.store.keys.status('ContainerNic', 'nic-007', { node: 'host-2' });
    expect(r.err.split('\n').filter(Boolean)).toEqual([expect.stringMatching(`^warning: skipped ${skipped}: `), expect.stringMatching(`^warning: skipped ${skipped}: `)]);
  });

  it(`wait --for condition=Ready of ${NICS} NAMEs already Ready: each said met, exit 0, its first check a handful of requests`, async () => {
    const names = await (written_ ??= written());
    const before = await kvRequests();
    const r = await lab.xctl(['wait', 'nic', ...names, '--for', 'condition=Ready', '--timeout', '30s']);
    const requests = await kvRequests() - before;
    expect(r).toEqual({ code: 0, out: names.map((n) => `containernic/${n} condition met (Ready=True)\n`).join(''), err: '' });
    // the revision, then the read of all as get reads them (6); a read per NAME was over 450
    expect(requests, `${requests} KV requests for one wait of ${names.length} NAMEs`).toBeLessThanOrEqual(12);
  });

  it(`describe of them with missing NAMEs among them: each described in the order given with its own events, each missing one said, exit 4; the objects and the events read in a handful of requests`, async () => {
    const names = await (written_ ??= written());
    const asked = [...names.slice(0, 40), 'gone-x', ...names.slice(40, 80)];
    const rec = new EventRecorder({ client: lab.client, source: { component: 'agent', node: 'host-1' } });
    onTestFinished(() => rec.close());
    await rec.record({ kind: 'ContainerNic', name: 'nic-042' }, 'Normal', 'Attached', 'attached on node host-1 with 10.64.0.42');
    const before = await kvRequests();
    const r = await lab.xctl(['describe', 'nic', ...asked]);
    const requests = await kvRequests() - before;
    expect(r.code).toBe(4);
    const described = [...r.out.matchAll(/^Name: +(\S+)$/gm)].map((m) => m[1]);
    expect(described).toEqual(asked.filter((n) => n !== 'gone-x'));
    expect(r.out).toContain('containerId: c-nic-042');
    // gone-x is no prefix of any name: the kind is listed once to find none
    expect(r.err.split('\n').filter((l) => l.startsWith('error:'))).toEqual(['error: ContainerNic "gone-x" not found']);
    // objects are separated by two blank lines, each section ending with its Events
    const sections = r.out.split(/\n\n\n/);
    expect(sections.find((t) => t.startsWith('Name:         nic-042\n'))).toMatch(/\nEvents:\n  TYPE\s+REASON\s+AGE\s+COUNT\s+FROM\s+MESSAGE\n  Normal\s+Attached\s+\S+\s+1\s+agent\/host-1\s+attached on node host-1 with 10\.64\.0\.42\n?$/);
    expect(sections.find((t) => t.startsWith('Name:         nic-041\n'))).toMatch(/\nEvents:       <none>\n?$/);
    // the objects (2 transactions), the reports' key listing, the status keys (3), the events'
    // listing, the kind's listing for gone-x: under 12; a listing of the events per object was 85
    expect(requests, `${requests} KV requests for one describe of ${asked.length} NAMEs`).toBeLessThanOrEqual(12);
  });

  it('get of several MacvlanNets: each has its own nodes\' parts joined', async () => {
    const nets = ['mv-a', 'mv-b'];
    await lab.store.applyAll(nets.map((n, i) => obj('MacvlanNet', n, { subnet: `10.9${i}.0.0/16`, gateway: `10.9${i}.0.1`, dockerIPAM: 'xnet' })));
    const keys = lab.store.keys;
    const put = (key: string, v: unknown) => lab.client.put(key).value(JSON.stringify(v));
    for (const [i, n] of nets.entries()) {
      await put(keys.status('MacvlanNet', n, { controller: true }), { observedGeneration: 1, nodes: [{ name: 'host-1' }, { name: 'host-2' }] });
      for (const [j, node] of ['host-1', 'host-2'].entries()) await put(keys.macvlanPart(node, n), { name: node, addresses: [`10.9${i}.0.${10 + j}`], ready: true });
    }
    const r = await lab.xctl(['get', 'macvlannet', 'mv-b', 'gone', 'mv-a', '-o', 'json']);
    expect(r.code).toBe(4);
    expect(r.err).toBe('error: MacvlanNet "gone" not found\n');
    const items = JSON.parse(r.out).items as Array<{ metadata: { name: string }; status: { nodes: Array<{ name: string; addresses?: string[] }> } }>;
    expect(items.map((o) => [o.metadata.name, o.status.nodes.map((e) => e.addresses)])).toEqual([
      ['mv-b', [['10.91.0.10'], ['10.91.0.11']]],
      ['mv-a', [['10.90.0.10'], ['10.90.0.11']]],
    ]);
  });
});
