// Least privilege in etcd (docs/security.md): `xctl auth` against a real etcd serving TLS with
// client-certificate auth, then what each identity may and may not write.
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runXctl } from '../../pkg/cli/program.js';
import { CertificateAuthority } from '../../pkg/auth/pki.js';
import { clusterIdentities, connectionAs, loopbackServerTls } from '../../pkg/auth/bootstrap.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { startEtcdServer, type EtcdServer } from '../../pkg/etcd/server.js';
import { Keys } from '../../pkg/store/keys.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { obj } from './helpers.js';

let dir: string;
let server: EtcdServer | undefined;
const clients: Etcd3[] = [];
const keys = new Keys();
const ca = () => new CertificateAuthority(join(dir, 'ca'));

async function xctl(...args: string[]) {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(['--endpoints', server!.endpoints[0], ...args], { out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => '', env: {} });
  return r;
}

function clientAs(id: { cert: string; key: string }, caCert = ca().caCert): Etcd3 {
  const c = createEtcdClient(connectionAs(server!.endpoints, caCert, id));
  clients.push(c);
  return c;
}

const denied = /PERMISSION_DENIED|permission denied/;
/** what `xctl auth add-node NAME --out DIR/NAME` wrote */
const node = (n: string) => ({ cert: join(dir, n, `node-${n}.pem`), key: join(dir, n, `node-${n}-key.pem`) });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xnet-auth-'));
  // an etcd that trusts the CA but has no users yet, as an operator's cluster before `auth init`
  const ids = await clusterIdentities(join(dir, 'ca'));
  server = await startEtcdServer({ dataDir: join(dir, 'etcd'), tls: await loopbackServerTls(ids) });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('xctl auth', () => {
  it('init creates the users and roles and enables auth; running it again changes nothing', async () => {
    const first = await xctl('auth', 'init', '--ca-dir', join(dir, 'ca'));
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toContain(`CA kept: ${join(dir, 'ca', 'ca.pem')}`);
    expect(first.out).toContain('etcd auth is enabled');
    const again = await xctl('auth', 'init', '--ca-dir', join(dir, 'ca'));
    expect(again.code).toBe(0);
    const root = clientAs(ca().identity('root'));
    expect((await root.auth.authEnable().then(() => root.getRoles())).map((r) => r.name).sort()).toEqual(['xnet-admin', 'xnet-controller']);
    expect((await root.getUsers()).map((u) => u.name).sort()).toEqual(['root', 'xnet-admin', 'xnet-controller']);
  });

  it('add-node issues a 0600 key and a certificate for node-NAME next to the CA certificate', async () => {
    for (const n of ['host-1', 'host-2']) {
      const r = await xctl('auth', 'add-node', n, '--ca-dir', join(dir, 'ca'), '--out', join(dir, n));
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      // what its role writes (roles.ts nodeRole): the observed-state report too
      expect(r.out).toContain(`user and role node-${n}: writes only its own status, heartbeat, events and observed-state keys`);
      expect(statSync(join(dir, n, `node-${n}-key.pem`)).mode & 0o777).toBe(0o600);
      expect(existsSync(join(dir, n, 'ca.pem'))).toBe(true);
      expect(existsSync(join(dir, n, 'ca-key.pem'))).toBe(false);
    }
    expect((await xctl('auth', 'add-node', 'Bad_Name', '--ca-dir', join(dir, 'ca'), '--out', join(dir, 'x'))).code).toBe(2);
  });

  // An upgrade that changes what an agent reads or writes (roles.ts) reaches the nodes' roles at
  // the next `init`, as deploy/README.md says: without it an older node role (here one without
  // the observed-state report, added later) stayed as it was until add-node ran again per node.
  it('init again brings every node role etcd holds to what roles.ts grants now', async () => {
    const root = clientAs(ca().identity('root'));
    const held = async (role: string) => ((await root.auth.roleGet({ role })).perm ?? [])
      .map((p) => `${p.permType}|${p.key?.toString()}|${p.range_end?.toString('hex')}`).sort();
    const want = await held('node-host-1');
    const stale = keys.nodeObserved('host-1');
    await root.auth.roleRevokePermission({ role: 'node-host-1', key: Buffer.from(stale), range_end: Buffer.alloc(0) });
    await root.auth.roleGrantPermission({ name: 'node-host-1', perm: { permType: 'Readwrite', key: Buffer.from(keys.election()), range_end: Buffer.alloc(0) } });
    expect(await held('node-host-1')).not.toEqual(want);
    const r = await xctl('auth', 'init', '--ca-dir', join(dir, 'ca'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('node roles brought up to date: node-host-1, node-host-2');
    expect(await held('node-host-1')).toEqual(want);
    expect(want.some((p) => p.includes(stale))).toBe(true);
    // the users' roles are untouched: no role is made for a node that has none
    expect((await root.getRoles()).map((x) => x.name).sort()).toEqual(['node-host-1', 'node-host-2', 'xnet-admin', 'xnet-controller']);
  });

  it('only root changes users and roles', async () => {
    const admin = ca().identity('xnet-admin');
    const r = await xctl('--cacert', ca().caCert, '--cert', admin.cert, '--key', admin.key, 'auth', 'remove-node', 'host-2');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/etcd refused the change: .*permission denied/);
  });
});

describe("a node's certificate reaches only that node's keys", () => {
  const others = () => [
    keys.object('Node', 'host-1'), keys.object('HostSubnet', 'default-host-1'), keys.object('ClusterNetwork', 'default'),
    keys.status('HostSubnet', 'default-host-1', { controller: true }),
    keys.status('Node', 'host-2', { node: 'host-2' }), keys.nodeLease('host-2'), keys.nodeEvents('host-2') + 'e1', keys.nodeObserved('host-2'),
    `${keys.ipam()}clusternetworks/default/10.76.1.0`, keys.election(),
    // names that share host-1's as a prefix are other nodes
    keys.status('Node', 'host-10', { node: 'host-10' }), keys.nodeLease('host-10'), keys.nodeObserved('host-10'), keys.nodeEvents('host-10') + 'e1',
    // its lease and observed report are single keys, not prefixes; its own index and its Node's
    // controller status are the controller's (the NICs' allocations, the accepted address)
    keys.nodeLease('host-1') + '/x', keys.nodeObserved('host-1') + '/x',
    keys.indexed('host-1', keys.status('ContainerNic', 'nic-1', { controller: true })), keys.indexed('host-1', keys.object('ContainerNic', 'nic-1')),
    keys.status('Node', 'host-1', { controller: true }),
    // its own part of a MacvlanNet (its pre-claims: the controller's alone) and a MacvlanNet's pool counts
    keys.macvlanPart('host-1', 'm'), keys.macvlanPool('m'),
  ];

  it('writes its own status, heartbeat, events and observed-state report keys', async () => {
    const c = clientAs(node('host-1'));
    for (const k of [keys.status('Node', 'host-1', { node: 'host-1' }), keys.nodeLease('host-1'), keys.nodeEvents('host-1') + 'e1', keys.nodeObserved('host-1')]) {
      await c.put(k).value('{}');
      expect(await c.get(k).string()).toBe('{}');
    }
    await c.delete().prefix(keys.nodeStatuses('host-1'));
    expect(await c.get(keys.status('Node', 'host-1', { node: 'host-1' })).string()).toBeNull();
  });

  it('is refused every write, new or overwrite, outside them; the keys stay as they were', async () => {
    const root = clientAs(ca().identity('root'));
    for (const k of others()) await root.put(k).value('before');
    const c = clientAs(node('host-1'));
    for (const k of [...others(), keys.object('Node', 'new-node'), `${keys.ipam()}macvlannets/m/192.168.200.9`]) {
      await expect(c.put(k).value('x'), k).rejects.toThrow(denied);
      await expect(c.delete().key(k), k).rejects.toThrow(denied);
    }
    for (const p of [`${keys.prefix}/`, keys.registry(), keys.nodeStatuses(), keys.objects(), keys.ipam(), `${keys.prefix}/leases/`]) {
      await expect(c.delete().prefix(p), p).rejects.toThrow(denied);
    }
    for (const k of others()) expect(await root.get(k).string(), k).toBe('before');
  });

  it('reads the registry it acts on, but not IPAM claims or the election', async () => {
    const c = clientAs(node('host-1'));
    expect(await c.get(keys.object('Node', 'host-1')).string()).toBe('before');
    await expect(c.get(keys.election()).string()).rejects.toThrow(denied);
    await expect(c.getAll().prefix(keys.ipam()).keys()).rejects.toThrow(denied);
  });

  it("watches what concerns it, and reads no other node's NICs, allocations or reports", async () => {
    const admin = createEtcdStore(clientAs(ca().identity('xnet-admin')));
    await admin.applyAll([obj('ContainerNic', 'nic-1', { node: 'host-1', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'default' } }),
      obj('ContainerNic', 'nic-2', { node: 'host-2', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'default' } })]);
    const mine = createEtcdStore(clientAs(node('host-1')));
    const view = mine.nodeView('host-1');
    await view.start();
    try {
      expect((await view.list('ContainerNic')).items.map((n) => n.metadata.name)).toEqual(['nic-1']);
    } finally { await view.close(); }
    // it reports on its own NIC (checked in its own index), not on another node's
    await mine.writeStatus('ContainerNic', 'nic-1', { node: 'host-1' }, { mac: '02:42:0a:4c:01:02' });
    await expect(mine.writeStatus('ContainerNic', 'nic-2', { node: 'host-1' }, {})).rejects.toThrow(/not found/);
    const c = clientAs(node('host-1'));
    for (const p of [keys.objects('ContainerNic'), keys.controllerStatuses('ContainerNic'), keys.nodeIndex('host-2'), keys.nodeStatuses('host-2'), keys.nodeIndex('host-10'), keys.macvlanPools()]) {
      await expect(c.getAll().prefix(p).keys(), p).rejects.toThrow(denied);
    }
  });

  it('the admin writes objects but no IPAM claim, lease or election key; the controller writes all', async () => {
    const admin = clientAs(ca().identity('xnet-admin'));
    await admin.put(keys.object('ClusterNetwork', 'default')).value('admin');
    for (const k of [`${keys.ipam()}clusternetworks/default/10.76.1.0`, keys.election(), keys.nodeLease('host-2')]) {
      await expect(admin.put(k).value('x'), k).rejects.toThrow(denied);
    }
    const controller = clientAs(ca().identity('xnet-controller'));
    for (const k of others()) await controller.put(k).value('controller');
  });
});

