// The xnet-controller command refuses bad flags before touching etcd, with exit code 2 and a
// message that says what to fix (the etcd flags are the agent's and xctl's).
import { execa } from 'execa';
import { createServer, type Server, type Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';

// the built program, as a user runs it (the test command builds dist/ first)
const controller = (args: string[]) => execa(process.execPath, ['dist/cmd/xnet-controller.js', ...args], { reject: false });

describe('xnet-controller flags', () => {
  it.each([
    [['--workers', '0'], '--workers must be a positive integer'],
    [['--lease-ttl', 'soon'], '--lease-ttl must be a positive integer'],
    // its release marks live under an etcd lease of the cooldown: one etcd cannot grant is refused here
    [['--address-cooldown', 'Infinity'], '--address-cooldown must be a number of seconds from 0 to 86400'],
    [['--address-cooldown', '-1'], '--address-cooldown must be a number of seconds from 0 to 86400'],
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

describe('xnet-controller stopped while it starts', () => {
  // etcd that accepts connections and never answers (nothing of this host's is touched): the
  // controller is still loading its cache when SIGTERM comes, and the stop closes its client
  // under the start. That is a stop like any other: exit 0, no 'failed to start'.
  it('exits 0 on SIGTERM before its cache is loaded', async () => {
    const held: Socket[] = [];
    const silent: Server = createServer((s) => { held.push(s); s.on('error', () => undefined); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    let poll: NodeJS.Timeout | undefined;
    // not a finally: when the controller never connects, the wait below times the test out
    // unsettled, and the poll, the sockets and the server are ended here all the same
    onTestFinished(() => {
      clearInterval(poll);
      for (const s of held) s.destroy();
      silent.close();
    });
    const { port } = silent.address() as { port: number };
    const p = execa(process.execPath, ['dist/cmd/xnet-controller.js', '--endpoints', `http://127.0.0.1:${port}`], { reject: false, timeout: 40_000 });
    onTestFinished(() => { p.kill('SIGKILL'); });
    // it has connected to etcd: its signal handlers are in place, its start is under way
    await new Promise<void>((r) => { poll = setInterval(() => { if (held.length) { clearInterval(poll); r(); } }, 50); });
    await new Promise((r) => setTimeout(r, 500));
    p.kill('SIGTERM');
    const r = await p;
    expect(r.stderr).not.toContain('failed to start');
    expect(r.exitCode).toBe(0);
  });
});
