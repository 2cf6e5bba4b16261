// Where the agent looks for a restarted container's previous namespace: nsfs mounts read from
// /proc/self/mountinfo (a crashed dockerd's sandbox bind mounts among them).
import { describe, expect, it } from 'vitest';
import { nsfsMounts } from '../../pkg/agent/stale-nic.js';

describe('nsfsMounts', () => {
  it('lists the mount points of nsfs mounts only, escapes decoded', () => {
    const mountinfo = [
      '25 1 0:23 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
      '612 30 0:4 net:[4026532398] /tmp/lab/host-1/exec/netns/a9a6c1e8beba rw shared:300 - nsfs nsfs rw',
      '613 30 0:4 net:[4026532400] /run/docker\\040root/netns/ff01 rw - nsfs nsfs rw',
      '614 30 0:4 net:[4026532401] /var/run/netns/lab-host-2 rw shared:301 - nsfs nsfs rw',
      '80 25 0:45 / /tmp rw,relatime - tmpfs tmpfs rw',
      '',
    ].join('\n');
    expect(nsfsMounts(mountinfo)).toEqual(['/tmp/lab/host-1/exec/netns/a9a6c1e8beba', '/run/docker root/netns/ff01', '/var/run/netns/lab-host-2']);
  });

  it('finds nothing in an empty or unreadable mountinfo', () => {
    expect(nsfsMounts('')).toEqual([]);
  });
});
