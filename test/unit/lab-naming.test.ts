import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hostFor, MAX_HOSTS } from '../../pkg/lab/hosts.js';
import { checkLabId, defaultLabDir, labDirFor, DEFAULT_LAB_ID } from '../../pkg/lab/record.js';
import { hostExecArgv, hostEnv } from '../../pkg/lab/exec.js';
import { resizeHint, restartedLine } from '../../pkg/cli/commands/lab.js';

describe('lab naming and addressing', () => {
  const lab = { id: 'tabc123', dir: '/tmp/xnet-lab-tabc123' };

  it('derives a host\'s namespace, underlay address and Docker socket from its index', () => {
    const h = hostFor(lab, 2);
    expect(h).toMatchObject({
      name: 'host-2', netns: 'tabc123-host-2', netnsPath: '/var/run/netns/tabc123-host-2',
      address: '198.18.0.12', prefixLength: 24, iface: 'eth0',
      dockerHost: 'unix:///tmp/xnet-lab-tabc123/host-2/docker.sock',
    });
    expect(hostFor(lab, 1).address).toBe('198.18.0.11');
  });

  it('refuses host indexes outside the underlay', () => {
    for (const bad of [0, -1, 1.5, MAX_HOSTS + 1]) expect(() => hostFor(lab, bad), String(bad)).toThrow(/out of range/);
  });

  it('keeps test labs away from the user\'s lab and refuses ids that would break names', () => {
    expect(labDirFor('t1')).not.toBe(labDirFor(DEFAULT_LAB_ID));
    for (const bad of ['', 'Upper', '1abc', 'a-b', 'a'.repeat(17), '../x']) expect(() => checkLabId(bad), bad).toThrow(/not valid/);
    expect(() => checkLabId('xnet')).not.toThrow();
  });

  describe('the directory xctl lab uses', () => {
    afterEach(() => { vi.unstubAllEnvs(); });

    it('is the user\'s /var/lib/xnet-lab by default, and XNET_LAB_DIR when set', () => {
      vi.stubEnv('XNET_LAB_ID', undefined);
      vi.stubEnv('XNET_LAB_DIR', undefined);
      expect(defaultLabDir()).toBe('/var/lib/xnet-lab');
      vi.stubEnv('XNET_LAB_ID', 'u9');
      vi.stubEnv('XNET_LAB_DIR', '/tmp/somewhere');
      expect(defaultLabDir()).toBe('/tmp/somewhere');
    });

    it('of another XNET_LAB_ID alone is that lab\'s own, $TMPDIR/xnet-lab-<id>, not the user\'s lab\'s', () => {
      vi.stubEnv('XNET_LAB_DIR', undefined);
      vi.stubEnv('XNET_LAB_ID', 'u9');
      // else `XNET_LAB_ID=u9 xctl lab down` would take down the lab in /var/lib/xnet-lab
      expect(defaultLabDir()).toBe(join(tmpdir(), 'xnet-lab-u9'));
      expect(defaultLabDir()).toBe(labDirFor('u9'));
      vi.stubEnv('XNET_LAB_ID', DEFAULT_LAB_ID);
      expect(defaultLabDir()).toBe('/var/lib/xnet-lab');
    });
  });

  it('runs host commands through nsenter --net with that host\'s Docker daemon', () => {
    const h = hostFor(lab, 1);
    expect(hostExecArgv(h, ['ip', 'route'])).toEqual(['nsenter', '--net=/var/run/netns/tabc123-host-1', 'ip', 'route']);
    expect(hostEnv(h).DOCKER_HOST).toBe('unix:///tmp/xnet-lab-tabc123/host-1/docker.sock');
  });

  it('says --hosts does not resize a running lab only when the user gave another --hosts', () => {
    // `xctl lab up` on a 3-host lab: the default of 2 was not asked for
    expect(resizeHint(undefined, 3)).toBe('');
    expect(resizeHint(3, 3)).toBe('');
    expect(resizeHint(4, 3)).toBe(' (--hosts 4 does not resize it: `xctl lab down` first)');
  });

  it('says what up on a running lab started again, and a dockerd it found running and only recorded', () => {
    const hosts = ['host-1', 'host-2'];
    expect(restartedLine(hosts, [{ id: 'dockerd/host-2', pid: 7 }, { id: 'agent/host-1', pid: 8 }], ''))
      .toBe('lab already up: host-1, host-2; started again: dockerd/host-2, agent/host-1');
    expect(restartedLine(hosts, [{ id: 'dockerd/host-2', pid: 7, adopted: true }], ''))
      .toBe('lab already up: host-1, host-2; started again: nothing; found running and recorded: dockerd/host-2');
    expect(restartedLine(hosts, [{ id: 'agent/host-1', missing: '/x/xnet-agent.js' }], ''))
      .toBe('lab already up: host-1, host-2; started again: nothing (not built: npm run build)');
  });
});
