// The lab's hosts are real: namespaces on one L2 underlay, each with its own Docker daemon
// running the locally made busybox image, and `down` leaves nothing behind, even after a crash.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cgroupDirsOf } from '../harness/cgroups.js';
import { buildTestLab, useTestLab } from '../harness/lab.js';
import { rootNetChanges, rootNetState } from '../harness/root-netns.js';
import { destroyLab, labLeftovers, readRecord } from '../../pkg/lab/index.js';
import { pidsInNetns } from '../../pkg/lab/proc.js';

const argv0 = (pid: number) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]; } catch { return ''; } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rootLinkNames(): string[] {
  return (JSON.parse(execFileSync('ip', ['-json', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[]).map((l) => l.ifname);
}

describe('two lab hosts', () => {
  const lab = useTestLab({ hosts: 2 });

  test('reach each other over the underlay', async () => {
    const [h1, h2] = lab().hosts;
    expect(h1.address).toBe('198.18.0.11');
    expect(h2.address).toBe('198.18.0.12');
    expect((await lab().ping(h1, h2.address)).ok).toBe(true);
    expect((await lab().ping(h2, h1.address)).ok).toBe(true);
  });

  test('each host has eth0 with its address and a default route on the underlay', async () => {
    for (const h of lab().hosts) {
      const addr = await lab().exec(h, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'], { check: true });
      expect(addr.stdout).toContain(`${h.address}/24`);
      const route = await lab().exec(h, ['ip', 'route', 'show', 'default'], { check: true });
      expect(route.stdout).toContain('via 198.18.0.1 dev eth0');
    }
  });

  test('both Docker daemons run a container from xnet/busybox with applets in /bin', async () => {
    for (const h of lab().hosts) {
      const r = await lab().docker(h, ['run', '--rm', 'xnet/busybox:latest', 'sh', '-c', 'ls /bin/ping /bin/ip /bin/nc && echo ok-from-$0'], { check: true });
      expect(r.stdout).toContain('/bin/ping');
      expect(r.stdout).toContain('ok-from-sh');
    }
  });

  test('a container on one host reaches the other host, each daemon sees only its own containers', async () => {
    const [h1, h2] = lab().hosts;
    await lab().docker(h1, ['run', '-d', '--name', 'only-on-1', 'xnet/busybox:latest', 'sleep', '600'], { check: true });
    const r = await lab().docker(h1, ['exec', 'only-on-1', 'ping', '-c', '1', '-W', '2', h2.address]);
    expect(r.exitCode).toBe(0);
    expect((await lab().docker(h2, ['ps', '-q', '--filter', 'name=only-on-1'])).stdout).toBe('');
  });

  test("containerd's stack dump (dockerd asks for one before it kills a slow containerd) lands in the host's directory, not /tmp", async () => {
    const h = lab().host('host-1');
    const containerd = pidsInNetns(h.netnsPath).filter((pid) => /(^|\/)containerd$/.test(argv0(pid)));
    expect(containerd).toHaveLength(1);
    const name = `containerd.${containerd[0]}.stacks.log`;
    // SIGUSR1 is what dockerd sends: containerd writes the dump and keeps running
    process.kill(containerd[0], 'SIGUSR1');
    const inHost = join(h.dir, 'tmp', name);
    for (let i = 0; i < 50 && !existsSync(inHost); i++) await sleep(100);
    expect(existsSync(inHost)).toBe(true);
    expect(existsSync(join('/tmp', name))).toBe(false);
  });

  test('exec runs in the host namespace with DOCKER_HOST set', async () => {
    const h = lab().host('host-2');
    const r = await lab().exec(h, ['sh', '-c', 'echo $DOCKER_HOST; docker ps --format "{{.Names}}"'], { check: true });
    expect(r.stdout.split('\n')[0]).toBe(h.dockerHost);
  });
});

describe('down', () => {
  test('removes namespaces, processes, containers and mounts, even after dockerd was killed', async () => {
    const rootLinksBefore = rootLinkNames();
    const rootBefore = rootNetState();
    const keyJsonBefore = existsSync('/etc/docker/key.json');
    const tl = await buildTestLab({ hosts: 2 });
    const rec = readRecord(tl.lab.dir)!;
    try {
      for (const h of tl.hosts) await tl.docker(h, ['run', '-d', 'xnet/busybox:latest', 'sleep', '600'], { check: true });
      // the containers live in the host's cgroup (v1 hierarchies or the v2 tree): down must remove it
      for (const h of tl.hosts) expect(cgroupDirsOf(h.netns)).not.toEqual([]);
      // a crash: host-1's daemon dies without cleaning up its containers, shims and mounts
      const d1 = rec.processes.find((p) => p.id === 'dockerd/host-1')!;
      process.kill(d1.pid!, 'SIGKILL');
      expect((await labLeftovers(rec)).length).toBeGreaterThan(0);
      // no link of the lab ever appears in the root namespace, and two running Docker daemons
      // changed neither its iptables nor its forwarding sysctls
      expect(rootLinkNames().filter((n) => !rootLinksBefore.includes(n) && /^(host-\d+|br-underlay|eth0|docker0)$/.test(n))).toEqual([]);
      expect(rootNetChanges(rootBefore, rootNetState())).toEqual([]);
    } finally {
      await destroyLab(tl.lab.dir);
    }
    expect(await labLeftovers(rec)).toEqual([]);
    const netns = readdirSync('/var/run/netns');
    expect(netns.filter((n) => n.startsWith(`${tl.id}-`))).toEqual([]);
    for (const h of tl.hosts) expect(cgroupDirsOf(h.netns)).toEqual([]);
    expect(existsSync(tl.lab.dir)).toBe(false);
    expect(existsSync('/etc/docker/key.json')).toBe(keyJsonBefore);
    expect(rootNetChanges(rootBefore, rootNetState())).toEqual([]);
    // idempotent: a second down finds nothing to do and does not fail
    expect((await destroyLab(tl.lab.dir)).stopped).toEqual([]);
  }, 240_000);
});
