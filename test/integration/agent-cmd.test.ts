// The xnet-agent command refuses bad flags before touching anything, with exit code 2 and a
// message that says what to fix. Every case names a namespace of its own (or one that does not
// exist): a check that wrongly passed would start an agent, and it must never be on the root
// namespace. The flag checks run in this process (pkg/cli/agent-flags.ts, the code the program
// runs: each start of the built agent costs about half a CPU second); the built program shows
// their exit code 2 and message on stderr, the check of etcd's flags, the exit 1 on a journal it
// cannot read and the host name it takes.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentFlagsProblem, parseAgentFlags } from '../../pkg/cli/agent-flags.js';

// the built program, as a user runs it (the test command builds dist/ first)
const agent = (args: string[]) => execa(process.execPath, ['dist/cmd/xnet-agent.js', ...args], { reject: false, timeout: 60_000 });
/** Were a check to pass wrongly, the agent would start on nothing of this host's: no plugin, no etcd, no Docker. */
/** Why the agent's flag checks refuse `args`, run in this process (undefined: they pass). */
const refusal = (args: string[]) => {
  const { o, node, dockerTls } = parseAgentFlags(args, 'user');
  return agentFlagsProblem(o, node, dockerTls);
};
const NOWHERE = ['--no-ipam-plugin', '--endpoints', 'http://127.0.0.1:1', '--docker-host', 'unix:///nonexistent/docker.sock'];

