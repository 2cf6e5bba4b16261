// The xnet-controller command refuses bad flags before touching etcd, with exit code 2 and a
// message that says what to fix (the etcd flags are the agent's and xctl's).
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

// the built program, as a user runs it (the test command builds dist/ first)
const controller = (args: string[]) => execa(process.execPath, ['dist/cmd/xnet-controller.js', ...args], { reject: false });

describe('xnet-controller flags', () => {
  it.each([
    [['--workers', '0'], '--workers must be a positive integer'],
    [['--lease-ttl', 'soon'], '--lease-ttl must be a positive integer'],
    // commander's own refusals are usage errors too
    [['--no-such-flag'], "unknown option '--no-such-flag'"],
    [['--lease-ttl'], "option '--lease-ttl <seconds>' argument missing"],
    [['--metrics-addr', 'nowhere'], '--metrics-addr nowhere: expected host:port'],
    [['--endpoints', 'https://127.0.0.1:1', '--cert', '/nonexistent.pem'], '--cert/--key need --cacert'],
    [['--endpoints', 'https://127.0.0.1:1', '--cacert', '/nonexistent-ca.pem'], '--cacert /nonexistent-ca.pem'],
  ])('%j -> exit 2', async (args, text) => {
    const r = await controller(args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(text);
  });
});
