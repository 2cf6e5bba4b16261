// Least privilege on a running two-host lab (its etcd runs with TLS and auth like every lab):
// host-1's certificate cannot write any key that is not host-1's, and a node removed with
// `xctl auth remove-node` loses access while the rest of the cluster keeps working.
import type { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, test } from 'vitest';
import { tlsArgs } from '../../pkg/auth/bootstrap.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { Keys } from '../../pkg/store/keys.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { useTestLab } from '../harness/lab.js';
import { xctlInTest } from '../harness/xctl-in-process.js';
import { apply, expectLabVerifyClean, labXctl, waitFor, waitReady } from './helpers.js';

const CLUSTER = `
apiVersion: xnet.io/v1alpha1
kind: ClusterNetwork
metadata: {name: default}
spec: {cidr: 10.76.0.0/16, hostPrefix: 24, dockerNetwork: net1}
`;
const keys = new Keys();
const denied = /PERMISSION_DENIED|permission denied/;

describe('least privilege in the lab', () => {
  const lab = useTestLab({ hosts: 2, agents: true, controllers: 1 });
  const clients: Etcd3[] = [];
  const clientAs = (id: { cert: string; key: string }) => {
    const c = createEtcdClient({ endpoints: lab().endpoints(), cacert: lab().auth().ca, ...id });
    clients.push(c);
    return c;
  };
  afterAll(() => { for (const c of clients) c.close(); });

  test('the cluster runs under auth: both hosts get their subnet', async () => {
    await apply(lab(), CLUSTER);
    for (const h of ['host-1', 'host-2']) await waitReady(lab(), 'hostsubnet', `default-${h}`);
    // the ClusterNetwork's count too: the next test takes what etcd holds as settled, and the
    // controller writes that count after the HostSubnets it counts are Ready
    await waitFor('clusternetwork/default counts both blocks', async () => {
      const r = await lab().xctl(['get', 'cn', 'default', '-o', 'json']);
      return r.exitCode === 0 && (JSON.parse(r.stdout) as { status?: { allocated?: number } }).status?.allocated === 2;
    }, 60_000);
  }, 120_000);

  test("host-1's certificate is refused every key that is not host-1's, existing or new", async () => {
    const root = clientAs(lab().auth().root);
    const mine = (k: string) => k.startsWith(keys.nodeStatuses('host-1')) || k === keys.nodeLease('host-1') || k.startsWith(keys.nodeEvents('host-1')) || k === keys.nodeObserved('host-1');
    const existing = (await root.getAll().prefix(`${keys.prefix}/`).keys()).filter((k) => !mine(k));
    // what a running two-host lab holds: objects, statuses, IPAM claims, the election, host-2's keys
    for (const p of [keys.objects('Node'), keys.objects('HostSubnet'), keys.controllerStatuses('HostSubnet'), keys.ipam(), keys.election(), keys.nodeStatuses('host-2'), keys.nodeLease('host-2')]) {
      expect(existing.some((k) => k.startsWith(p)), p).toBe(true);
    }
    const fresh = [keys.object('ClusterNetwork', 'evil'), `${keys.ipam()}clusternetworks/default/10.76.9.0`, keys.election() + '/x', keys.status('Node', 'host-2', { node: 'host-2' }) + '-x', keys.nodeEvents('host-2') + 'e', keys.nodeObserved('host-3')];
    const before = new Map(await Promise.all(existing.map(async (k) => [k, await root.get(k).string()] as const)));
    const host1 = clientAs(lab().credentials('host-1'));
    for (const k of [...existing, ...fresh]) await expect(host1.put(k).value('{}'), k).rejects.toThrow(denied);
    for (const p of [`${keys.prefix}/`, keys.registry(), keys.nodeStatuses(), keys.nodeStatuses('host-2'), keys.ipam()]) {
      await expect(host1.delete().prefix(p), p).rejects.toThrow(denied);
    }
    // nothing changed, except keys the system itself rewrites meanwhile (heartbeats, leases,
    // host-2's report, the events host-2 and the controller record: a count goes up)
    const rewritten = (k: string) => k.includes('/leases/') || k.startsWith(keys.nodeStatuses('host-2')) || k === keys.nodeObserved('host-2') || k.startsWith(keys.events());
    for (const [k, v] of before) if (!rewritten(k)) expect(await root.get(k).string(), k).toBe(v);
    for (const k of fresh) expect(await root.get(k).string(), k).toBeNull();
    // its own status subtree takes writes
    await host1.put(keys.nodeStatuses('host-1') + 'probe/x').value('{}');
    await host1.delete().prefix(keys.nodeStatuses('host-1') + 'probe/');
  }, 120_000);

  test('remove-node host-2: its agent is refused and keeps retrying; host-1 and the controller go on', async () => {
    const root = lab().auth().root;
    // xctl's code in the test's process, as root: what the user runs (the built program is test/integration/xctl-bin.test.ts's)
    const r = await xctlInTest(['--endpoints', lab().endpoints().join(','), ...tlsArgs(lab().auth().ca, root), 'auth', 'remove-node', 'host-2']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    // read as root straight from etcd: an xctl process per poll is slow on a loaded machine
    const store = createEtcdStore(clientAs(lab().auth().root));
    const heartbeat = async (h: string) => (await store.get('Node', h))?.status?.lastHeartbeatTime as string | undefined;
    const h2 = await heartbeat('host-2');
    // the agent reports the refusal and retries (heartbeat every 5 s)
    await waitFor('host-2 agent reports permission denied twice', async () => (lab().agentLog('host-2', 200).match(/heartbeat failed.*permission denied/g) ?? []).length >= 2, 30_000, 500);
    expect(await heartbeat('host-2')).toBe(h2);
    const agent = (await labXctl(lab(), ['status', '-o', 'json'])).stdout;
    expect(JSON.parse(agent).hosts.find((h: { name: string }) => h.name === 'host-2').agent.state).toBe('running');
    await expect(clientAs(lab().credentials('host-2')).put(keys.nodeLease('host-2')).value('{}')).rejects.toThrow(denied);
    // host-1's agent goes on: its heartbeats (a read of its lease-bound report; a steady agent
    // writes nothing) are not refused, its Node stays Ready, and a new network still reaches it
    const heartbeatsBefore = (lab().agentLog('host-1', 100_000).match(/heartbeat failed/g) ?? []).length;
    await new Promise((r) => setTimeout(r, 11_000));
    expect((lab().agentLog('host-1', 100_000).match(/heartbeat failed/g) ?? []).length).toBe(heartbeatsBefore);
    expect((await store.get('Node', 'host-1'))?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    await apply(lab(), CLUSTER.replace('name: default', 'name: second').replace('10.76.0.0/16', '10.77.0.0/16').replace('net1', 'net2, bridgePrefix: bs'));
    await waitReady(lab(), 'hostsubnet', 'second-host-1', 90);
  }, 240_000);

  // host-2's agent makes nothing it cannot report: a HostSubnet's first report (which keeps its
  // block claimed) is written before its network is made, and host-2 may no longer write
  test('ends with xctl lab verify: host-1 clean with the new network; host-2 keeps what it had and lacks only the new one', async () => {
    await expectLabVerifyClean(lab(), ['--node', 'host-1']);
    // host-2 converges on the rest (its route to host-1's new subnet) from its open watch: polled
    const verifyHost2 = async () => {
      const v = await labXctl(lab(), ['verify', '--node', 'host-2']);
      const diffs = v.stdout.trim().split('\n').filter((l) => l.startsWith('host-2 '));
      const ok = v.exitCode === 1 && diffs.some((l) => /docker network\s+net2 bridge 10\.77\.\d+\.0\/24\s+missing/.test(l))
        && diffs.every((l) => /net2|bs\d+|second-host-2/.test(l));
      return { ok, text: `exit ${v.exitCode}\n${v.stdout}${v.stderr}` };
    };
    let last = { ok: false, text: '' };
    await waitFor('host-2 differs only by the network it cannot report', async () => (last = await verifyHost2()).ok, 60_000, 2000)
      .catch((e) => { throw new Error(`${(e as Error).message}\n${last.text}`); });
    const networks = (await lab().docker('host-2', ['network', 'ls', '--format', '{{.Name}}'], { check: true })).stdout.split('\n');
    expect(networks).toContain('net1');
    expect(networks).not.toContain('net2');
  }, 150_000);
});
