// Clean-up end to end: a lab in full use (containers, extra NICs, macvlan, agents) taken down
// with `xctl lab down` leaves no namespace, process, mount or cgroup of it behind; and neither
// the lab nor its agents ever touch the machine's root network namespace (links, addresses,
// routes, rules, iptables, sysctls compared before, during and after; only read).
//
// `lab up`, `lab verify` and `lab down` run the built xctl; the lab is put in use by xctl's code
// in the test's process as the lab's admin (apply, wait) and by the hosts' dockerds (docker run
// against their sockets): what is in use is the claim here, not those programs' processes.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { destroyLab, hostDocker, labDirFor, labLeftovers, readRecord, type LabRecord } from '../../pkg/lab/index.js';
import { labTlsArgs } from '../../pkg/lab/auth.js';
import { isAlive } from '../../pkg/lab/proc.js';
import { run } from '../../pkg/lab/run.js';
import { cgroupDirsOf } from '../harness/cgroups.js';
import { randomLabId, xctlPath } from '../harness/lab.js';
import { rootNetChanges, rootNetState, type RootNetState } from '../harness/root-netns.js';
import { xctlInTest } from '../harness/xctl-in-process.js';

const id = randomLabId('d');
const dir = labDirFor(id);
const env = { XNET_LAB_ID: id, XNET_LAB_DIR: dir, XCTL_ENDPOINTS: '' };
const xctl = (args: string[], input?: string) => run([process.execPath, xctlPath(), ...args], { env, reject: false, input, timeoutMs: 120_000 });
/** xctl in this process as the lab's admin, against its etcd (as `xctl` with the lab up would) */
const admin = (rec: LabRecord, args: string[]) => xctlInTest(['--endpoints', rec.endpoints!.join(','), ...labTlsArgs(rec, rec.auth?.admin), ...args], { timeoutMs: 120_000 });
const docker = (rec: LabRecord, host: string, args: string[]) => hostDocker(rec.hosts.find((h) => h.name === host)!, args, { timeoutMs: 120_000 });
/** a step the test relies on: its exit code is checked, with its output as the message */
const ok = async (r: Promise<{ exitCode: number; stdout: string; stderr: string }>) => {
  const done = await r;
  expect(done.exitCode, `${done.stderr}${done.stdout}`).toBe(0);
  return done;
};
const mountsUnder = async (d: string) => (await run(['findmnt', '-rn', '-o', 'TARGET'])).stdout.split('\n').filter((m) => m.startsWith(d));

afterAll(async () => {
  await destroyLab(dir);
}, 120_000);

function processesMentioning(text: string): string[] {
  const out: string[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(text)) out.push(`${p}: ${cmd}`);
    } catch { /* gone */ }
  }
  return out;
}

describe('clean-up', () => {
  let rec: LabRecord;
  let rootBefore: RootNetState;

  test('a lab in use: containers, extra NICs, macvlan, with the root namespace untouched', async () => {
    rootBefore = rootNetState();
    await ok(xctl(['lab', 'up', '--hosts', '2']));
    rec = readRecord(dir)!;
    await ok(admin(rec, ['apply', '-f', 'manifests/examples/seed000.yaml', '-f', 'manifests/examples/seed002.yaml']));
    for (const h of ['host-1', 'host-2']) {
      await ok(admin(rec, ['wait', 'hs', `default-${h}`, '--for', 'condition=Ready', '--timeout', '60s']));
      await ok(docker(rec, h, ['run', '-d', '--name', 'test', '--net', 'net1', 'xnet/busybox:latest', 'sleep', '1d']));
    }
    await ok(admin(rec, ['wait', 'mvn', 'macvlan200', '--for', 'condition=Ready', '--timeout', '60s']));
    await ok(docker(rec, 'host-1', ['run', '-d', '--net', 'macvlan200', 'xnet/busybox:latest', 'sleep', '1d']));
    await ok(admin(rec, ['wait', 'nic', 'host-1-test-eth1', '--for', 'condition=Ready', '--timeout', '60s']));
    // Everything the next test expects gone is here now, found the way it will look for it.
    for (const ns of rec.netns) expect(existsSync(`/var/run/netns/${ns}`), ns).toBe(true);
    expect(readdirSync('/var/run/netns').filter((n) => n.startsWith(`${id}-`)).length).toBe(rec.netns.length);
    const live = rec.processes.filter((p) => p.pid && isAlive(p.pid, p.startTime));
    expect(new Set(live.map((p) => p.role))).toEqual(new Set(['etcd', 'controller', 'agent', 'dockerd']));
    expect(processesMentioning(dir).length).toBeGreaterThan(0);
    expect((await mountsUnder(dir)).length).toBeGreaterThan(0);
    for (const h of rec.hosts) expect(cgroupDirsOf(h.netns), `cgroup ${h.netns} (v1 or v2) holding the containers`).not.toEqual([]);
    // the lab in use verifies clean (retried: the NICs may still be converging)
    let v = await xctl(['lab', 'verify']);
    for (let i = 0; i < 30 && v.exitCode !== 0; i++) { await new Promise((r) => setTimeout(r, 2000)); v = await xctl(['lab', 'verify']); }
    expect(v.exitCode, `${v.stdout}${v.stderr}`).toBe(0);
    // agents, dockerds, bridges, macvlan parents and NICs all live in the lab's namespaces
    expect(rootNetChanges(rootBefore, rootNetState())).toEqual([]);
  }, 360_000);

  test('xctl lab down leaves no namespace, process, mount or cgroup', async () => {
    const down = await xctl(['lab', 'down']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await labLeftovers(rec)).toEqual([]);
    expect(readdirSync('/var/run/netns').filter((n) => n.startsWith(`${id}-`))).toEqual([]);
    expect(processesMentioning(dir)).toEqual([]);
    // a zombie is no process (this machine's PID 1 may not reap orphans): isAlive reads its state
    expect(rec.processes.filter((p) => p.pid && isAlive(p.pid, p.startTime)).map((p) => p.id)).toEqual([]);
    expect(await mountsUnder(dir)).toEqual([]);
    // cgroup v1 hierarchies and the v2 tree alike (Debian 12 mounts only v2)
    for (const h of rec.hosts) expect(cgroupDirsOf(h.netns)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(rootNetChanges(rootBefore, rootNetState())).toEqual([]);
  }, 120_000);
});
