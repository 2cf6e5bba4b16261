// Every daemon of a lab serves metrics at the address `xctl lab status -o json` lists; the
// agents' endpoints show their ip/Docker calls and, after a route is deleted by hand, the
// drift they healed with its latency.
//
// Then, on the same lab, dockerIPAM blocks end to end: host-2's Docker accepts a `docker run --ip` of an address a
// container on host-1 holds in host-1's block (Docker checks --ip only against its own node's
// containers), so two hosts on one macvlan segment answer for it. xnet cannot refuse it; it
// names it: host-2's agent reports the address its container holds outside host-2's block, the
// controller lists the duplicate, and `xctl ipam check` and `xctl verify` exit 1 naming the
// address and both holders; a container made but not running that keeps the --ip address is
// named too (docs/api.md: stopped ones keep theirs). Once the containers are removed, both are
// clean again.
//
// One lab for both (each lab costs etcd with TLS and auth, a dockerd per host, controllers and
// agents): the duplicate's MacvlanNet and containers come after the metrics tests, which look at
// the ClusterNetwork mnet only, and the duplicate's checks name only its own address.
import { describe, expect, test } from 'vitest';
import { useTestLab } from '../harness/lab.js';
import { httpGet, sample, scrape } from '../harness/scrape.js';
import { apply, containerIp, expectLabVerifyClean, getObject, hostRoutes, labXctl, runContainer, waitFor, waitReady } from './helpers.js';

const CLUSTER = `
apiVersion: xnet.io/v1alpha1
kind: ClusterNetwork
metadata: {name: mnet}
spec: {cidr: 10.77.0.0/16, hostPrefix: 24}
`;

interface StatusJson {
  name: string;
  hosts: { name: string; agent: { pid: number | null; state: string; metrics: string | null } }[];
  processes: { name: string; state: string; metrics: string | null }[];
}

const lab = useTestLab({ hosts: 2, agents: true, controllers: 1 });