describe('who is not admitted at all', () => {
  it('a client without a certificate', async () => {
    const c = createEtcdClient({ endpoints: server!.endpoints, cacert: ca().caCert });
    clients.push(c);
    await expect(c.get(keys.object('Node', 'host-1')).string()).rejects.toThrow(/certificate|handshake|UNAVAILABLE|No connection/i);
  });

  it('a certificate of another CA, even with a known name', async () => {
    const other = new CertificateAuthority(join(dir, 'other-ca'));
    await other.ensure();
    const forged = await other.issue('xnet-controller');
    const c = clientAs(forged);
    await expect(c.get(keys.object('Node', 'host-1')).string()).rejects.toThrow(/certificate|handshake|UNAVAILABLE|No connection/i);
  });

  it('remove-node revokes the node: its certificate opens nothing any more', async () => {
    const c = clientAs(node('host-2'));
    await c.put(keys.nodeLease('host-2')).value('alive');
    const r = await xctl('auth', 'remove-node', 'host-2', '--ca-dir', join(dir, 'ca'));
    expect(r).toMatchObject({ code: 0, out: expect.stringContaining('node-host-2 removed') });
    await expect(c.put(keys.nodeLease('host-2')).value('x')).rejects.toThrow(/permission denied|user name not found|PERMISSION_DENIED/i);
    await expect(c.get(keys.object('Node', 'host-1')).string()).rejects.toThrow(/permission denied|PERMISSION_DENIED/i);
    expect((await xctl('auth', 'remove-node', 'host-2', '--ca-dir', join(dir, 'ca'))).code).toBe(4);
    // host-1 is untouched
    await clientAs(node('host-1')).put(keys.nodeLease('host-1')).value('still');
  });
});
