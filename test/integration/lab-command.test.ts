// `xctl lab up | status | exec | down` as a user runs them, under a lab id and directory of
// the test's own (XNET_LAB_ID, XNET_LAB_DIR) so a user's lab on the same machine is untouched.
//
// `lab up`, `lab down` and `lab exec`'s own cases run the built program (its exit code, the
// daemons it starts outliving it, exec's inherited stdio). `lab status` read in a wait, the
// commands that read the lab's etcd, `up` refused on a lab already up, exec refused without a
// lab and the down after a killed up run xctl's code in this process (`here`, `inLab`): about
// half a CPU second less each (docs/contributing.md). Set-up and
// probe steps in a lab host (a container run, `docker ps`) talk to its dockerd directly.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { clearDeadContainerd, destroyLab, hostDocker, labDirFor, labLeftovers, readRecord, type LabHost } from '../../pkg/lab/index.js';
import { PLUGIN_DIR } from '../../pkg/lab/down.js';
import { updateRecord } from '../../pkg/lab/record.js';
import { labProgramsMentioning } from '../../pkg/lab/proc.js';
import { run } from '../../pkg/lab/run.js';
import { randomLabId, xctlPath } from '../harness/lab.js';
import { xctlInTest } from '../harness/xctl-in-process.js';

const id = randomLabId('c');
const dir = labDirFor(id);
const env = { XNET_LAB_ID: id, XNET_LAB_DIR: dir, XCTL_ENDPOINTS: '' };
const xctl = (...args: string[]) => run([process.execPath, xctlPath(), ...args], { env, reject: false, timeoutMs: 120_000 });

/**
 * xctl's code in this process for the lab of `e`, as `xctl ARGS` with e's environment runs:
 * the lab commands read XNET_LAB_ID and XNET_LAB_DIR from process.env, set for the call only.
 */
