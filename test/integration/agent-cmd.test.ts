// The xnet-agent command refuses bad flags before touching anything, with exit code 2 and a
// message that says what to fix. Every case names a namespace of its own (or one that does not
// exist): a check that wrongly passed would start an agent, and it must never be on the root
// namespace.
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// the built program, as a user runs it (the test command builds dist/ first)
const agent = (args: string[]) => execa(process.execPath, ['dist/cmd/xnet-agent.js', ...args], { reject: false });

describe('xnet-agent flags', () => {
  // Checks that come after the --netns check need a namespace that exists.
  const ns = `xnet-cmd-${randomBytes(3).toString('hex')}`;
  const missing = `xnet-missing-${randomBytes(3).toString('hex')}`;
  beforeAll(async () => { await execa('ip', ['netns', 'add', ns]); });
  afterAll(async () => { await execa('ip', ['netns', 'del', ns], { reject: false }); });

  it.each([
    [['--node', 'Bad_Name', '--netns', ns], 'must be a DNS-1123 label'],
    [['--node', 'host-1', '--netns', missing], 'no such network namespace'],
    [['--node', 'host-1', '--netns', ns, '--docker-host', 'ftp://x'], 'expected unix:///path or tcp://host:port'],
    [['--node', 'host-1', '--netns', ns, '--endpoints', 'https://127.0.0.1:1', '--cert', '/nonexistent.pem'], '--cert/--key need --cacert'],
    // Docker's API over plain TCP is root for anyone who reaches the port: refused, not tried
    [['--node', 'host-1', '--netns', ns, '--docker-host', 'tcp://127.0.0.1:2375'], 'without TLS gives root on this host to anyone who reaches the port; give --docker-tls-ca, --docker-tls-cert, --docker-tls-key'],
    [['--node', 'host-1', '--netns', ns, '--docker-host', 'tcp://127.0.0.1:2376', '--docker-tls-ca', '/x/ca.pem'], 'give --docker-tls-cert, --docker-tls-key'],
    [['--node', 'host-1', '--netns', ns, '--docker-host', 'tcp://127.0.0.1:2376', '--docker-tls-ca', '/nonexistent/ca.pem', '--docker-tls-cert', '/x', '--docker-tls-key', '/y'], '--docker-tls-ca /nonexistent/ca.pem: ENOENT'],
    [['--node', 'host-1', '--netns', ns, '--docker-tls-ca', '/x/ca.pem'], '--docker-tls-* apply to --docker-host tcp://host:port only'],
    [['--node', 'host-1', '--netns', ns, '--resync', 'often'], '--resync: expected a positive number of seconds'],
  ])('%j -> exit 2', async (args, text) => {
    expect(args).toContain('--netns');
    const r = await agent(args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(text);
  });

  it('requires --node', async () => {
    const r = await agent(['--netns', ns]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--node');
  });
});