describe('metrics in the lab', () => {
  let status: StatusJson;

  test('lab status -o json lists a metrics address for the controller and every agent', async () => {
    const r = await labXctl(lab(), ['status', '-o', 'json']);
    expect(r.exitCode, r.stderr).toBe(0);
    status = JSON.parse(r.stdout);
    expect(status.name).toBe(lab().id);
    for (const h of status.hosts) expect(h.agent.metrics, h.name).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const daemons = status.processes.filter((p) => /^(controller|agent)\//.test(p.name));
    expect(daemons.map((p) => p.name).sort()).toEqual(['agent/host-1', 'agent/host-2', 'controller/1']);
    for (const p of daemons) expect(p.metrics, p.name).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  });

  test('each daemon answers /healthz, /readyz and /metrics', async () => {
    await apply(lab(), CLUSTER);
    for (const h of ['host-1', 'host-2']) await waitReady(lab(), 'hostsubnet', `mnet-${h}`);
    for (const p of status.processes.filter((x) => x.metrics)) {
      const base = p.metrics!.replace(/\/metrics$/, '');
      expect((await httpGet(`${base}/healthz`)).status, p.name).toBe(200);
      await waitFor(`${p.name} ready`, async () => (await httpGet(`${base}/readyz`)).status === 200);
      const text = await scrape(p.metrics!);
      expect(sample(text, 'xnet_reconcile_duration_seconds_count'), p.name).toBeGreaterThan(0);
      expect(sample(text, 'xnet_etcd_request_duration_seconds_count'), p.name).toBeGreaterThan(0);
    }
    const agent = await scrape(status.hosts.find((h) => h.name === 'host-1')!.agent.metrics!);
    expect(sample(agent, 'xnet_command_duration_seconds_count', { component: 'agent', node: 'host-1', command: 'ip' })).toBeGreaterThan(0);
    expect(sample(agent, 'xnet_docker_request_duration_seconds_count', { operation: 'list_networks' })).toBeGreaterThan(0);
    expect(sample(agent, 'xnet_workqueue_depth', { queue: 'agent' })).toBeGreaterThanOrEqual(0);
    // the controller's own series are not an agent's: a query over xnet_leader counted every agent as a standby
    expect(agent).not.toMatch(/^xnet_leader(_terms_total)?[ {]/m);
    const controller = await scrape(status.processes.find((p) => p.name === 'controller/1')!.metrics!);
    expect(sample(controller, 'xnet_leader')).toBe(1);
    expect(sample(controller, 'xnet_allocations_total', { kind: 'HostSubnet', result: 'allocated' })).toBeGreaterThanOrEqual(2);
  }, 180_000); // two Ready waits of up to 60 s each, as seed000's join step: two lab files run at once

  test('a route deleted by hand counts as drift healed, with its heal latency', async () => {
    const url = status.hosts.find((h) => h.name === 'host-1')!.agent.metrics!;
    const before = sample(await scrape(url), 'xnet_drift_healed_total', { kind: 'Route', trigger: 'kernel' }) ?? 0;
    const peer = (await getObject(lab(), 'hostsubnet', 'mnet-host-2')).status.subnet as string;
    await lab().exec('host-1', ['ip', 'route', 'del', peer], { check: true });
    await waitFor('route back', async () => (await hostRoutes(lab(), 'host-1')).some((r) => r.dst === peer), 20_000);
    const text = await waitFor('heal counted', async () => {
      const t = await scrape(url);
      return (sample(t, 'xnet_drift_healed_total', { kind: 'Route', trigger: 'kernel' }) ?? 0) > before ? t : undefined;
    }, 10_000);
    expect(sample(text.value, 'xnet_heal_latency_seconds_count', { kind: 'Route' })).toBeGreaterThanOrEqual(1);
    // ...and as an event the agent recorded under its own events subtree
    const ev = await waitFor('Healed event', async () => {
      const r = await lab().xctl(['get', 'events', '--for', 'node/host-1']);
      return /Normal\s+Healed\s+node\/host-1\s+\d+\s+agent\/host-1\s+repaired Route drift on node host-1/.test(r.stdout) ? r.stdout : undefined;
    }, 10_000, 500);
    expect(ev.value).toMatch(/\d+ ms after the kernel event/);
  });

  test('ends with xctl lab verify clean: every host holds what etcd declares', async () => {
    await expectLabVerifyClean(lab());
  }, 150_000);
});

const MACVLAN = `
apiVersion: xnet.io/v1alpha1
kind: MacvlanNet
metadata: {name: dupseg}
spec:
  subnet: 198.19.210.0/24
  gateway: 198.19.210.1
  ipRange: 198.19.210.128/25
  parent: eth0
  hostShim: true
  blockPrefix: 28
  dockerIPAM: blocks
`;

describe('an address of another host\'s block given by docker run --ip (dockerIPAM blocks)', () => {
  test('is named by xctl ipam check and xctl verify (exit 1), and no longer once the container is gone', async () => {
    for (const h of ['host-1', 'host-2']) await waitReady(lab(), 'node', h);
    await apply(lab(), MACVLAN);
    await waitReady(lab(), 'macvlannet', 'dupseg');
    await runContainer(lab(), 'host-1', 'first', 'dupseg');
    const taken = await containerIp(lab(), 'host-1', 'first', 'dupseg');
    const block = (await getObject(lab(), 'macvlannet', 'dupseg')).status.nodes.find((n: { name: string }) => n.name === 'host-1').dockerRange;
    const ok = await lab().xctl(['ipam', 'check']);
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);

    // host-2's Docker accepts it: it knows only host-2's containers
    await lab().docker('host-2', ['run', '-d', '--name', 'second', '--net', 'dupseg', '--ip', taken, 'xnet/busybox:latest', 'sleep', '1d'], { check: true });
    expect(await containerIp(lab(), 'host-2', 'second', 'dupseg')).toBe(taken);

    const said = `${taken} is held twice: container second on node host-2 and node host-1's Docker block ${block} (its Docker hands it out)`;
    const check = await waitFor('xctl ipam check naming the duplicate', async () => {
      const r = await lab().xctl(['ipam', 'check']);
      return r.exitCode === 1 && r.stdout.includes(said) ? r : undefined;
    }, 30_000, 500);
    expect(check.value.stdout).toContain(`macvlannet/dupseg ${said}`);
    const verify = await waitFor('xctl verify naming the duplicate', async () => {
      const r = await lab().xctl(['verify'], { timeoutMs: 60_000 });
      return r.exitCode === 1 && r.stdout.includes(said) ? r : undefined;
    }, 30_000, 1000);
    expect(verify.value.stdout).toMatch(/host-2\s+macvlannet\/dupseg/);

    // a container that is not running keeps its --ip address (it gets it back when it starts):
    // still held twice once the running one is gone
    await lab().docker('host-2', ['create', '--name', 'third', '--net', 'dupseg', '--ip', taken, 'xnet/busybox:latest', 'sleep', '1d'], { check: true });
    await lab().docker('host-2', ['rm', '-f', 'second'], { check: true });
    const kept = `${taken} is held twice: container third on node host-2 and node host-1's Docker block ${block}`;
    await waitFor('xctl ipam check naming the container not running', async () => {
      const r = await lab().xctl(['ipam', 'check']);
      return r.exitCode === 1 && r.stdout.includes(kept) ? r : undefined;
    }, 30_000, 500);

    await lab().docker('host-2', ['rm', '-f', 'third'], { check: true });
    await waitFor('xctl ipam check clean again', async () => ((await lab().xctl(['ipam', 'check'])).exitCode === 0 ? true : undefined), 30_000, 500);
  }, 300_000);
});
