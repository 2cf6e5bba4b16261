// How verify words the planner's ops as differences (pure; the lab e2e checks the real thing).
import { describe, expect, it } from 'vitest';
import { describeOp, formatDifferences } from '../../pkg/verify/verify.js';

describe('verify differences', () => {
  it('names what is missing and what should not be there', () => {
    expect(describeOp({ op: 'route.replace', dst: '10.76.2.0/24', via: '198.18.0.12' }))
      .toEqual({ what: 'route', expected: '10.76.2.0/24 via 198.18.0.12 proto 76', found: 'missing or different' });
    expect(describeOp({ op: 'route.del', dst: '10.76.9.0/24', via: '198.18.0.19', proto: '76' }))
      .toEqual({ what: 'route', expected: 'absent', found: '10.76.9.0/24 via 198.18.0.19 proto 76' });
    expect(describeOp({ op: 'addr.add', dev: 'eth1', cidr: '10.76.1.5/24', netns: { path: '/proc/1/fd/9', pid: 42 } }))
      .toEqual({ what: 'address (container pid 42)', expected: '10.76.1.5/24 on eth1', found: 'missing' });
    expect(describeOp({ op: 'link.set.promisc', name: 'eth0', on: true }).expected).toBe('link set eth0 promisc on');
    expect(describeOp({ op: 'docker.network.remove', name: 'old', id: 'old-id' })).toEqual({ what: 'docker network', expected: 'absent', found: 'old' });
  });

  // `xctl lab verify` showed `link set xt82211e12 netns /proc/7013/fd/22`: the path the op enters
  // the container through is the reading process's own fd, meaningless to a user
  it('names a container namespace by its container, or its PID, never by the path of an fd', () => {
    const into = { path: '/proc/7013/fd/22', pid: 4242 };
    const move = { op: 'link.set.netns', name: 'xt82211e12', into } as const;
    expect(describeOp(move)).toEqual({ what: 'link', expected: 'xt82211e12 in the namespace of container pid 4242', found: 'missing' });
    const named = new Map([[4242, 'web']]);
    expect(describeOp(move, named)).toEqual({ what: 'link', expected: 'xt82211e12 in the namespace of container web', found: 'missing' });
    expect(describeOp({ op: 'link.rename', name: 'xt82211e12', to: 'eth1', netns: into }, named)).toEqual({ what: 'link (container web)', expected: 'link set xt82211e12 name eth1', found: 'different' });
    expect(describeOp({ op: 'sysctl.set', values: { 'net.ipv4.conf.eth1.rp_filter': '0' }, netns: into }, named).what).toBe('sysctl (container web)');
    expect(JSON.stringify(describeOp(move, named))).not.toContain('/proc/');
  });

  it('prints one aligned line per difference under a header', () => {
    const text = formatDifferences([
      { host: 'host-1', what: 'route', expected: '10.76.2.0/24 via 198.18.0.12 proto 76', found: 'missing or different' },
      { host: 'host-10', what: 'docker network', expected: 'absent', found: 'old' },
    ]);
    expect(text.split('\n')).toEqual([
      'HOST      WHAT             EXPECTED                                FOUND',
      'host-1    route            10.76.2.0/24 via 198.18.0.12 proto 76   missing or different',
      'host-10   docker network   absent                                  old',
      '',
    ]);
  });
});
