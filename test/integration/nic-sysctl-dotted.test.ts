// A NIC's ARP sysctls for an ifName with a dot (the schema allows `eth1.5`): sysctl reads dots
// as separators, so the keys are written with slashes (planner/nic.ts confKey). Run against a
// real kernel, in a network namespace of a process of this test's own (`unshare -n`), never the
// machine's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { NIC_ARP_SYSCTLS } from '../../pkg/agent/planner/nic.js';
import { pidTarget } from '../../pkg/netlink/target.js';
import { readSysctl, writeSysctls } from '../../pkg/netlink/iptables.js';
import { run } from '../../pkg/netlink/exec.js';

let holder: ChildProcess;
beforeAll(async () => {
  holder = spawn('unshare', ['-n', 'sleep', '120'], { stdio: 'ignore' });
  const pid = holder.pid!;
  // unshare execs sleep in the new namespace: wait until the PID's namespace is no longer ours
  const ours = (await run('readlink', ['/proc/self/ns/net'])).trim();
  for (let i = 0; i < 100 && (await run('readlink', [`/proc/${pid}/ns/net`]).catch(() => ours)).trim() === ours; i++) await new Promise((r) => setTimeout(r, 20));
  await run('nsenter', ['-t', String(pid), '-n', 'ip', 'link', 'add', 'eth1.5', 'type', 'veth', 'peer', 'name', 'p0']);
});
afterAll(() => { holder?.kill('SIGKILL'); });

describe('the ARP sysctls of a NIC named with a dot', () => {
  it('are written to that interface, not to conf/eth1/5', async () => {
    const t = pidTarget(holder.pid!);
    expect(await readSysctl(t, 'net/ipv4/conf/eth1.5/arp_ignore')).toBe('0');
    await writeSysctls(t, NIC_ARP_SYSCTLS('eth1.5'));
    expect(await readSysctl(t, 'net/ipv4/conf/eth1.5/arp_ignore')).toBe('1');
    expect(await readSysctl(t, 'net/ipv4/conf/eth1.5/arp_announce')).toBe('2');
    expect(await readSysctl(t, 'net/ipv4/conf/eth1.5/arp_notify')).toBe('1');
  });
});
