// Clean-up end to end: a lab in full use (containers, extra NICs, macvlan, agents) taken down
// with `xctl lab down` leaves no namespace, process, mount or cgroup of it behind.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { destroyLab, labDirFor, labLeftovers, readRecord, type LabRecord } from '../../pkg/lab/index.js';
import { run } from '../../pkg/lab/run.js';
import { randomLabId, xctlPath } from '../harness/lab.js';

const id = randomLabId('d');
const dir = labDirFor(id);
const env = { XNET_LAB_ID: id, XNET_LAB_DIR: dir, XCTL_ENDPOINTS: '' };
const xctl = (args: string[], input?: string) => run([process.execPath, xctlPath(), ...args], { env, reject: false, input, timeoutMs: 120_000 });
const exec = (host: string, argv: string[]) => xctl(['lab', 'exec', host, '--', ...argv]);

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

  test('a lab in use: containers, extra NICs, macvlan', async () => {
    const up = await xctl(['lab', 'up', '--hosts', '2']);
    expect(up.exitCode, up.stderr).toBe(0);
    rec = readRecord(dir)!;
    const applied = await xctl(['apply', '-f', 'manifests/examples/seed000.yaml', '-f', 'manifests/examples/seed002.yaml']);
    expect(applied.exitCode, applied.stderr).toBe(0);
    for (const h of ['host-1', 'host-2']) {
      const w = await xctl(['wait', 'hs', `default-${h}`, '--for', 'condition=Ready', '--timeout', '60s']);
      expect(w.exitCode, w.stderr).toBe(0);
      expect((await exec(h, ['docker', 'run', '-d', '--name', 'test', '--net', 'net1', 'xnet/busybox:latest', 'sleep', '1d'])).exitCode).toBe(0);
    }
    await xctl(['wait', 'mvn', 'macvlan200', '--for', 'condition=Ready', '--timeout', '60s']);
    await exec('host-1', ['docker', 'run', '-d', '--net', 'macvlan200', 'xnet/busybox:latest', 'sleep', '1d']);
    await xctl(['wait', 'nic', 'host-1-test-eth1', '--for', 'condition=Ready', '--timeout', '60s']);
    expect((await labLeftovers(rec)).length).toBeGreaterThan(0);
  }, 180_000);

  test('xctl lab down leaves no namespace, process, mount or cgroup', async () => {
    const down = await xctl(['lab', 'down']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await labLeftovers(rec)).toEqual([]);
    expect(readdirSync('/var/run/netns').filter((n) => n.startsWith(`${id}-`))).toEqual([]);
    expect(processesMentioning(dir)).toEqual([]);
    const mounts = await run(['findmnt', '-rn', '-o', 'TARGET']);
    expect(mounts.stdout.split('\n').filter((m) => m.startsWith(dir))).toEqual([]);
    for (const h of rec.hosts) expect(existsSync(`/sys/fs/cgroup/pids/${h.netns}`)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  }, 120_000);
});