describe('xnet-agent flags', () => {
  // Checks that come after the --netns check need a namespace that exists.
  const ns = `xnet-cmd-${randomBytes(3).toString('hex')}`;
  const missing = `xnet-missing-${randomBytes(3).toString('hex')}`;
  beforeAll(async () => { await execa('ip', ['netns', 'add', ns]); });
  afterAll(async () => { await execa('ip', ['netns', 'del', ns], { reject: false }); });

  // through the built program: a flag check's refusal, and etcd's flags (checked after them)
  it.each([
    [['--node', 'Bad_Name', '--netns', ns], 'xnet-agent: --node Bad_Name: must be a DNS-1123 label'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE, '--resync', 'Infinity'], 'xnet-agent: --resync: expected a positive number of seconds, at most 86400'],
    [['--node', 'host-1', '--netns', ns, '--endpoints', 'https://127.0.0.1:1', '--cert', '/nonexistent.pem'], '--cert/--key need --cacert'],
  ])('the program: %j -> exit 2', async (args, text) => {
    expect(args).toContain('--netns');
    const r = await agent(args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(text);
  });

  it('the program\'s flag checks pass flags that are good (in this process)', () => {
    expect(refusal(['--node', 'host-1', '--netns', ns, ...NOWHERE, '--resync', '86400', '--settle-grace', '0', '--external-quarantine', '0'])).toBeUndefined();
  });

  it.each([
    [['--node', 'Bad_Name', '--netns', ns], 'must be a DNS-1123 label'],
    [['--node', 'host-1', '--netns', missing], 'no such network namespace'],
    [['--node', 'host-1', '--netns', ns, '--docker-host', 'ftp://x'], 'expected unix:///path or tcp://host:port'],
    // Docker's API over plain TCP is root for anyone who reaches the port: refused, not tried
    [['--node', 'host-1', '--netns', ns, '--docker-host', 'tcp://127.0.0.1:2375'], 'without TLS gives root on this host to anyone who reaches the port; give --docker-tls-ca, --docker-tls-cert, --docker-tls-key'],
    [['--node', 'host-1', '--netns', ns, '--docker-host', 'tcp://127.0.0.1:2376', '--docker-tls-ca', '/x/ca.pem'], 'give --docker-tls-cert, --docker-tls-key'],
    [['--node', 'host-1', '--netns', ns, '--docker-host', 'tcp://127.0.0.1:2376', '--docker-tls-ca', '/nonexistent/ca.pem', '--docker-tls-cert', '/x', '--docker-tls-key', '/y'], '--docker-tls-ca /nonexistent/ca.pem: ENOENT'],
    [['--node', 'host-1', '--netns', ns, '--docker-tls-ca', '/x/ca.pem'], '--docker-tls-* apply to --docker-host tcp://host:port only'],
    [['--node', 'host-1', '--netns', ns, '--resync', 'often'], '--resync: expected a positive number of seconds'],
    // Node would run such a timer after 1 ms: a resync loop, not a safety net
    [['--node', 'host-1', '--netns', ns, ...NOWHERE, '--resync', '1e10'], '--resync: expected a positive number of seconds, at most 86400 (a day)'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE, '--resync', 'Infinity'], '--resync: expected a positive number of seconds, at most 86400'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE, '--resync', '86401'], '--resync: expected a positive number of seconds, at most 86400'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE, '--worker-budget', 'Infinity'], '--worker-budget: expected a positive number of seconds, at most 3600 (an hour)'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE, '--worker-budget', '1e10'], '--worker-budget: expected a positive number of seconds, at most 3600'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE, '--resync', '0'], '--resync: expected a positive number of seconds'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE, '--worker-budget', '0'], '--worker-budget: expected a positive number of seconds'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE, '--settle-grace', '-1'], '--settle-grace: expected a number of seconds from 0 to 3600 (an hour)'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE, '--settle-grace', '3601'], '--settle-grace: expected a number of seconds from 0 to 3600'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE, '--settle-grace', 'soon'], '--settle-grace: expected a number of seconds from 0 to 3600'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE, '--external-quarantine', '-1'], '--external-quarantine: expected a number of seconds from 0 to 86400 (a day)'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE, '--external-quarantine', '1e10'], '--external-quarantine: expected a number of seconds from 0 to 86400'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE, '--external-quarantine', 'later'], '--external-quarantine: expected a number of seconds from 0 to 86400'],
    // The plugin's name becomes its socket's file name under --plugin-dir: a name with a '/'
    // (or '..') would put a socket that Docker trusts elsewhere (docs/agent.md, the flags)
    [['--node', 'host-1', '--netns', ns, ...NOWHERE.slice(1), '--plugin-dir', '/nonexistent/plugins', '--ipam-plugin', '../escape'], '--ipam-plugin ../escape: expected lower-case letters'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE.slice(1), '--plugin-dir', '/nonexistent/plugins', '--ipam-plugin', 'Xnet'], '--ipam-plugin Xnet: expected lower-case letters'],
    [['--node', 'host-1', '--netns', ns, ...NOWHERE.slice(1), '--plugin-dir', '/nonexistent/plugins', '--ipam-plugin', 'x'.repeat(64)], `--ipam-plugin ${'x'.repeat(64)}: expected lower-case letters`],
  ])('%j -> refused (the program: exit 2)', (args, text) => {
    expect(args).toContain('--netns');
    expect(refusal(args)).toContain(text);
  });

  // Its own plugin directory, Docker socket and an etcd nobody serves: were the journal read
  // as empty, the agent would start there (and in its own namespace), not on this host's.
  it('refuses to start, exit 1, on an IPAM journal it cannot read (a directory: EISDIR), and leaves it as it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xnet-agent-journal-'));
    try {
      mkdirSync(join(dir, 'state', 'ipam-journal.json'), { recursive: true });
      const r = await execa(process.execPath, ['dist/cmd/xnet-agent.js', '--node', 'host-1', '--netns', ns, '--endpoints', 'http://127.0.0.1:1',
        '--docker-host', `unix://${join(dir, 'docker.sock')}`, '--plugin-dir', join(dir, 'plugins'), '--state-dir', join(dir, 'state')],
      { reject: false, timeout: 60_000 });
      expect(r.timedOut, 'the agent started instead of refusing').toBe(false);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/cannot read the IPAM journal .*ipam-journal\.json \(EISDIR/);
      expect(readdirSync(join(dir, 'state'))).toEqual(['ipam-journal.json']);
      expect(existsSync(join(dir, 'plugins', 'xnet.sock'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Without --node it takes the short host name, as its systemd unit (%l) and `xctl verify
  // --local` do (pkg/cli/node-name.ts). Run in a UTS namespace of its own, whose host name is
  // set to one whose short name is no Node name: the agent names it and stops (exit 2).
  it('without --node, takes the short host name (here refused: not a DNS-1123 label)', async () => {
    const script = 'hostname "$1" && shift && exec "$@"';
    const r = await execa('unshare', ['--uts', 'sh', '-c', script, 'sh', 'Host1.example.com', process.execPath, 'dist/cmd/xnet-agent.js', '--netns', ns, ...NOWHERE],
      { reject: false, timeout: 60_000 });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--node Host1 (the short host name: none given): must be a DNS-1123 label');
  });
});
