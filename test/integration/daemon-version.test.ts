// Every daemon answers -V/--version the same way (pkg/cli/daemon.ts, daemonCommand): its name
// and xnet's version on stdout, exit 0, before anything runs. xnet-controller had no such flag
// (exit 2, unknown option) while xnet-agent printed the bare number. The built programs, as a
// user runs them (the test command builds dist/ first).
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { XNET_VERSION } from '../../pkg/version.js';

/**
 * Were the flag not handled, each would go on to refuse what follows (exit 2) and never start:
 * the agent on a network namespace that does not exist, never this host's; the controller on
 * a TLS file that does not exist, before any connection.
 */
const rest: Record<string, string[]> = {
  'xnet-agent': ['--netns', `xnet-missing-${randomBytes(3).toString('hex')}`, '--no-ipam-plugin', '--endpoints', 'http://127.0.0.1:1', '--docker-host', 'unix:///nonexistent/docker.sock'],
  'xnet-controller': ['--endpoints', 'https://127.0.0.1:1', '--cacert', '/nonexistent-ca.pem'],
};

describe('daemons and --version', () => {
  it.each([
    ['xnet-agent', '--version'], ['xnet-agent', '-V'],
    ['xnet-controller', '--version'], ['xnet-controller', '-V'],
  ])('%s %s prints its name and version, exit 0', async (program, flag) => {
    const r = await execa(process.execPath, [`dist/cmd/${program}.js`, flag, ...rest[program]], { reject: false, timeout: 20_000 });
    expect({ code: r.exitCode, out: r.stdout, err: r.stderr }).toEqual({ code: 0, out: `${program} v${XNET_VERSION}`, err: '' });
  });

  it('says so in --help', async () => {
    for (const program of Object.keys(rest)) {
      const r = await execa(process.execPath, [`dist/cmd/${program}.js`, '--help'], { reject: false });
      expect(r.stdout, program).toMatch(/-V, --version +print the version and exit/);
    }
  });
});