async function inLab(e: typeof env, args: string[]) {
  const saved = { XNET_LAB_ID: process.env.XNET_LAB_ID, XNET_LAB_DIR: process.env.XNET_LAB_DIR };
  Object.assign(process.env, { XNET_LAB_ID: e.XNET_LAB_ID, XNET_LAB_DIR: e.XNET_LAB_DIR });
  try {
    return await xctlInTest(args, { env: { XCTL_ENDPOINTS: '' }, timeoutMs: 120_000 });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
const here = (...args: string[]) => inLab(env, args);
const host = (name: string): LabHost => readRecord(dir)!.hosts.find((h) => h.name === name)!;

afterAll(async () => {
  await destroyLab(dir);
}, 120_000);

describe('xctl lab', () => {
  test('status and exec without a lab say so', async () => {
    const st = await xctl('lab', 'status');
    expect(st.exitCode).toBe(1);
    expect(st.stderr).toContain('no lab is up');
    // (the program's exit 1 is the status above; exec refuses before it runs anything)
    expect((await here('lab', 'exec', 'host-1', '--', 'true')).exitCode).toBe(1);
  });

  // (one lab for both claims: a lab of its own for the stale record was a second build)
  test('up over the record of a lab that is gone (e.g. after a reboot) clears it and builds two hosts with dockerd, the image and agents', async () => {
    // what a reboot leaves: the record, with namespaces and processes long gone (a PID above
    // any pid_max, so no live process can match it)
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/lab.json`, JSON.stringify({
      version: 1, labId: id, dir, createdAt: '2026-01-01T00:00:00Z',
      netns: [`${id}-underlay`, `${id}-host-1`], hosts: [], cgroupParents: [],
      processes: [{ id: 'etcd', role: 'etcd', argv: ['etcd'], log: `${dir}/etcd.log`, pid: 4194304, startTime: 1 }],
    }));
    const r = await xctl('lab', 'up', '--hosts', '2');
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('clearing the record of a lab that is no longer running');
    expect(r.stdout).toContain(`host-1: 198.18.0.11 in namespace ${id}-host-1`);
    expect(r.stdout).toContain(`host-2: 198.18.0.12 in namespace ${id}-host-2`);
    expect(existsSync(`/var/run/netns/${id}-host-2`)).toBe(true);
    const again = await here('lab', 'up');
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('already up');
    expect(again.stderr).not.toContain('resize');
    // asked for another size, up says it did not make one (as when it starts a daemon again)
    const bigger = await here('lab', 'up', '--hosts', '3');
    expect(bigger.exitCode).toBe(1);
    expect(bigger.stderr).toContain('already up');
    expect(bigger.stderr).toContain('(--hosts 3 does not resize it: `xctl lab down` first)');
    expect(existsSync(`/var/run/netns/${id}-host-3`)).toBe(false);
  }, 120_000);

  test('status lists hosts and processes with their state', async () => {
    const r = await here('lab', 'status');
    expect(r.stdout).toMatch(/host-1\s+198\.18\.0\.11\s+\S+-host-1\s+running/);
    expect(r.exitCode, r.stderr).toBe(0);
    // every process of a lab just built is alive: a dead agent is a failure, not a state to accept
    for (const p of ['etcd', 'controller/1', 'controller/2', 'agent/host-1', 'agent/host-2']) {
      expect(r.stdout, p).toMatch(new RegExp(`^${p.replace('/', '\\/')}\\s+\\d+\\s+running`, 'm'));
    }
    expect(r.stdout).not.toMatch(/\b(dead|missing|not built)\b/);
  });

  test('status -o json names the TLS etcd, xctl\'s admin identity and each host\'s own certificate', async () => {
    const r = await here('lab', 'status', '-o', 'json');
    const st = JSON.parse(r.stdout);
    expect(st).toMatchObject({ name: id, dir });
    expect(st.etcd.endpoints[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const subject = async (cert: string) => (await run(['openssl', 'x509', '-in', cert, '-noout', '-subject'])).stdout;
    expect(await subject(st.etcd.admin.cert)).toMatch(/CN ?= ?xnet-admin$/);
    expect(st.hosts.map((h: { name: string }) => h.name)).toEqual(['host-1', 'host-2']);
    for (const h of st.hosts) {
      expect(h).toMatchObject({ namespace: `${id}-${h.name}`, docker: { state: 'running' }, agent: { state: 'running' } });
      expect(h.docker.host).toMatch(/^unix:\/\//);
      expect(h.agent.pid).toBeGreaterThan(0);
      expect(await subject(h.credentials.cert)).toMatch(new RegExp(`CN ?= ?node-${h.name}$`));
      expect(statSync(h.credentials.key).mode & 0o777).toBe(0o600);
    }
    const names = st.processes.map((p: { name: string }) => p.name);
    expect(names).toEqual(expect.arrayContaining(['etcd', 'controller/1', 'agent/host-1', 'dockerd/host-2']));
    expect(st.processes.find((p: { name: string }) => p.name === 'controller/1')).toMatchObject({ state: 'running', log: expect.stringContaining(dir) });
  });

  test('exec runs in the host with its Docker daemon and passes the exit code on', async () => {
    const ps = await xctl('lab', 'exec', 'host-1', '--', 'docker', 'images', '--format', '{{.Repository}}:{{.Tag}}');
    expect(ps.exitCode).toBe(0);
    expect(ps.stdout).toContain('xnet/busybox:latest');
    // host-2's address and a ping to host-1 from it, in one exec (one xctl process fewer)
    const addrPing = await xctl('lab', 'exec', 'host-2', '--', 'sh', '-c', 'ip -4 -o addr show dev eth0 && ping -c 1 -W 2 198.18.0.11');
    expect(addrPing.stdout).toContain('198.18.0.12/24');
    expect(addrPing.exitCode, addrPing.stderr).toBe(0);
    const fail = await xctl('lab', 'exec', 'host-1', '--', 'sh', '-c', 'exit 3');
    expect(fail.exitCode).toBe(3);
    expect(fail.stderr).toContain('sh -c exit 3 on host-1 exited with status 3');
    // a command a signal ended exits 128 (docs/lab.md), and the message says it was the signal
    const killed = await xctl('lab', 'exec', 'host-1', '--', 'sh', '-c', 'kill -TERM $$');
    expect(killed.exitCode).toBe(128);
    expect(killed.stderr).toContain('sh -c kill -TERM $$ on host-1 was ended by signal SIGTERM (exit 128)');
    expect((await here('lab', 'exec', 'host-9', '--', 'true')).stderr).toContain('no host host-9');
  }, 180_000);

  test('later xctl commands talk to the lab etcd without flags', async () => {
    let out = '';
    for (let i = 0; i < 60 && !/host-2/.test(out); i++) {
      const r = await here('get', 'nodes');
      out = r.stdout;
      if (!/host-2/.test(out)) await new Promise((res) => setTimeout(res, 500));
    }
    expect(out).toContain('host-1');
    expect(out).toContain('host-2');
  }, 60_000);

  // A new user's trial: with host-2's dockerd killed, `up` exited 1 ("which up does not start
  // again") and started nothing, not even a dead agent; starting dockerd by hand left `status`
  // saying dead (the recorded PID).
  test('up on a running lab starts a crashed dockerd again in its namespace with its pid recorded, and the agents; one that cannot start is named while the rest start', async () => {
    const st = async () => (await here('lab', 'status')).stdout;
    const gone = async (p: string) => { for (let i = 0; i < 50 && !new RegExp(`^${p.replace('/', '\\/')}\\s+\\d+\\s+dead`, 'm').test(await st()); i++) await new Promise((r) => setTimeout(r, 100)); };
    const entry = (p: string) => readRecord(dir)!.processes.find((e) => e.id === p)!;
    expect((await hostDocker(host('host-2'), ['run', '-d', '--name', 'keep', '--restart', 'always', 'xnet/busybox:latest', 'sleep', '100000'])).exitCode).toBe(0);
    const crashed = entry('dockerd/host-2');
    process.kill(crashed.pid!, 'SIGKILL');
    process.kill(entry('agent/host-1').pid!, 'SIGKILL');
    await gone('dockerd/host-2');
    await gone('agent/host-1');
    // a dockerd that cannot start (its socket's path a directory it cannot remove): named, the agent started all the same
    const sock = `${dir}/host-2/docker.sock`;
    rmSync(sock, { force: true });
    mkdirSync(sock);
    writeFileSync(`${sock}/x`, '');
    const partial = await xctl('lab', 'up');
    expect(partial.exitCode).toBe(1);
    expect(partial.stderr).toContain('dockerd/host-2 could not be started again: dockerd of host-2 exited during start-up');
    expect(partial.stderr).toContain('started again: agent/host-1');
    expect(await st()).toMatch(/^agent\/host-1\s+\d+\s+running/m);
    expect(await st()).toMatch(/^dockerd\/host-2\s+\d+\s+dead/m);
    rmSync(sock, { recursive: true, force: true });
    const r = await xctl('lab', 'up');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/lab already up: host-1, host-2; started again: dockerd\/host-2$/m);
    const now = entry('dockerd/host-2');
    expect(now.pid).not.toBe(crashed.pid);
    expect(now.argv, 'its recorded command line and data root').toEqual(crashed.argv);
    expect(statSync(`/proc/${now.pid}/ns/net`).ino, 'in host-2\'s namespace').toBe(statSync(`/var/run/netns/${id}-host-2`).ino);
    expect(await st()).toMatch(new RegExp(`^dockerd\\/host-2\\s+${now.pid}\\s+running`, 'm'));
    let ps = '';
    for (let i = 0; i < 50 && !/\bkeep\b/.test(ps); i++) {
      ps = (await hostDocker(host('host-2'), ['ps', '--format', '{{.Names}}'])).stdout;
      if (!/\bkeep\b/.test(ps)) await new Promise((res) => setTimeout(res, 200));
    }
    expect(ps, 'a container with --restart always is back').toMatch(/\bkeep\b/);
    // one started by hand with the recorded command line (the trial's workaround) is recorded, not started twice
    process.kill(now.pid!, 'SIGKILL');
    await gone('dockerd/host-2');
    rmSync(now.pidfile!, { force: true });
    // as a host's init would have reaped the dead daemon's containerd (see clearDeadContainerd)
    await clearDeadContainerd(readRecord(dir)!.hosts.find((h) => h.name === 'host-2')!);
    // typed as a user may type it: --pidfile=PATH, not the recorded two words
    const argv = now.argv.slice(1).flatMap((a, i, all) => (a === '--pidfile' ? [] : all[i - 1] === '--pidfile' ? [`--pidfile=${a}`] : [a]));
    expect(argv).toContain(`--pidfile=${now.pidfile}`);
    const byHand = spawn(now.argv[0], argv, { detached: true, stdio: 'ignore', env: { ...process.env, TMPDIR: `${dir}/host-2/tmp` } });
    byHand.unref();
    for (let i = 0; i < 60 && (await hostDocker(host('host-2'), ['version'])).exitCode !== 0; i++) await new Promise((res) => setTimeout(res, 200));
    const adopted = await xctl('lab', 'up');
    expect(adopted.exitCode, adopted.stderr).toBe(0);
    expect(adopted.stdout).toMatch(/started again: nothing; found running and recorded: dockerd\/host-2$/m);
    expect(entry('dockerd/host-2').pid).toBe(byHand.pid);
    expect(await st()).toMatch(new RegExp(`^dockerd\\/host-2\\s+${byHand.pid}\\s+running`, 'm'));
  }, 120_000);

  // A trial: `up` right after a dockerd got SIGTERM (still stopping its containers, not
  // answering) said "every process running", and the daemon then ended and stayed dead.
  test('up right after a dockerd was told to stop waits for it to end and starts it again', async () => {
    const before = readRecord(dir)!.processes.find((e) => e.id === 'dockerd/host-2')!;
    expect((await hostDocker(host('host-2'), ['version'])).exitCode).toBe(0);
    process.kill(before.pid!, 'SIGTERM');
    const r = await xctl('lab', 'up');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/started again: dockerd\/host-2/m);
    const now = readRecord(dir)!.processes.find((e) => e.id === 'dockerd/host-2')!;
    expect(now.pid).not.toBe(before.pid);
    expect((await hostDocker(host('host-2'), ['version'])).exitCode).toBe(0);
  }, 90_000);

  test('up on a running lab starts again the agent and controller that died, and nothing else', async () => {
    const rec = readRecord(dir)!;
    const agent = rec.processes.find((p) => p.id === 'agent/host-2')!;
    const controller = rec.processes.find((p) => p.id === 'controller/2')!;
    const etcdPid = rec.processes.find((p) => p.id === 'etcd')!.pid;
    process.kill(agent.pid!, 'SIGKILL');
    process.kill(controller.pid!, 'SIGKILL');
    // both gone before up looks (a killed process lingers until reaped by init)
    const st = async () => (await here('lab', 'status')).stdout;
    // both: the in-process status answers within milliseconds, before init reaped the second
    const bothDead = (s: string) => /^agent\/host-2\s+\d+\s+dead/m.test(s) && /^controller\/2\s+\d+\s+dead/m.test(s);
    for (let i = 0; i < 50 && !bothDead(await st()); i++) await new Promise((r) => setTimeout(r, 100));
    const before = await st();
    expect(before).toMatch(/^agent\/host-2\s+\d+\s+dead/m);
    expect(before).toMatch(/^controller\/2\s+\d+\s+dead/m);
    const r = await xctl('lab', 'up');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/lab already up: host-1, host-2; started again: (controller\/2, agent\/host-2|agent\/host-2, controller\/2)$/m);
    const after = readRecord(dir)!;
    const restarted = after.processes.find((p) => p.id === 'agent/host-2')!;
    expect(restarted.pid).not.toBe(agent.pid);
    // on a metrics port free now, recorded: what lab status lists answers
    let metrics = 0;
    for (let i = 0; i < 50 && metrics !== 200; i++) {
      metrics = await fetch(restarted.metrics!).then((res) => res.status, () => 0);
      if (metrics !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(metrics, restarted.metrics).toBe(200);
    expect(after.processes.find((p) => p.id === 'etcd')!.pid, 'etcd was running: left alone').toBe(etcdPid);
    const now = await st();
    for (const p of ['etcd', 'controller/1', 'controller/2', 'agent/host-1', 'agent/host-2']) expect(now, p).toMatch(new RegExp(`^${p.replace('/', '\\/')}\\s+\\d+\\s+running`, 'm'));
    // with everything running, up changes nothing and says so
    const again = await here('lab', 'up');
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('already up');
    // a daemon that ends at once is named with its log, not reported started
    const h1 = readRecord(dir)!.processes.find((p) => p.id === 'agent/host-1')!;
    updateRecord(dir, (rec) => { rec.processes.find((p) => p.id === 'agent/host-1')!.argv.push('--no-such-flag'); });
    process.kill(h1.pid!, 'SIGKILL');
    for (let i = 0; i < 50 && !/^agent\/host-1\s+\d+\s+dead/m.test(await st()); i++) await new Promise((r) => setTimeout(r, 100));
    const bad = await xctl('lab', 'up');
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain(`started again but ended at once: agent/host-1 (log ${h1.log})`);
    // etcd killed (or stopped to restore a backup): up starts it again on its data and ports,
    // first, and what died with it; the lab's state is still there and the programs reconnect
    updateRecord(dir, (rec) => { const a = rec.processes.find((p) => p.id === 'agent/host-1')!; a.argv = a.argv.filter((x) => x !== '--no-such-flag'); });
    const nodesBefore = (await here('get', 'nodes', '-o', 'name')).stdout;
    expect(nodesBefore).toContain('node/host-1');
    process.kill(etcdPid!, 'SIGKILL');
    for (let i = 0; i < 50 && !/^etcd\s+\d+\s+dead/m.test(await st()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await st()).toMatch(/^etcd\s+\d+\s+dead/m);
    const back = await xctl('lab', 'up');
    expect(back.exitCode, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/etcd was not running: started again on its data \(pid \d+\)$/m);
    expect(back.stdout).toMatch(/started again: etcd, agent\/host-1$/m);
    expect(readRecord(dir)!.processes.find((p) => p.id === 'etcd')!.pid).not.toBe(etcdPid);
    expect((await here('get', 'nodes', '-o', 'name')).stdout).toBe(nodesBefore);
    for (const p of ['etcd', 'controller/1', 'controller/2', 'agent/host-1', 'agent/host-2']) expect(await st(), p).toMatch(new RegExp(`^${p.replace('/', '\\/')}\\s+\\d+\\s+running`, 'm'));
  }, 90_000);

  test('down removes the lab and can run again', async () => {
    // agent/host-1 was killed above: its IPAM plugin socket is still there, down removes it
    const sockets = () => readdirSync(PLUGIN_DIR).filter((f) => f.startsWith(`xnet-${id}-`));
    expect(sockets()).toContain(`xnet-${id}-host-1.sock`);
    const r = await xctl('lab', 'down');
    expect(sockets()).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`lab ${id} removed`);
    expect(existsSync(`/var/run/netns/${id}-host-1`)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    const again = await here('lab', 'down');
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('nothing to remove');
  }, 120_000);
});

/** A lab of its own for one describe block, destroyed after it whatever happened. */
function scratchLab(prefix: string) {
  const id = randomLabId(prefix);
  const dir = labDirFor(id);
  afterAll(async () => { await destroyLab(dir); }, 120_000);
  return { id, dir, env: { XNET_LAB_ID: id, XNET_LAB_DIR: dir, XCTL_ENDPOINTS: '' } };
}

describe('xctl lab down after `up` was killed half way', () => {
  const { dir: cdir, env: cenv } = scratchLab('k');

  test('removes what the crashed run made, including processes it never recorded', async () => {
    const child = spawn(process.execPath, [xctlPath(), 'lab', 'up', '--hosts', '2'], { env: { ...process.env, ...cenv }, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    // kill it as soon as a Docker daemon of the lab is running (node alone can take 10 s to
    // start on a loaded machine: the bound is generous, the kill comes as soon as it can)
    for (let i = 0; i < 4800; i++) {
      const rec = readRecord(cdir);
      if (rec?.processes.some((p) => p.role === 'dockerd' && p.pid)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGKILL');
    await exited;
    const rec = readRecord(cdir)!;
    expect(rec.complete).toBeFalsy();
    const status = await inLab(cenv, ['lab', 'status']);
    expect(status.exitCode).toBe(1);
    expect(status.stdout).toContain('incomplete');

    // down's code in this process: what is claimed is what it removes (the program's down, its
    // exit code and message, is 'down removes the lab and can run again')
    const down = await inLab(cenv, ['lab', 'down']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await labLeftovers(rec)).toEqual([]);
    expect(labProgramsMentioning(cdir)).toEqual([]);
    expect(existsSync(cdir)).toBe(false);
  }, 240_000);
});
