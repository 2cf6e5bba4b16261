// Which `ip` failures mean the namespace it was to act on is gone (pkg/netlink/ip.ts): the
// agent then reports the container as not running instead of a kernel refusal. A host batch
// whose `route del` found its route already gone ("RTNETLINK answers: No such process", the
// kernel's ESRCH) was logged as "the container's network namespace went away".
import { describe, expect, it } from 'vitest';
import { namespaceGone } from '../../pkg/netlink/ip.js';

describe('namespaceGone', () => {
  it('is true when nsenter cannot enter the namespace', () => {
    expect(namespaceGone('nsenter: cannot open /proc/4242/ns/net: No such file or directory\n', undefined)).toBe(true);
    expect(namespaceGone("nsenter: reassociate to namespace 'ns/net' failed: Invalid argument\n", undefined)).toBe(true);
    expect(namespaceGone('Cannot open network namespace "x": No such file or directory\n', undefined)).toBe(true);
    expect(namespaceGone('nsenter: failed to execute ip: No such process\n', undefined)).toBe(true);
  });

  it('is true when a link is moved into the namespace of a PID that has exited', () => {
    const line = ['link', 'set', 'xv1a2b3c', 'netns', '4242'];
    expect(namespaceGone('RTNETLINK answers: No such process\nCommand failed -:3\n', line)).toBe(true);
  });

  it('is false for the kernel\'s "No such process" on any other line: an object already gone', () => {
    const del = ['route', 'del', '192.168.214.130/32', 'dev', 'xs-shrink', 'proto', '76'];
    expect(namespaceGone('RTNETLINK answers: No such process\nCommand failed -:11\n', del)).toBe(false);
    expect(namespaceGone('RTNETLINK answers: File exists\n', ['addr', 'add', '10.0.0.1/24', 'dev', 'x'])).toBe(false);
  });
});
